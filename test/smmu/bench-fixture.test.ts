// Cross-checks the benchmark fixture (bench/fixture.ts writes descriptors with plain numbers for
// speed) against the spec encoders used by the Linux-domain test fixture, and checks that every
// mapped page translates to its PA through the device's translation engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildFixture } from '../../bench/fixture.js';
import { encodeS1Leaf, encodeTable } from '../../src/spec/smmuv3/pagetable.js';
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
