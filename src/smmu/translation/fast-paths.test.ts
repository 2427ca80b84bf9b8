// The translation engine's shortcuts against its plain path: the hit-record lookup and the refill
// that skips its search (translate with caches on), and the DMA lookup (lookupData), compared
// with the same engine walking every access with caches disabled. Random mapping changes, each
// followed by the TLBI a driver issues, random accesses (reads and writes, privileged or not,
// instruction fetches, out-of-range addresses), nG and global pages, 4 KiB pages and 2 MiB
// blocks, read-only pages, small IOTLBs (eviction) and ASIDs shared by two streams; and the same
// with two of the streams stage-2 only (sharing a VMID) beside two stage-1 streams.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DEFAULT_FEATURES } from '../features.js';
import { encodeS1Leaf, encodeS2Leaf } from '../../spec/smmuv3/pagetable.js';
import { EVT } from '../../spec/smmuv3/events.js';
import { Translator } from './translator.js';
import { makeRequest, newResult, type TranslationResult } from './types.js';
import { Arena, PageTables, tlbiOp } from '../../../test/support/smmu-structures.js';

const PAGES = 4; // page slots per table; VA = base + slot * 4 KiB
const BLOCKS = 2; // 2 MiB block slots per table, above the pages
const BLOCK_BASE = 0x4000_0000;
const RAM_PA = 0x4100_0000;

interface Access { op: 'access'; sid: number; slot: number; off: number; block: boolean; write: boolean; priv: boolean; instr: boolean; wild: boolean }
type Op =
  | { op: 'map'; table: number; slot: number; frame: number; ng: boolean; ap: number; block: boolean }
  | { op: 'unmap'; table: number; slot: number; block: boolean }
  | Access
  | { op: 'again'; off: number }
  | { op: 'tlbi-all' };

/** True one time in five. */
const sometimes = fc.constantFrom(false, false, false, false, true);
/** Uniform choices (fast-check's integers favour small values). */
const slotArb = fc.constantFrom(...Array.from({ length: PAGES }, (_, i) => i));
const tableArb = fc.constantFrom(0, 1);
/** AP[2:1]: mostly EL0 read-write (what a DMA mapping is), sometimes read-only or privileged only. */
const apArb = fc.constantFrom(1, 1, 3, 0, 2);

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('map' as const), table: tableArb, slot: slotArb, frame: fc.nat(63), ng: fc.boolean(), ap: apArb, block: sometimes }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('unmap' as const), table: tableArb, slot: slotArb, block: sometimes }) },
  {
    weight: 8,
    arbitrary: fc.record({
      op: fc.constant('access' as const), sid: fc.constantFrom(0, 1, 2, 3), slot: slotArb, off: fc.nat(0xfff), block: sometimes,
      write: fc.boolean(), priv: sometimes, instr: sometimes, wild: sometimes,
    }),
  },
  // The last access again, at another offset in the page (a device streaming through a buffer).
  { weight: 4, arbitrary: fc.record({ op: fc.constant('again' as const), off: fc.nat(0xfff) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'tlbi-all' as const }) },
);

/** The VMID of the stage-2-only streams of {@link setup}'s `stage2` variant. */
const S2_VMID = 7;

/**
 * Two engines over one memory: SIDs 0, 1 share table 0 (ASIDs 1 and 2), SIDs 2, 3 share table 1
 * (ASID 3 for both; with `stage2`, both are stage-2-only streams of VMID 7 and table 1 a stage-2
 * table). `ste`: further STE fields for every stream.
 */
