// Cross-checks the benchmark fixture (bench/fixture.ts writes descriptors with plain numbers for
// speed) against the spec encoders used by the Linux-domain test fixture, and checks that every
// mapped page translates to its PA through the device's translation engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildFixture } from '../../bench/fixture.js';
import { encodeS1Leaf, encodeS2Leaf, encodeTable } from '../../src/spec/smmuv3/pagetable.js';
import { encodeSte } from '../../src/spec/smmuv3/ste.js';
import { newRequest, newResult, setAddress } from '../../src/smmu/translation/types.js';
import { DomainBuilder } from './linux-domain.js';

test('bench fixture writes Linux-encoded STEs, CDs and page tables that translate', () => {
  const f = buildFixture({ pages: 300, streams: 3, layout: 'sparse', cachesEnabled: false, seed: 99 });
  const b = new DomainBuilder(f.mem, 0, 1);
  const strtab = Number(f.smmu.register('STRTAB_BASE') & 0x000f_ffff_ffff_ffc0n);
  for (let sid = 0; sid < 3; sid++) {
    const ste = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => b.read64(strtab + sid * 64 + 8 * i));
    const cd = Number(ste[0]! & 0x000f_ffff_ffff_ffc0n);
    assert.deepEqual(ste, b.s1Ste(cd));
    const cdWords = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => b.read64(cd + 8 * i));
    assert.deepEqual(cdWords, b.linuxCd(1 + sid, f.pgd, 5));
  }
  const req = newRequest();
  const res = newResult();
  for (let i = 0; i < 300; i++) {
    // Walk by hand: table descriptors are encodeTable(next), the leaf is encodeS1Leaf(pa) | 0xF47.
    let table = f.pgd;
    for (let level = 0; level < 3; level++) {
      const d = b.read64(table + (Math.floor(f.iovas[i]! / 2 ** (39 - 9 * level)) % 512) * 8);
      assert.equal(d, encodeTable(d & 0x0000_ffff_ffff_f000n));
      table = Number(d & 0x0000_ffff_ffff_f000n);
    }
    const leaf = b.read64(table + (Math.floor(f.iovas[i]! / 4096) % 512) * 8);
    assert.equal(leaf, encodeS1Leaf({ oa: f.pas[i]!, level3: true }) | 0xf47n);
    req.sid = i % 3;
    setAddress(req, f.iovas[i]! + 0x123);
    assert.ok(f.smmu.translator.translate(req, res));
    assert.equal(res.pa, f.pas[i]! + 0x123);
  }
});

test('bench fixture with stage2: stage-2-only STEs and Linux stage-2 leaves, as the spec encoders write them, that translate', () => {
  const f = buildFixture({ pages: 200, streams: 3, layout: 'sparse', cachesEnabled: false, seed: 7, stage2: true });
  const b = new DomainBuilder(f.mem, 0, 1);
  const strtab = Number(f.smmu.register('STRTAB_BASE') & 0x000f_ffff_ffff_ffc0n);
  for (let sid = 0; sid < 3; sid++) {
    const ste = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => b.read64(strtab + sid * 64 + 8 * i));
    const want = encodeSte({
      V: 1, CONFIG: 6, S2VMID: 1 + sid, S2T0SZ: 16, S2SL0: 2, S2IR0: 1, S2OR0: 1, S2SH0: 3, S2TG: 0, S2PS: 5, S2AA64: 1, S2R: 1,
      S2TTB: BigInt(f.pgd) >> 4n,
    });
    assert.deepEqual(ste, want, `STE ${sid}`);
  }
  const req = newRequest();
  const res = newResult();
  for (let i = 0; i < 200; i++) {
    let table = f.pgd;
    for (let level = 0; level < 3; level++) table = Number(b.read64(table + (Math.floor(f.iovas[i]! / 2 ** (39 - 9 * level)) % 512) * 8) & 0x0000_ffff_ffff_f000n);
    const leaf = b.read64(table + (Math.floor(f.iovas[i]! / 4096) % 512) * 8);
    assert.equal(leaf, encodeS2Leaf({ oa: f.pas[i]!, level3: true, memAttr: 0xf, s2ap: 3, sh: 3, af: true }));
    req.sid = i % 3;
    req.write = i % 2 === 0;
    setAddress(req, f.iovas[i]! + 0x123);
    assert.ok(f.smmu.translator.translate(req, res), JSON.stringify(res.event));
    assert.equal(res.pa, f.pas[i]! + 0x123);
    assert.equal(res.vmid, 1 + (i % 3));
  }
});
