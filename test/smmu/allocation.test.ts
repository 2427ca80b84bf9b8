// The per-access paths allocate nothing: an IOTLB hit (through translate and through the DMA
// lookup), an IOTLB miss (4-level walk and refill; stage 1, stage 2 only, nested), a walk with
// caches disabled (linear and 2-level stream and CD tables, nested), and DMA through the port,
// each over a million operations (a quarter million for the slower ones).
// Counted, not timed: garbage collections observed during the loop and the growth of the young
// generation, where every object an operation allocates is placed (bench/young-heap.ts). Any
// allocation per operation, even 12 bytes (one boxed double), would take megabytes and several
// young-generation collections; one every 200 operations still fails. Each path runs with the guest
// RAM at 1 GiB and at 64 GiB: above 2^31 a PA is no longer a small integer for V8, and a PA passed
// to or returned from a call that is not inlined, or stored in a field that holds other values,
// is a boxed double. allocation-budget.test.ts runs this file again with V8 inlining only its
// smallest functions, so that no path passes only because V8 happened to inline a call.
// DMA reads are not covered: copying a sub-range out of guest RAM into the device's buffer goes
// through Buffer.prototype.copy, which in Node.js 20 creates a view of the source range per call.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PerformanceObserver } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { buildFixture } from '../../bench/fixture.js';
import { youngBytes } from '../../bench/young-heap.js';
import { makeRequest, newRequest, newResult } from '../../src/smmu/translation/types.js';
import { DmaSegments } from '../../src/memory/dma-segments.js';
import { GuestMemory } from '../../src/memory/guest-memory.js';
import { TableReader } from '../../src/smmu/translation/table-reader.js';
import { Translator } from '../../src/smmu/translation/translator.js';
import { DEFAULT_FEATURES } from '../../src/smmu/features.js';
import { encodeS1Leaf, encodeS2Leaf } from '../../src/spec/smmuv3/pagetable.js';
import { encodeL1Cd, L1CD } from '../../src/spec/smmuv3/l1-descriptors.js';
import { inPlace } from '../../src/spec/bits.js';
import { Arena, PageTables } from '../support/smmu-structures.js';

// A full collection before each counted loop empties the young generation, so that a loop that
// allocates nothing cannot trigger a scavenge with the last bytes someone else allocated.
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

interface Count {
  gcs: number;
  youngGrowth: number;
}

/** Runs `loop` and counts the garbage collections and the young-generation growth it caused. */
async function counted(loop: () => void): Promise<Count> {
  let gcs = 0;
  const obs = new PerformanceObserver((list) => {
    gcs += list.getEntries().length;
  });
  obs.observe({ entryTypes: ['gc'] });
  collect();
  // Let the collections from before the loop be delivered and forgotten.
  await new Promise((r) => setTimeout(r, 20));
  gcs = 0;
  // What reading the statistics allocates (about 2 KiB), measured around nothing, is subtracted.
  const idle0 = youngBytes();
  const idle = youngBytes() - idle0;
  const before = youngBytes();
  loop();
  const after = youngBytes();
  await new Promise((r) => setTimeout(r, 20)); // GC entries arrive asynchronously
  obs.disconnect();
  return { gcs, youngGrowth: after - before - idle };
}

/**
 * Asserts that `ops` operations run by `loop` allocate nothing: a run with no collection and a
 * young-generation growth under one byte per 16 operations. The smallest allocation an operation
 * can make is a boxed double (12 bytes): one every 200 operations fails this. The optimising compiler's own objects (code, feedback) are not
 * in the young generation, but the first counted run can still see V8 finish optimising the loop
 * (tens to hundreds of KiB, once); such a run, or one during which the host collected for its own
 * reasons, is repeated, up to three runs. An operation that allocates fails all three.
 */
async function assertNoAllocation(ops: number, loop: () => void): Promise<void> {
  const runs: Count[] = [];
  for (let i = 0; i < 3; i++) {
    const c = await counted(loop);
    runs.push(c);
    if (c.gcs === 0 && c.youngGrowth < ops / 16) return;
  }
  assert.fail(`a garbage collection or young-generation growth of 1/16 byte per operation or more in every run (${ops} operations): ${JSON.stringify(runs)}`);
}

const PAGES = 4096;