function setup(tlbSize: number, features = DEFAULT_FEATURES, ste: Record<string, number> = {}, stage2 = false): { arena: Arena; fast: Translator; plain: Translator; pts: PageTables[] } {
  const arena = new Arena();
  const fast = new Translator(arena.mem, features, { tlbSize, configCacheSize: 16 });
  const plain = new Translator(arena.mem, features, { cachesEnabled: false });
  const strtab = arena.alloc(64 * 16, 1024);
  for (const t of [fast, plain]) t.setStreamTable({ base: strtab, log2Size: 4, fmt: 0, split: 0 });
  const pts = [new PageTables(arena, 12, 48, 0), new PageTables(arena, 12, 48, 0)];
  const asids = [1, 2, 3, 3];
  for (let sid = 0; sid < 4; sid++) {
    const cd = arena.alloc(64, 64);
    const root = pts[sid >> 1]!.root;
    arena.writeWords(cd, arena.cd({ T0SZ: 16, TG0: 0, EPD1: 1, V: 1, IPS: 5, AA64: 1, R: 1, A: 1, ASID: asids[sid]!, TTB0: BigInt(root) >> 4n }));
    arena.writeWords(strtab + sid * 64, arena.ste({ V: 1, CONFIG: 5, S1_CONTEXT_PTR: BigInt(cd) >> 6n, ...ste }));
    if (stage2 && sid >= 2) {
      arena.writeWords(strtab + sid * 64, arena.ste({
        V: 1, CONFIG: 6, S2VMID: S2_VMID, S2T0SZ: 16, S2SL0: 2, S2TG: 0, S2PS: 5, S2AA64: 1, S2R: 1, S2TTB: BigInt(root) >> 4n, ...ste,
      }));
    }
  }
  return { arena, fast, plain, pts };
}

/**
 * Table t's VAs: pages from t * (2^47 + 2^39), blocks 1 GiB above. Disjoint per table, so that a
 * global entry one table installs never answers for a VA the other table maps differently; table
 * 1's lie above 2^44, where a 4 KiB page index has bits above 31.
 */
function vaOf(table: number, slot: number, block: boolean): number {
  return table * (2 ** 47 + 2 ** 39) + (block ? BLOCK_BASE + (slot % BLOCKS) * 0x20_0000 : slot * 0x1000);
}

function same(a: TranslationResult, b: TranslationResult, what: string): void {
  assert.equal(a.ok, b.ok, `${what}: ok`);
  if (a.ok) {
    assert.equal(a.pa, b.pa, `${what}: pa`);
    assert.equal(a.size, b.size, `${what}: size`);
    assert.equal(a.perms, b.perms, `${what}: perms`);
    assert.equal(a.global, b.global, `${what}: global`);
    assert.equal(a.asid, b.asid, `${what}: asid`);
  } else {
    assert.deepEqual({ ...a.event }, { ...b.event }, `${what}: event`);
    assert.equal(a.record, b.record, `${what}: record`);
  }
}

