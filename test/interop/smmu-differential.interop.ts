// Interop tier, issue 8 part 1 (SMMUv3): the same stream tables, CDs, page tables and commands are
// programmed into QEMU 7.2 (`virt,iommu=smmuv3`, an `edu` device driven over qtest) and into our
// SmmuV3 with the `qemu-7.2` feature profile; edu DMAs, and where the data landed and the event
// records must agree. QEMU's departures from the architecture are named exceptions
// (lib/qemu-departures.ts): our model must then show the architected outcome. See docs/interop.md.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { departureDoc, runDifferential } from './lib/differential.js';
import { SMMU_SCENARIOS } from './lib/smmu-scenarios.js';

describe('SMMUv3 differential: QEMU 7.2 vs our model (qemu-7.2 profile)', { timeout: 300_000 }, () => {
  for (const s of SMMU_SCENARIOS) {
    test(s.name, async (t) => {
      const r = await runDifferential(s);
      for (const id of r.departuresSeen) t.diagnostic(`QEMU departure: ${departureDoc(id)}`);
      assert.ok(r.qemu.length > 0 && r.qemu.length === r.model.length && r.qemu.length === r.platform.length, 'every machine recorded the same observations');
      assert.deepEqual(r.mismatches, []);
      for (const dep of s.departures ?? []) assert.ok(r.departuresSeen.includes(dep.id), `departure ${dep.id} did not show: QEMU now behaves architecturally?`);
    });
  }
});