/** Where the fixture's guest RAM lies: PAs below 2^31 (V8 small integers), and above 2^32. */
const PLACEMENTS = [
  { ramBase: 0x4000_0000, name: '' },
  { ramBase: 0x10_0000_0000, name: ', RAM at 64 GiB' },
] as const;

/** The fixture's IOVAs in the 1 TiB range (most are >= 2^32) at 8-byte offsets in their pages, as int32 halves. */
function addressHalves(iovas: Float64Array): { los: Int32Array; his: Int32Array } {
  const los = new Int32Array(PAGES);
  const his = new Int32Array(PAGES);
  for (let i = 0; i < PAGES; i++) {
    const a = iovas[i]! + (i % 512) * 8;
    los[i] = a | 0;
    his[i] = Math.floor(a / 2 ** 32);
  }
  return { los, his };
}

function translation(ramBase: number, cachesEnabled: boolean, tlbSize?: number, streams = 1, stage2 = false): { run: (n: number) => void; check: () => void } {
  const f = buildFixture({ pages: PAGES, streams, layout: 'sparse', cachesEnabled, ...(tlbSize === undefined ? {} : { tlbSize }), seed: 5, stage2, ramBase });
  const t = f.smmu.translator;
  const req = newRequest();
  const res = newResult();
  const { los, his } = addressHalves(f.iovas);
  let wrong = 0;
  const run = (n: number): void => {
    for (let i = 0; i < n; i++) {
      const k = (i * 2654435761) & (PAGES - 1);
      req.sid = streams === 1 ? 0 : (i * 40503) % streams; // every stream in turn, in a scattered order
      req.addrLo = los[k]! >>> 0;
      req.addrHi = his[k]! >>> 0;
      if (!t.translate(req, res)) wrong++;
    }
  };
  return { run, check: () => assert.equal(wrong, 0) };
}