for (const stage2 of [false, true]) {
  test(`the hit-record lookup, the refill without search and lookupData agree with walking every access${stage2 ? ' (two streams stage-2 only)' : ''}`, () => {
    let hits = 0;
    let s2Hits = 0;
    let oneSizeHits = 0;
    let highHits = 0;
    let accesses = 0;
    fc.assert(
      fc.property(fc.constantFrom(1024, 64, 16, 4, 1), fc.array(opArb, { minLength: 60, maxLength: 200 }), (tlbSize, ops) => {
        const { fast, plain, pts, arena } = setup(tlbSize, DEFAULT_FEATURES, {}, stage2);
        const ra = newResult();
        const rb = newResult();
        let last: Access | null = null;
        for (const [k, op] of ops.entries()) {
          let o: Op;
          if (op.op === 'again') {
            if (last === null) continue;
            const repeat: Access = { ...last, off: op.off };
            o = repeat;
          } else o = op;
          if (o.op === 'map' || o.op === 'unmap') {
            const va = vaOf(o.table, o.slot, o.block);
            const level = o.block ? 2 : 3;
            const s2 = stage2 && o.table === 1;
            if (o.op === 'map') {
              const pa = o.block ? RAM_PA + 0x400_0000 + (o.frame % 8) * 0x20_0000 : RAM_PA + o.frame * 0x1000;
              // Stage 2 has no privilege in S2AP: AP[2] (read-only) maps to S2AP = read only.
              const leaf = s2
                ? encodeS2Leaf({ oa: BigInt(pa), level3: !o.block, memAttr: 0xf, s2ap: o.ap & 2 ? 1 : 3, sh: 3, af: true })
                : encodeS1Leaf({ oa: BigInt(pa), level3: !o.block, attrIndx: 1, ap: o.ap, sh: 3, ng: o.ng });
              pts[o.table]!.map(BigInt(va), leaf, level);
            } else arena.write64(pts[o.table]!.slot(BigInt(va), level), 0n);
            // What a driver issues after changing a leaf: invalidate the VA for every ASID, or the IPA.
            if (s2) fast.invalidation.tlbiS2Ipa(tlbiOp(S2_VMID, -1, va, true, null));
            else fast.invalidation.tlbiNhVaa(tlbiOp(0, -1, va, true, null));
            continue;
          }
          if (o.op === 'tlbi-all') {
            fast.invalidation.tlbiNhAll(0);
            if (stage2) fast.invalidation.tlbiS12Vmall(S2_VMID);
            continue;
          }
          last = o;
          // Out-of-range addresses (bit 48 set, or TTB1's half) must fault the same way.
          const va: number = o.wild ? (o.slot & 1 ? 2 ** 48 : 2 ** 55) + o.off : vaOf(o.sid >> 1, o.slot, o.block) + o.off;
          const what: string = `op ${k} sid ${o.sid} va 0x${va.toString(16)}`;
          if (!o.priv && !o.instr) {
            const shift = fast.lookupData(o.sid, va | 0, Math.floor(va / 2 ** 32) | 0, o.write);
            if (shift >= 0) {
              hits++;
              if (stage2 && o.sid >= 2) s2Hits++;
              // lookupData's own probe answers while the IOTLB holds one page or block size.
              if ((fast as unknown as { tlb: { oneShift: number } }).tlb.oneShift !== 0) {
                oneSizeHits++;
                if (shift === 12 && va >= 2 ** 44 && va < 2 ** 48) highHits++;
              }
              assert.equal(plain.translate(makeRequest(o.sid, null, va, { write: o.write }), rb), true, `${what}: lookupData hit where a walk fails`);
              assert.equal(fast.dataPa, rb.pa, `${what}: lookupData pa`);
              assert.equal(2 ** shift, rb.size, `${what}: lookupData size`);
            }
          }
          accesses++;
          const req = makeRequest(o.sid, null, va, { write: o.write, priv: o.priv, instr: o.instr });
          fast.translate(req, ra);
          plain.translate(req, rb);
          same(ra, rb, what);
        }
        // Every hit record's tag pin is dropped with the record: emptied caches leave no tag in use.
        fast.setCachesEnabled(false);
        assert.equal((fast as unknown as { tlb: { tagsInUse: number } }).tlb.tagsInUse, 0, 'tags still pinned or holding entries');
      }),
      { numRuns: stage2 ? 150 : 300 },
    );
    // The runs must have exercised the shortcut, not only its refusals.
    assert.ok(hits > accesses / 50, `lookupData answered ${hits} of ${accesses} accesses`);
    assert.ok(oneSizeHits > hits / 10 && oneSizeHits < hits, `lookupData answered ${oneSizeHits} of its ${hits} hits with one page or block size cached`);
    assert.ok(highHits > oneSizeHits / 20, `lookupData answered ${highHits} of those for 4 KiB pages above 2^44`);
    if (stage2) assert.ok(s2Hits > accesses / 200, `lookupData answered ${s2Hits} of ${accesses} accesses for the stage-2-only streams`);
  });
}

