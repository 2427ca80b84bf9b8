// Interop tier (ITS and MSIs): ITS tables and commands and edu MSIs, with the SMMU bypassing or
// translating the MSI write, programmed identically into QEMU (`its=on`, qtest; 7.2 and 10.0) and
// into our GicIts / GicV3 redistributors (the peer's ITS profile) and SmmuV3 (its SMMU profile);
// the LPI pending bits in the guest's pending tables, GITS_CREADR and the SMMU event records must
// agree. See docs/interop.md.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applicableDepartures, departureDoc, runDifferential } from './lib/differential.js';
import { ITS_SCENARIOS } from './lib/its-scenarios.js';
import { PEERS } from './lib/peers.js';

for (const peer of PEERS) {
  describe(`GICv3 ITS differential: ${peer.title} vs our model (${peer.itsProfile} ITS profile)`, { timeout: 300_000 }, () => {
    for (const s of ITS_SCENARIOS.filter((x) => !x.peers || x.peers.includes(peer.id))) {
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