for (const { ramBase, name } of PLACEMENTS) {
  test(`an IOTLB hit allocates nothing (1,000,000 hits${name})`, async () => {
    const w = translation(ramBase, true);
    w.run(200_000); // warm: every page in the IOTLB, code optimised
    await assertNoAllocation(1_000_000, () => w.run(1_000_000));
    w.check();
  });

  test(`an IOTLB hit of a stage-2-only stream allocates nothing (1,000,000 hits${name})`, async () => {
    const w = translation(ramBase, true, undefined, 1, true);
    w.run(200_000);
    await assertNoAllocation(1_000_000, () => w.run(1_000_000));
    w.check();
  });

  for (const stage2 of [false, true]) {
    test(`an IOTLB hit through the DMA lookup (lookupData) allocates nothing (1,000,000 hits${stage2 ? ', a stage-2-only stream' : ''}${name})`, async () => {
      const f = buildFixture({ pages: PAGES, streams: 1, layout: 'sparse', cachesEnabled: true, seed: 9, stage2, ramBase });
      const t = f.smmu.translator;
      const { los, his } = addressHalves(f.iovas);
      const res = newResult();
      for (let i = 0; i < PAGES; i++) t.translateAddress(0, null, f.iovas[i]!, false, res);
      const acc = { misses: 0, pa: 0 };
      const run = (n: number): void => {
        for (let i = 0; i < n; i++) {
          const k = (i * 2654435761) & (PAGES - 1);
          if (t.lookupData(0, los[k]!, his[k]!, false) < 0) acc.misses++;
          else acc.pa = t.dataPa;
        }
      };
      run(200_000);
      await assertNoAllocation(1_000_000, () => run(1_000_000));
      assert.equal(acc.misses, 0);
      // PAs of the fixture's RAM lie above 2^30: outside V8's small-integer range (31 bits with pointer
      // compression), so a boxed double would show.
      assert.ok(acc.pa > 2 ** 30 && acc.pa >= ramBase);
    });
  }

  test(`an IOTLB miss (walk and refill) allocates nothing (250,000 misses${name})`, async () => {
    const w = translation(ramBase, true, 16);
    w.run(100_000);
    await assertNoAllocation(250_000, () => w.run(250_000));
    w.check();
  });

  test(`an IOTLB miss of a stage-2-only stream (stage-2 walk and refill) allocates nothing (250,000 misses${name})`, async () => {
    const w = translation(ramBase, true, 16, 1, true);
    w.run(100_000);
    await assertNoAllocation(250_000, () => w.run(250_000));
    w.check();
  });

  test(`a walk with caches disabled allocates nothing (250,000 walks${name})`, async () => {
    const w = translation(ramBase, false);
    w.run(100_000);
    await assertNoAllocation(250_000, () => w.run(250_000));
    w.check();
  });

  test(`an IOTLB miss with 65,536 streams allocates nothing (250,000 misses${name})`, async () => {
    const w = translation(ramBase, true, 16, 65536);
    w.run(150_000);
    await assertNoAllocation(250_000, () => w.run(250_000));
    w.check();
  });

  test(`a walk with caches disabled and 65,536 streams allocates nothing (250,000 walks${name})`, async () => {
    const w = translation(ramBase, false, undefined, 65536);
    w.run(150_000);
    await assertNoAllocation(250_000, () => w.run(250_000));
    w.check();
  });

  test(`a 4 KiB DMA write through the SMMU allocates nothing (250,000 writes${name})`, async () => {
    const f = buildFixture({ pages: PAGES, streams: 1, layout: 'sparse', cachesEnabled: true, seed: 6, ramBase });
    const port = f.smmu.dma(0, null);
    const buf = new Uint8Array(4096).fill(0x5a);
    const los = new Int32Array(PAGES);
    const his = new Int32Array(PAGES);
    for (let i = 0; i < PAGES; i++) {
      los[i] = f.iovas[i]! | 0;
      his[i] = Math.floor(f.iovas[i]! / 2 ** 32);
    }
    let faults = 0;
    const run = (n: number): void => {
      for (let i = 0; i < n; i++) {
        const k = (i * 2654435761) & (PAGES - 1);
        if (port.writeAt(los[k]!, his[k]!, buf) !== null) faults++;
      }
    };
    run(50_000);
    await assertNoAllocation(250_000, () => run(250_000));
    assert.equal(faults, 0);
    // The data went where the page tables say.
    assert.ok(f.ram.subarray(f.pas[7]! - f.ramBase, f.pas[7]! - f.ramBase + 4096).every((b) => b === 0x5a));
  });

  // Reads up to 64 bytes (RAM side word-aligned) and up to 48 (not aligned) are copied in a loop, not
  // through a view of the source range.
  for (const [len, at] of [[16, 0x7f0], [64, 0x7c0], [48, 0x7d1]] as const) test(`a ${len}-byte DMA read${at % 4 === 0 ? '' : ' at an unaligned address'} through the SMMU allocates nothing (250,000 reads${name})`, async () => {
    const f = buildFixture({ pages: PAGES, streams: 1, layout: 'sparse', cachesEnabled: true, seed: 7, ramBase });
    const port = f.smmu.dma(0, null);
    const buf = new Uint8Array(len);
    const los = new Int32Array(PAGES);
    const his = new Int32Array(PAGES);
    for (let i = 0; i < PAGES; i++) {
      los[i] = (f.iovas[i]! + at) | 0;
      his[i] = Math.floor(f.iovas[i]! / 2 ** 32);
      f.ram[f.pas[i]! - f.ramBase + at] = i & 0xff;
      f.ram[f.pas[i]! - f.ramBase + at + len - 1] = (i * 3) & 0xff;
    }
    let good = 0;
    let bad = 0;
    const run = (n: number): void => {
      for (let i = 0; i < n; i++) {
        const k = (i * 2654435761) & (PAGES - 1);
        if (port.readAt(los[k]!, his[k]!, buf) === null && buf[0]! === (k & 0xff) && buf[len - 1]! === ((k * 3) & 0xff)) good++;
        else bad++;
      }
    };
    run(50_000);
    await assertNoAllocation(250_000, () => run(250_000));
    // Every read returned the bytes written at its page's PA (first and last).
    assert.equal(bad, 0);
    assert.ok(good >= 300_000);
  });

  test(`a vectored 64 KiB DMA write (16 page segments, translated ahead) allocates nothing (25,000 transfers${name})`, async () => {
    const f = buildFixture({ pages: PAGES, streams: 1, layout: 'sparse', cachesEnabled: true, seed: 8, ramBase });
    const port = f.smmu.dma(0, null);
    const page = new Uint8Array(4096).fill(0xa5);
    const lists: DmaSegments[] = [];
    for (let l = 0; l < 64; l++) {
      const segs = new DmaSegments(16);
      for (let s = 0; s < 16; s++) {
        const p = (l * 16 + s) * 97 % PAGES;
        segs.push(f.iovas[p]! | 0, Math.floor(f.iovas[p]! / 2 ** 32), page);
      }
      lists.push(segs);
    }
    let faults = 0;
    const run = (n: number): void => {
      for (let i = 0; i < n; i++) if (port.writev(lists[i & 63]!) !== null) faults++;
    };
    run(5_000);
    await assertNoAllocation(25_000, () => run(25_000));
    assert.equal(faults, 0);
    const at = f.pas[97]! - f.ramBase;
    assert.ok(f.ram.subarray(at, at + 4096).every((b) => b === 0xa5));
  });
}