test('stage-2-only streams: lookupData and the hit record answer from the IOTLB, count one STE hit each, and leave IPAs at or above 2^OAS to the full path', () => {
  const { fast, pts } = setup(64, DEFAULT_FEATURES, {}, true);
  const leaf = encodeS2Leaf({ oa: BigInt(RAM_PA), level3: true, memAttr: 0xf, s2ap: 3, sh: 3, af: true });
  pts[1]!.map(0x5000n, leaf, 3);
  const r = newResult();
  assert.equal(fast.lookupData(2, 0x5008, 0, false), -1, 'nothing cached yet');
  assert.equal(fast.translate(makeRequest(2, null, 0x5008), r), true);
  assert.equal(r.tlbHit, false);
  // SID 3 has the same VMID: the same entry answers it (its first access fetches its STE).
  assert.equal(fast.translate(makeRequest(3, null, 0x5018), r), true);
  assert.equal(r.tlbHit, true);
  const before = fast.stats();
  assert.equal(fast.lookupData(2, 0x5010, 0, true), 12);
  assert.equal(fast.dataPa, RAM_PA + 0x10);
  assert.equal(fast.lookupData(3, 0x5020, 0, false), 12);
  assert.equal(fast.translate(makeRequest(2, null, 0x5030), r), true);
  assert.deepEqual([r.tlbHit, r.pa, r.vmid, r.asid, r.kind], [true, RAM_PA + 0x30, S2_VMID, -1, 3]);
  const after = fast.stats();
  assert.equal(after.tlbHits - before.tlbHits, 3);
  assert.equal(after.configHits - before.configHits, 3, 'one STE hit each, no CD');
  assert.equal(after.walks, before.walks);
  // The IOTLB keys addresses by bits [51:0]: IPA 2^52 + 0x5000 must not hit the entry for 0x5000.
  // It is at or above 2^OAS (48 bits): an address size fault on the full path.
  assert.equal(fast.lookupData(2, 0x5010, 0x10_0000, false), -1);
  assert.equal(fast.translate(makeRequest(2, null, 2 ** 52 + 0x5010), r), false);
  assert.equal(r.event.type, EVT.F_ADDR_SIZE);
  // Bounded work, counted: with the record, a miss searches the IOTLB once (the record's lookup)
  // and the refill does not search again; a hit searches once.
  const tlb = (fast as unknown as { tlb: { searches: number } }).tlb;
  pts[1]!.map(0x7000n, encodeS2Leaf({ oa: BigInt(RAM_PA + 0x7000), level3: true, memAttr: 0xf, s2ap: 3, sh: 3, af: true }), 3);
  let searches = tlb.searches;
  assert.equal(fast.translate(makeRequest(2, null, 0x7000), r), true);
  assert.deepEqual([r.tlbHit, r.pa, tlb.searches - searches], [false, RAM_PA + 0x7000, 1]);
  searches = tlb.searches;
  assert.equal(fast.translate(makeRequest(2, null, 0x7008), r), true);
  assert.deepEqual([r.tlbHit, tlb.searches - searches], [true, 1]);
  // The STE invalidated: the record goes with it.
  fast.invalidation.cfgiSte(2, true);
  assert.equal(fast.lookupData(2, 0x5010, 0, false), -1);
});

test('a stage-2-only stream\'s hit record never answers with a stage-1 global entry of its VMID', () => {
  // SID 0 (stage 1, VMID 0) maps VA 0x5000 global to one page; SID 2 (stage 2 only, VMID 0) maps
  // IPA 0x5000 to another. The stage-1 global entry is tagged (stage 1, EL1, VMID 0, no ASID).
  const arena = new Arena();
  const t = new Translator(arena.mem, DEFAULT_FEATURES, { tlbSize: 64, configCacheSize: 16 });
  const strtab = arena.alloc(64 * 16, 1024);
  t.setStreamTable({ base: strtab, log2Size: 4, fmt: 0, split: 0 });
  const s1 = new PageTables(arena, 12, 48, 0);
  const s2 = new PageTables(arena, 12, 48, 0);
  const cd = arena.alloc(64, 64);
  arena.writeWords(cd, arena.cd({ T0SZ: 16, TG0: 0, EPD1: 1, V: 1, IPS: 5, AA64: 1, R: 1, A: 1, ASID: 1, TTB0: BigInt(s1.root) >> 4n }));
  arena.writeWords(strtab, arena.ste({ V: 1, CONFIG: 5, S1_CONTEXT_PTR: BigInt(cd) >> 6n }));
  arena.writeWords(strtab + 2 * 64, arena.ste({ V: 1, CONFIG: 6, S2VMID: 0, S2T0SZ: 16, S2SL0: 2, S2TG: 0, S2PS: 5, S2AA64: 1, S2R: 1, S2TTB: BigInt(s2.root) >> 4n }));
  s1.map(0x5000n, encodeS1Leaf({ oa: BigInt(RAM_PA), level3: true, attrIndx: 1, ap: 1, sh: 3, ng: false }), 3);
  s2.map(0x9000n, encodeS2Leaf({ oa: BigInt(RAM_PA + 0x9000), level3: true, memAttr: 0xf, s2ap: 3, sh: 3, af: true }), 3);
  s2.map(0x5000n, encodeS2Leaf({ oa: BigInt(RAM_PA + 0x5000), level3: true, memAttr: 0xf, s2ap: 3, sh: 3, af: true }), 3);
  const r = newResult();
  assert.equal(t.translate(makeRequest(2, null, 0x9000), r), true, 'SID 2 gets its hit record');
  assert.equal(t.translate(makeRequest(0, null, 0x5000), r), true);
  assert.equal(r.global, true, 'a global stage-1 entry for VA 0x5000');
  assert.equal(t.lookupData(2, 0x5000, 0, false), -1);
  assert.equal(t.translate(makeRequest(2, null, 0x5008), r), true);
  assert.deepEqual([r.pa, r.tlbHit], [RAM_PA + 0x5008, false], 'SID 2 walks its own stage 2');
});

