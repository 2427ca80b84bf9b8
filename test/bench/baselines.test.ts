// The benchmark's minimal implementations give the answers the model gives on the bench fixture:
// a baseline that did less than the operation it stands for would flatter nothing but itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MinimalSmmuHit, MinimalSmmuWalk, MinimalTlb } from '../../bench/baselines.js';
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

/** Guest-physical address of the level-3 descriptor of `iova` in the fixture's tables. */
function leafAt(f: ReturnType<typeof buildFixture>, iova: number): number {
  const tmp = { lo: 0, hi: 0 };
  let table = f.pgd;
  for (let level = 0; level < 3; level++) {
    assert.ok(f.mem.read64(table + (Math.floor(iova / 2 ** (39 - 9 * level)) % 512) * 8, tmp));
    table = (tmp.hi & 0xffff) * 2 ** 32 + ((tmp.lo & ~0xfff) >>> 0);
  }
  return table + (Math.floor(iova / 4096) % 512) * 8;
}

test('MinimalSmmuWalk translates what the model translates with caches disabled, and faults or declines where it must', () => {
  const streams = 4;
  const f = buildFixture({ pages: 2048, streams, layout: 'sparse', cachesEnabled: false });
  const m = new MinimalSmmuWalk(f.ram, f.ramBase, f.strtab, streams);
  const res = newResult();
  const r = rng(9);
  const tmp = { lo: 0, hi: 0 };
  for (let k = 0; k < 400; k++) {
    const p = Math.floor(r() * f.iovas.length);
    const sid = Math.floor(r() * streams); // every stream maps every page (one shared table)
    const iova = f.iovas[p]! + Math.floor(r() * 4096);
    const lo = iova | 0;
    const hi = Math.floor(iova / 2 ** 32);
    const write = r() < 0.5;
    assert.ok(f.smmu.translator.translateAddress(sid, null, iova, write, res));
    assert.equal(m.lookup(sid, lo, hi, write), 12);
    assert.equal(m.pa, res.pa);
    assert.equal(m.lookupHeldConfig(sid, lo, hi, write), 12);
    assert.equal(m.pa, res.pa);
    // Beyond TTB0's 48-bit input range: both fault.
    assert.equal(f.smmu.translator.translateAddress(sid, null, iova + 2 ** 48, write, res), false);
    assert.equal(m.lookup(sid, lo, hi + 0x1_0000, write), -1);
    // A leaf changed in memory: without caches both see it at once.
    const leaf = leafAt(f, iova);
    assert.ok(f.mem.read64(leaf, tmp));
    const { lo: dlo, hi: dhi } = tmp;
    const bad = [dlo & ~1, dlo & ~0x400, write ? dlo | 0x80 : dlo & ~0x40, dlo & ~2][k % 4]!; // invalid, AF clear, AP[2] on a write / AP[1] clear, a block at level 3
    f.mem.write64(leaf, bad >>> 0, dhi >>> 0);
    assert.equal(f.smmu.translator.translateAddress(sid, null, iova, write, res), false);
    assert.equal(m.lookup(sid, lo, hi, write), -1);
    f.mem.write64(leaf, dlo >>> 0, dhi >>> 0);
    // A changed STE or CD word is seen too: the model decodes it again, the minimal walk declines.
    const at = k % 2 === 0 ? f.strtab + sid * 64 + 8 * (k % 4) + 4 : null;
    const addr = at ?? (() => {
      assert.ok(f.mem.read64(f.strtab + sid * 64, tmp));
      return (tmp.hi & 0xfffff) * 2 ** 32 + ((tmp.lo & ~63) >>> 0) + 24; // the CD's MAIR
    })();
    assert.ok(f.mem.read64(addr, tmp));
    const { lo: wlo, hi: whi } = tmp;
    f.mem.write64(addr, wlo >>> 0, (whi ^ (at === null ? 0x100 : 0x4000)) >>> 0);
    assert.equal(m.lookup(sid, lo, hi, write), -1);
    f.mem.write64(addr, wlo >>> 0, whi >>> 0);
    assert.equal(m.lookup(sid, lo, hi, write), 12);
  }
});