test('a walk with caches disabled through a 2-level stream table and a 2-level CD table allocates nothing (250,000 walks each, RAM at 1 GiB and at 64 GiB)', async () => {
  for (const { ramBase } of PLACEMENTS) {
    const arena = new Arena(ramBase, 4 << 20);
    const t = new Translator(arena.mem, DEFAULT_FEATURES, { cachesEnabled: false });
    // StreamIDs 0x105 and 0x205 (SPLIT 8), each through its L1STD to an L2 table; CD 0 of each
    // through an L1CD (4 KiB leaves), used for untagged traffic (S1DSS = SSID0).
    const l1 = arena.alloc(8 * 16, 4096);
    t.setStreamTable({ base: l1, log2Size: 12, fmt: 1, split: 8 });
    const pt = new PageTables(arena, 12, 48, 0);
    const vas = [0x1000, 0x7_8000_0000, 0xff_ffff_f000];
    vas.forEach((va, i) => pt.map(BigInt(va), encodeS1Leaf({ oa: BigInt(ramBase + 0x20_0000 + i * 0x1000), level3: true, attrIndx: 1, ap: 1, sh: 3, ng: true }), 3));
    const sids = [0x105, 0x205];
    for (const sid of sids) {
      const l2 = arena.alloc(64 << 8, 64 << 8);
      arena.write64(l1 + (sid >> 8) * 8, BigInt(l2) | 9n);
      const cdL1 = arena.alloc(8 * 2, 64);
      const cdL2 = arena.alloc(64 * 64, 4096);
      arena.write64(cdL1, encodeL1Cd({ V: 1, L2PTR: inPlace(L1CD.L2PTR, cdL2) }));
      arena.writeWords(cdL2, arena.cd({ T0SZ: 16, TG0: 0, EPD1: 1, V: 1, IPS: 5, AA64: 1, R: 1, A: 1, ASID: sid, TTB0: BigInt(pt.root) >> 4n }));
      arena.writeWords(l2 + (sid & 0xff) * 64, arena.ste({ V: 1, CONFIG: 5, S1FMT: 1, S1CDMAX: 7, S1DSS: 2, S1_CONTEXT_PTR: BigInt(cdL1) >> 6n }));
    }
    const req = newRequest();
    const res = newResult();
    // The loop handles small integers only (as the other loops here): arithmetic on PAs above
    // 2^31 in the loop itself would allocate while it runs unoptimised.
    const los = Int32Array.from(vas, (v) => v | 0);
    const his = Int32Array.from(vas, (v) => Math.floor(v / 2 ** 32));
    let wrong = 0;
    const run = (n: number): void => {
      for (let i = 0; i < n; i++) {
        const k = i % 3;
        req.sid = sids[i & 1]!;
        req.addrLo = (los[k]! + 8 * (i & 511)) >>> 0;
        req.addrHi = his[k]!;
        if (!t.translate(req, res)) wrong++;
      }
    };
    run(100_000);
    await assertNoAllocation(250_000, () => run(250_000));
    assert.equal(wrong, 0);
    for (const sid of sids) {
      vas.forEach((va, k) => {
        assert.equal(t.translate(makeRequest(sid, null, va + 0x18, {}), res), true);
        assert.equal(res.pa, ramBase + 0x20_0000 + k * 0x1000 + 0x18);
      });
    }
  }
});

test('table reads alternating between two RAM regions allocate nothing (1,000,000 reads)', async () => {
  const mem = new GuestMemory();
  mem.addRam(0x4000_0000, 0x10000, 'low');
  mem.addRam(0x8_0000_0000, 0x10000, 'high');
  const reader = new TableReader(mem, 48);
  const out = { lo: 0, hi: 0 };
  let failed = 0;
  const run = (n: number): void => {
    for (let i = 0; i < n; i++) if (!reader.read64((i & 1) === 0 ? 0x4000_0000 + (i & 0xff8) : 0x8_0000_0000 + (i & 0xff8), false, out)) failed++;
  };
  run(100_000);
  await assertNoAllocation(1_000_000, () => run(1_000_000));
  assert.equal(failed, 0);
});

