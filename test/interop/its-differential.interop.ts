// Interop tier, issue 8 part 1 (ITS and MSIs): ITS tables and commands and edu MSIs, with the SMMU
// bypassing or translating the MSI write, programmed identically into QEMU 7.2 (`its=on`, qtest)
// and into our GicIts / GicV3 redistributors (profile `qemu-7.2`) and SmmuV3; the LPI pending bits
// in the guest's pending tables, GITS_CREADR and the SMMU event records must agree. See
// docs/interop.md.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { departureDoc, runDifferential } from './lib/differential.js';
import { ITS_SCENARIOS } from './lib/its-scenarios.js';

describe('GICv3 ITS differential: QEMU 7.2 vs our model (qemu-7.2 profile)', { timeout: 300_000 }, () => {
  for (const s of ITS_SCENARIOS) {
    test(s.name, async (t) => {
      const r = await runDifferential(s);
      for (const id of r.departuresSeen) t.diagnostic(`QEMU departure: ${departureDoc(id)}`);
      assert.ok(r.qemu.length > 0 && r.qemu.length === r.model.length && r.qemu.length === r.platform.length, 'every machine recorded the same observations');
      assert.deepEqual(r.mismatches, []);
    });
  }
});