test('lookupData answers a repeated access from the IOTLB and counts it as translate would', () => {
  const { fast, pts } = setup(64);
  pts[0]!.map(0x5000n, encodeS1Leaf({ oa: BigInt(RAM_PA), level3: true, attrIndx: 1, ap: 1, sh: 3, ng: true }), 3);
  assert.equal(fast.lookupData(0, 0x5008, 0, false), -1, 'nothing cached yet');
  const r = newResult();
  assert.equal(fast.translate(makeRequest(0, null, 0x5008), r), true);
  const before = fast.stats();
  assert.equal(fast.lookupData(0, 0x5010, 0, false), 12);
  assert.equal(fast.dataPa, RAM_PA + 0x10);
  assert.equal(fast.lookupData(0, 0x5010, 0, true), 12, 'AP = 0b01: writable');
  const after = fast.stats();
  assert.equal(after.tlbHits - before.tlbHits, 2);
  assert.equal(after.configHits - before.configHits, 4, 'one STE and one CD hit each');
  assert.equal(after.walks, before.walks);
  // Another stream with another ASID has no entry of its own for the page.
  assert.equal(fast.lookupData(1, 0x5010, 0, false), -1);
  // Read-only page: a write is not answered (the full path reports the permission fault).
  pts[0]!.map(0x6000n, encodeS1Leaf({ oa: BigInt(RAM_PA), level3: true, attrIndx: 1, ap: 3, sh: 3, ng: true }), 3);
  assert.equal(fast.translate(makeRequest(0, null, 0x6000), r), true);
  assert.equal(fast.lookupData(0, 0x6000, 0, false), 12);
  assert.equal(fast.lookupData(0, 0x6000, 0, true), -1);
  // Caches off: never answers.
  fast.setCachesEnabled(false);
  assert.equal(fast.lookupData(0, 0x5010, 0, false), -1);
});

test('bounded work, counted: a miss searches the IOTLB once and refills without another search; a hit searches once', () => {
  const { fast, pts } = setup(64);
  const tlb = (fast as unknown as { tlb: { searches: number } }).tlb;
  const leaf = (pa: number, ng: boolean): bigint => encodeS1Leaf({ oa: BigInt(pa), level3: true, attrIndx: 1, ap: 1, sh: 3, ng });
  for (let p = 0; p < 4; p++) pts[0]!.map(BigInt(0x10_0000 + p * 0x1000), leaf(RAM_PA + p * 0x1000, true), 3);
  pts[0]!.map(0x20_0000n, leaf(RAM_PA, false), 3);
  const r = newResult();
  const searches = (f: () => void): number => {
    const before = tlb.searches;
    f();
    return tlb.searches - before;
  };
  // First access of the stream: no hit record yet, the full path looks once and refills.
  assert.equal(searches(() => fast.translate(makeRequest(0, null, 0x10_0000), r)), 1);
  // With the record: its lookup misses, the full path does not look again, the refill does not search.
  assert.equal(searches(() => fast.translate(makeRequest(0, null, 0x10_1000), r)), 1);
  assert.equal(r.ok && !r.tlbHit, true);
  assert.equal(searches(() => fast.translate(makeRequest(0, null, 0x10_1008), r)), 1);
  assert.equal(r.tlbHit, true);
  assert.equal(searches(() => fast.lookupData(0, 0x10_1010, 0, true)), 1);
  // A global entry in the IOTLB: a miss also looks for a global entry (two searches), still no refill search.
  assert.equal(searches(() => fast.translate(makeRequest(0, null, 0x20_0000), r)), 1);
  assert.equal(r.global, true);
  assert.equal(searches(() => fast.translate(makeRequest(0, null, 0x10_2000), r)), 2);
  // An entry that does not permit the access: the record's lookup and the full path's find it (one
  // search each), then the walk reports the permission fault and nothing is refilled.
  pts[0]!.map(0x10_3000n, encodeS1Leaf({ oa: BigInt(RAM_PA), level3: true, attrIndx: 1, ap: 3, sh: 3, ng: true }), 3);
  assert.equal(searches(() => fast.translate(makeRequest(0, null, 0x10_3000), r)), 2);
  assert.equal(r.ok, true);
  assert.equal(searches(() => fast.translate(makeRequest(0, null, 0x10_3000, { write: true }), r)), 2);
  assert.equal(r.ok, false);
});