test('a nested (stage 1 + stage 2) translation allocates nothing, as an IOTLB miss and with caches disabled (250,000 each, RAM at 1 GiB and at 64 GiB, IPAs above 32 GiB)', async () => {
  for (const { ramBase } of PLACEMENTS) {
    for (const cachesEnabled of [true, false]) {
      const arena = new Arena(ramBase, 4 << 20);
      // 16 IOTLB entries against 64 pages used in turn: every access misses and walks both stages.
      const t = new Translator(arena.mem, DEFAULT_FEATURES, cachesEnabled ? { tlbSize: 16 } : { cachesEnabled: false });
      const strtab = arena.alloc(64 * 16, 1024);
      t.setStreamTable({ base: strtab, log2Size: 4, fmt: 0, split: 0 });
      // Stage 2 (48-bit IPA, 4 KiB pages from level 0) maps a 1 MiB window of IPAs at 32 GiB onto
      // RAM; the CD, the stage-1 tables and the data pages lie in it, addressed by IPA.
      const s2 = new PageTables(arena, 12, 48, 0);
      const window = arena.alloc(0x10_0000, 0x10_0000);
      const ipaBase = 0x8_0000_0000;
      for (let off = 0; off < 0x10_0000; off += 0x1000) s2.map(BigInt(ipaBase + off), encodeS2Leaf({ oa: window + off, level3: true }), 3);
      const toIpa = (pa: number): bigint => BigInt(pa - window + ipaBase);
      const [cd, l0, l1, l2, l3] = [0, 1, 2, 3, 4].map((k) => window + k * 0x1000) as [number, number, number, number, number];
      // VA 0x40_0000_0000 + k * 4 KiB (level-1 index 256, the others 0) -> IPA ipaBase + 0x8_0000 + k * 4 KiB (k < 64).
      const vaBase = 0x40_0000_0000;
      arena.write64(l0, toIpa(l1) | 3n);
      arena.write64(l1 + 256 * 8, toIpa(l2) | 3n);
      arena.write64(l2, toIpa(l3) | 3n);
      for (let k = 0; k < 64; k++) arena.write64(l3 + k * 8, encodeS1Leaf({ oa: BigInt(ipaBase + 0x8_0000 + k * 0x1000), level3: true, attrIndx: 1, ap: 1, sh: 3, ng: true }));
      arena.writeWords(cd, arena.cd({ T0SZ: 16, TG0: 0, EPD1: 1, V: 1, IPS: 5, AA64: 1, R: 1, A: 1, ASID: 9, TTB0: toIpa(l0) >> 4n }));
      arena.writeWords(strtab + 3 * 64, arena.ste({
        V: 1, CONFIG: 7, S1_CONTEXT_PTR: toIpa(cd) >> 6n, S2VMID: 5, S2T0SZ: 16, S2SL0: 2, S2TG: 0, S2PS: 5, S2AA64: 1, S2R: 1, S2TTB: BigInt(s2.root) >> 4n,
      }));
      const req = newRequest();
      const res = newResult();
      req.sid = 3;
      req.addrHi = Math.floor(vaBase / 2 ** 32);
      let wrong = 0;
      const run = (n: number): void => {
        for (let i = 0; i < n; i++) {
          req.addrLo = (i & 63) * 0x1000 + 8 * (i & 511);
          if (!t.translate(req, res)) wrong++;
        }
      };
      run(100_000);
      await assertNoAllocation(250_000, () => run(250_000));
      assert.equal(wrong, 0);
      // Every access of the loop walked (an IOTLB miss with caches enabled), but for the first 16
      // of a new run, which find the entries the last 16 accesses before it left.
      const before = t.stats();
      run(1000);
      assert.equal(t.stats().walks - before.walks, cachesEnabled ? 1000 - 16 : 1000);
      for (const k of [0, 17, 63]) {
        assert.equal(t.translate(makeRequest(3, null, vaBase + k * 0x1000 + 0x18, {}), res), true);
        assert.equal(res.pa, window + 0x8_0000 + k * 0x1000 + 0x18);
      }
    }
  }
});
