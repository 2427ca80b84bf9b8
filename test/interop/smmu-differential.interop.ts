// Interop tier (SMMUv3): the same stream tables, CDs, page tables and commands are programmed into
// QEMU (`virt,iommu=smmuv3`, an `edu` device driven over qtest; 7.2 and 10.0) and into our SmmuV3
// with the peer's feature profile (`qemu-7.2`, `qemu-10.0`); edu DMAs, and where the data landed
// and the event records must agree. QEMU's departures from the architecture are named exceptions,
// listed per peer (lib/qemu-departures.ts, lib/peers.ts): our model must then show the architected
// outcome, and a departure a peer no longer shows fails the test. Stage-2 and nested scenarios
// (lib/s2-scenarios.ts) run on the peers that implement them. See docs/interop.md.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applicableDepartures, departureDoc, runDifferential } from './lib/differential.js';
import { PEERS } from './lib/peers.js';
import { S2_SCENARIOS } from './lib/s2-scenarios.js';
import { SMMU_SCENARIOS } from './lib/smmu-scenarios.js';

for (const peer of PEERS) {
  describe(`SMMUv3 differential: ${peer.title} vs our model (${peer.smmuProfile} profile)`, { timeout: 300_000 }, () => {
    for (const s of [...SMMU_SCENARIOS, ...S2_SCENARIOS].filter((x) => !x.peers || x.peers.includes(peer.id))) {
      test(s.name, async (t) => {
        const r = await runDifferential(s, peer);
        for (const id of r.departuresSeen) t.diagnostic(`QEMU departure: ${departureDoc(id)}`);
        assert.ok(r.qemu.length > 0 && r.qemu.length === r.model.length && r.qemu.length === r.platform.length, 'every machine recorded the same observations');
        assert.deepEqual(r.mismatches, []);
        for (const dep of applicableDepartures(s, peer.departures, peer.id)) {
          assert.ok(r.departuresSeen.includes(dep.id), `departure ${dep.id} did not show: ${peer.title} now behaves architecturally?`);
        }
      });
    }
  });
}