test('a hit record finds only its own ASID\'s entries after that ASID\'s entries are gone and another\'s arrived', () => {
  // SIDs 0 and 1 share page table 0 with ASIDs 1 and 2, and the IOTLB holds one entry. SID 0's
  // record keeps the IOTLB index of ASID 1's tag (pinned); ASID 2's tag must not get it.
  const { fast, pts } = setup(1);
  const leaf = (pa: number): bigint => encodeS1Leaf({ oa: BigInt(pa), level3: true, attrIndx: 1, ap: 1, sh: 3, ng: true });
  pts[0]!.map(0x7000n, leaf(RAM_PA), 3);
  const r = newResult();
  assert.equal(fast.translate(makeRequest(0, null, 0x7000), r), true);
  assert.equal(fast.lookupData(0, 0x7008, 0, false), 12, 'SID 0 hits through its record');
  fast.invalidation.tlbiNhAsid(0, 1);
  // ASID 2's view of the page changes (a new mapping is only seen by a walk after the TLBI for the VA).
  pts[0]!.map(0x7000n, leaf(RAM_PA + 0x5000), 3);
  fast.invalidation.tlbiNhVaa(tlbiOp(0, -1, 0x7000, true, null));
  assert.equal(fast.translate(makeRequest(1, null, 0x7000), r), true);
  assert.equal(r.pa, RAM_PA + 0x5000);
  // SID 0 (ASID 1) has no entry: its stale index must not find ASID 2's.
  assert.equal(fast.lookupData(0, 0x7008, 0, false), -1);
  assert.equal(fast.translate(makeRequest(0, null, 0x7008), r), true);
  assert.equal(r.tlbHit, false, 'walked, not hit through ASID 2');
  assert.equal(r.pa, RAM_PA + 0x5008);
  assert.equal(r.asid, 1);
});

test('a refill after a probe through the hit record files a global leaf under the global tag, not the record\'s pinned one', () => {
  // SID 0's record pins ASID 1's (non-global) tag, and the refill uses that index without a tag
  // lookup; a global leaf (nG = 0) must still go under the global tag, so that TLBI by ASID 1 leaves it.
  const { fast, pts } = setup(4);
  const leaf = (pa: number, ng: boolean): bigint => encodeS1Leaf({ oa: BigInt(pa), level3: true, attrIndx: 1, ap: 1, sh: 3, ng });
  pts[0]!.map(0x7000n, leaf(RAM_PA, true), 3);
  pts[0]!.map(0x9000n, leaf(RAM_PA + 0x2000, false), 3);
  const r = newResult();
  assert.equal(fast.translate(makeRequest(0, null, 0x7000), r), true); // caches the STE, CD 0 and the record
  assert.equal(fast.translate(makeRequest(0, null, 0x9000), r), true); // misses through the record: the refill
  assert.equal(r.global, true);
  fast.invalidation.tlbiNhAsid(0, 1);
  // The table changes without a TLBI for the VA: the cached global entry still answers (stale, as allowed).
  pts[0]!.map(0x9000n, leaf(RAM_PA + 0x4000, false), 3);
  assert.equal(fast.translate(makeRequest(0, null, 0x9008), r), true);
  assert.equal(r.tlbHit, true, 'the global entry survived TLBI by ASID');
  assert.equal(r.pa, RAM_PA + 0x2008);
  // The non-global entry of ASID 1 did not survive it.
  assert.equal(fast.lookupData(0, 0x7008, 0, false), -1);
});

