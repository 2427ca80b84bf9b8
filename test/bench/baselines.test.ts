// The benchmark's minimal implementations give the answers the model gives on the bench fixture:
// a baseline that did less than the operation it stands for would flatter nothing but itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MinimalSmmuHit, MinimalTlb } from '../../bench/baselines.js';
import { buildFixture, rng } from '../../bench/fixture.js';
import { newResult } from '../../src/smmu/translation/types.js';

test('MinimalSmmuHit and MinimalTlb translate what the model translates, and MinimalSmmuHit hits only under the stream tag and inside its range', () => {
  const streams = 4;
  const f = buildFixture({ pages: 2048, streams, layout: 'sparse', cachesEnabled: true });
  const hit = new MinimalSmmuHit(streams, f.iovas, f.pas, (p) => p % streams);
  const tlb = new MinimalTlb(f.iovas, f.pas);
  const res = newResult();
  const r = rng(5);
  for (let k = 0; k < 2000; k++) {
    const p = Math.floor(r() * f.iovas.length);
    const sid = p % streams;
    const iova = f.iovas[p]! + Math.floor(r() * 4096);
    const lo = iova | 0;
    const hi = Math.floor(iova / 2 ** 32);
    assert.ok(f.smmu.translator.translateAddress(sid, null, iova, true, res));
    assert.equal(hit.lookup(sid, lo, hi, true), 12);
    assert.equal(hit.pa, res.pa);
    assert.equal(tlb.lookup(iova), res.pa);
    // The entry is tagged with its stream's ASID: another stream (its own CD and ASID) does not hit it.
    assert.equal(hit.lookup((sid + 1) % streams, lo, hi, true), -1);
    // Outside TTB0's 48-bit range (bit 52: the slot keeps page index bits up to 51 only, so the range check must refuse it).
    assert.equal(f.smmu.translator.translateAddress(sid, null, iova + 2 ** 52, true, res), false);
    assert.equal(hit.lookup(sid, lo, hi + 0x10_0000, true), -1);
  }
});