test('touchData reads the slots lookupData would probe first, and changes and counts nothing', () => {
  const { fast, pts } = setup(64);
  pts[0]!.map(0x5000n, encodeS1Leaf({ oa: BigInt(RAM_PA), level3: true, attrIndx: 1, ap: 1, sh: 3, ng: true }), 3);
  const touch = (...los: number[]): number => fast.touchData(0, Int32Array.from(los), new Int32Array(los.length), 0, los.length);
  assert.equal(touch(0x5008), 0, 'no hit record yet: nothing to touch');
  const r = newResult();
  assert.equal(fast.translate(makeRequest(0, null, 0x5008), r), true);
  const tlb = (fast as unknown as { tlb: { searches: number } }).tlb;
  const before = { stats: fast.stats(), searches: tlb.searches };
  // The entry was inserted alone into an empty table, so it sits in its home slot: the touch reads its key word.
  const key = touch(0x5010);
  assert.notEqual(key, 0);
  // Several addresses: their key words XORed (two touches of the same slot cancel out).
  assert.equal(touch(0x5010, 0x5ff8), 0);
  assert.equal(touch(0x5010, 0x5ff8, 0x5020), key);
  assert.deepEqual(fast.stats(), before.stats);
  assert.equal(tlb.searches, before.searches);
  assert.equal(fast.lookupData(0, 0x5010, 0, false), 12);
  assert.equal(fast.dataPa, RAM_PA + 0x10);
});

test('STE.PRIVCFG / INSTCFG act the same on a hit through the hit record, through lookupData and on a walk', () => {
  const features = { ...DEFAULT_FEATURES, attrPermsOvr: true };
  // Pages: privileged read-write only (AP 0b00), EL0 read-write with PXN, EL0 read-write with UXN.
  const pages = [{ ap: 0 }, { ap: 1, pxn: true }, { ap: 1, uxn: true }];
  let compared = 0;
  for (const privCfg of [0, 2, 3]) {
    for (const instCfg of [0, 2, 3]) {
      const { fast, plain, pts } = setup(64, features, { PRIVCFG: privCfg, INSTCFG: instCfg });
      const pt = pts[0]!;
      pages.forEach((p, i) => pt.map(BigInt(0x1000 * (i + 1)), encodeS1Leaf({ oa: BigInt(RAM_PA + i * 0x1000), level3: true, attrIndx: 1, sh: 3, ng: true, ...p }), 3));
      const ra = newResult();
      const rb = newResult();
      for (let i = 0; i < pages.length; i++) {
        const va = 0x1000 * (i + 1) + 8;
        for (const write of [false, true]) {
          for (const priv of [false, true]) {
            for (const instr of [false, true]) {
              const what = `PRIVCFG ${privCfg} INSTCFG ${instCfg} page ${i} write ${write} priv ${priv} instr ${instr}`;
              const req = makeRequest(0, null, va, { write, priv, instr });
              plain.translate(req, rb);
              // First a walk and refill (or a fault), then the same access as a hit through the record.
              fast.translate(req, ra);
              same(ra, rb, `${what} (first)`);
              fast.translate(req, ra);
              same(ra, rb, `${what} (again)`);
              compared++;
              // lookupData is an untagged data access: unprivileged, not an instruction, before the overrides.
              if (!priv && !instr) {
                const shift = fast.lookupData(0, va, 0, write);
                if (shift >= 0) assert.equal(fast.dataPa, rb.pa, `${what}: lookupData pa`);
                else assert.equal(rb.ok && ra.tlbHit, false, `${what}: lookupData refused an access the IOTLB answers`);
              }
            }
          }
        }
      }
    }
  }
  assert.equal(compared, 9 * 3 * 8);
});

test('hit records: streams configured alike share a flags class; with every class taken a stream has no record, and its hits take the full path, counted the same', () => {
  const arena = new Arena();
  const n = 1100; // more streams configured differently than there are flags classes (1,023)
  const features = { ...DEFAULT_FEATURES, attrPermsOvr: true }; // STE.PRIVCFG and INSTCFG apply
  const fast = new Translator(arena.mem, features, { tlbSize: 4096, configCacheSize: 2 * n + 16 });
  const plain = new Translator(arena.mem, features, { cachesEnabled: false });
  const strtab = arena.alloc(64 * 2048, 64 * 2048);
  for (const t of [fast, plain]) t.setStreamTable({ base: strtab, log2Size: 11, fmt: 0, split: 0 });
  // Page tables for T0SZ 16 (level 0 first) and 25 (level 1 first), mapping the same page.
  const pts = [new PageTables(arena, 12, 48, 0), new PageTables(arena, 12, 39, 1)];
  for (const pt of pts) pt.map(0x5000n, encodeS1Leaf({ oa: BigInt(RAM_PA), level3: true, attrIndx: 1, ap: 1, sh: 3, ng: true }), 3);
  // Streams 0..n-1 each configured differently (PRIVCFG 0/2/3, INSTCFG 0/2, TBI0, TBI1, T0SZ
  // 16/25, T1SZ 16-39: 1,152 combinations, each a flags word of its own); streams n..n+3 as
  // stream 0 is (their own ASIDs): they share its flags class.
  const twin = (sid: number): number => (sid >= n ? 0 : sid);
  for (let sid = 0; sid < n + 4; sid++) {
    const k = twin(sid);
    const pt = pts[Math.floor(k / 24) % 2]!;
    const cd = arena.alloc(64, 64);
    arena.writeWords(cd, arena.cd({
      T0SZ: 64 - pt.ia, TG0: 0, EPD1: 0, T1SZ: 16 + (Math.floor(k / 48) % 24), TG1: 2, TBI0: Math.floor(k / 6) % 2, TBI1: Math.floor(k / 12) % 2,
      V: 1, IPS: 5, AA64: 1, R: 1, A: 1, ASID: 1 + sid, TTB0: BigInt(pt.root) >> 4n, TTB1: BigInt(pt.root) >> 4n,
    }));
    arena.writeWords(strtab + sid * 64, arena.ste({ V: 1, CONFIG: 5, S1_CONTEXT_PTR: BigInt(cd) >> 6n, PRIVCFG: [0, 2, 3][k % 3]!, INSTCFG: [0, 2][Math.floor(k / 3) % 2]! }));
  }
  const recordPages = (fast as unknown as { cfgCache: { fast: (Int32Array | undefined)[] } }).cfgCache.fast;
  const r = newResult();
  const p = newResult();
  const order = [...Array.from({ length: n }, (_, i) => i), n, n + 1, n + 2, n + 3];
  for (const sid of order) {
    assert.equal(fast.translate(makeRequest(sid, null, 0x5008), r), true, `stream ${sid}`);
    assert.equal(plain.translate(makeRequest(sid, null, 0x5008), p), true);
    same(r, p, `stream ${sid}`);
  }
  const records = recordPages[0]!;
  for (const sid of order) {
    assert.equal(records[sid] !== 0, sid < 1023 || sid >= n, `stream ${sid}: a record exactly while a class was free or shared`);
    const before = fast.stats();
    assert.equal(fast.translate(makeRequest(sid, null, 0x5010), r), true);
    assert.equal(r.tlbHit, true, `stream ${sid}: an IOTLB hit`);
    assert.equal(r.pa, RAM_PA + 0x10);
    assert.equal(fast.lookupData(sid, 0x5018, 0, false), records[sid] !== 0 ? 12 : -1, `stream ${sid}: lookupData through the record only`);
    const after = fast.stats();
    assert.equal(after.tlbHits - before.tlbHits, records[sid] !== 0 ? 2 : 1);
    assert.equal(after.configHits - before.configHits, records[sid] !== 0 ? 4 : 2, `stream ${sid}: STE and CD hit per hit`);
  }
  // Once the records are gone, their classes are free again: the last streams get records.
  fast.invalidation.cfgiAll();
  for (const sid of [n - 1, n - 2]) assert.equal(fast.translate(makeRequest(sid, null, 0x5008), r), true);
  const now = recordPages[0]!; // the record page was freed with its last STE, and made again
  assert.notEqual(now[n - 1], 0);
  assert.notEqual(now[n - 2], 0);
  assert.equal(now[0], 0);
});
