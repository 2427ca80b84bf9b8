// The IOTLB's hash table (open addressing, backward-shift deletion, tag lists, FIFO ring) against
// a deliberately simple reference: a Map of entries plus the same FIFO ring of insertion order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Iotlb, KIND_S1, KIND_S2, packMeta, slotCount, tagKey } from './iotlb.js';

/** Output base (the block's first byte) of the entry in slot `i`. */
function outBase(t: Iotlb, i: number): number {
  const key = t.pageOf(i) * 2 ** t.shiftOf(i);
  t.outAt(i, key | 0, (key / 2 ** 32) | 0);
  return t.outPa;
}

interface RefEntry {
  tag: number;
  region: number;
  shift: number;
  page: number;
  out: number;
  meta: number;
  pos: number;
}

class RefTlb {
  readonly map = new Map<string, RefEntry>();
  readonly ring: (string | null)[];
  hand = 0;
  evictions = 0;
  invalidations = 0;
  constructor(readonly capacity: number) {
    this.ring = new Array<string | null>(capacity).fill(null);
  }
  static key(tag: number, region: number, shift: number, page: number): string {
    return `${tag}/${region}/${shift}/${page}`;
  }
  private drop(k: string, counted: boolean): void {
    const e = this.map.get(k)!;
    this.ring[e.pos] = null;
    this.map.delete(k);
    if (counted) this.invalidations++;
  }
  insert(tag: number, region: number, addr: number, shift: number, out: number, meta: number): void {
    const page = Math.floor(addr / 2 ** shift);
    const k = RefTlb.key(tag, region, shift, page);
    if (this.map.has(k)) this.drop(k, false);
    const old = this.ring[this.hand];
    if (old !== null && old !== undefined) {
      this.drop(old, false);
      this.evictions++;
    }
    this.map.set(k, { tag, region, shift, page, out, meta, pos: this.hand });
    this.ring[this.hand] = k;
    this.hand = (this.hand + 1) % this.capacity;
  }
  lookup(tag: number, region: number, addr: number): RefEntry | null {
    const shifts = [...new Set([...this.map.values()].map((e) => e.shift))].sort((a, b) => a - b);
    for (const s of shifts) {
      const e = this.map.get(RefTlb.key(tag, region, s, Math.floor(addr / 2 ** s)));
      if (e) return e;
    }
    return null;
  }
  removeWhere(pred: (e: RefEntry) => boolean): void {
    for (const [k, e] of [...this.map]) if (pred(e)) this.drop(k, true);
  }
}

const vmOf = (tag: number): number => Math.floor(tag / 131072);

type Op =
  | { op: 'insert'; t: number; region: number; addr: number; shift: number; out: number; attr: number }
  | { op: 'lookup'; t: number; region: number; addr: number }
  | { op: 'all' }
  | { op: 'vm'; t: number }
  | { op: 'asid'; t: number }
  | { op: 'va'; t: number; region: number; lo: number; len: number; allAsids: boolean };

// A few tags: (kind, world, vmid, asid+1); asid+1 = 0 is the global tag.
const TAGS = [
  tagKey(KIND_S1, 0, 0, 1), tagKey(KIND_S1, 0, 0, 2), tagKey(KIND_S1, 0, 0, 0), tagKey(KIND_S1, 0, 3, 1),
  tagKey(KIND_S1, 2, 0, 0), tagKey(KIND_S2, 0, 7, 0), tagKey(KIND_S1, 0, 65535, 65536),
];
const SHIFTS = [12, 16, 21, 30, 36, 42];
// Addresses in a small window (so entries collide and overlap), a few far away (2^47, 2^51), and
// some anywhere in the 2^42 bytes above 2^46 (offsets in blocks of 4 GiB and more with bits above 31).
const addrArb = fc.oneof(
  fc.integer({ min: 0, max: 0x7f_ffff }),
  fc.tuple(fc.nat(0x3ff), fc.nat(0xffff_ffff)).map(([h, l]) => 2 ** 46 + h * 2 ** 32 + l),
  fc.integer({ min: 0, max: 0xffff }).map((x) => 2 ** 47 + x * 4096),
  fc.integer({ min: 0, max: 0xff }).map((x) => 2 ** 51 + x * 4096),
);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('insert' as const), t: fc.nat(TAGS.length - 1), region: fc.nat(1), addr: addrArb, shift: fc.constantFrom(...SHIFTS), out: fc.nat(0xfff_ffff), attr: fc.nat(5) }) },
  { weight: 6, arbitrary: fc.record({ op: fc.constant('lookup' as const), t: fc.nat(TAGS.length - 1), region: fc.nat(1), addr: addrArb }) },
  { weight: 1, arbitrary: fc.constant({ op: 'all' as const }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('vm' as const), t: fc.nat(TAGS.length - 1) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('asid' as const), t: fc.nat(TAGS.length - 1) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('va' as const), t: fc.nat(TAGS.length - 1), region: fc.nat(1), lo: addrArb, len: fc.integer({ min: 1, max: 0x40_0000 }), allAsids: fc.boolean() }) },
);

// Small capacities make clusters that wrap around the end of the table; larger ones long chains.
for (const [minCap, maxCap, runs] of [[1, 8, 400], [1, 40, 300]] as const) test(`IOTLB agrees with a simple reference under random inserts, lookups, invalidations and evictions (capacity ${minCap}-${maxCap})`, () => {
  fc.assert(
    fc.property(fc.integer({ min: minCap, max: maxCap }), fc.array(opArb, { maxLength: 400 }), (capacity, ops) => {
      const tlb = new Iotlb(capacity);
      const ref = new RefTlb(capacity);
      for (const o of ops) {
        switch (o.op) {
          case 'insert': {
            const tag = TAGS[o.t]!;
            const addr = o.addr - (o.addr % 2 ** o.shift);
            // A few attribute sets (shareability, MAIR attribute, stage-2 MemAttr or none).
            const meta = packMeta(o.shift, o.region, 3, 1, tag % 131072 === 0, o.attr & 3, [0x44, 0xff, 0x04][o.attr % 3]!, o.attr < 3 ? -1 : 0xf);
            tlb.insTag = tag;
            tlb.insAddr = addr;
            tlb.insOut = o.out * 4096;
            const slot = tlb.insert(o.region, o.shift, meta);
            assert.equal(tlb.metas[slot], meta);
            assert.equal(tlb.attrsOf(slot), meta & ~0x1fff);
            ref.insert(tag, o.region, addr, o.shift, o.out * 4096, meta);
            break;
          }
          case 'lookup': {
            tlb.probe = o.addr;
            tlb.probeTag = TAGS[o.t]!;
            const slot = tlb.lookupProbe(o.region);
            const want = ref.lookup(TAGS[o.t]!, o.region, o.addr);
            if (want === null) assert.equal(slot, -1);
            else {
              assert.ok(slot >= 0, 'the reference has the entry');
              assert.equal(outBase(tlb, slot), want.out);
              // The output address of the looked-up address itself: the base plus its offset in the block.
              tlb.outAt(slot, o.addr | 0, Math.floor(o.addr / 2 ** 32) | 0);
              assert.equal(tlb.outPa, want.out + (o.addr - want.page * 2 ** want.shift));
              assert.equal(tlb.metas[slot], want.meta);
              assert.equal(tlb.attrsOf(slot), want.meta & ~0x1fff);
            }
            break;
          }
          case 'all':
            tlb.invalidateAll();
            ref.removeWhere(() => true);
            break;
          case 'vm': {
            const tag = TAGS[o.t]!;
            const kind = Math.floor(tag / (4 * 65536 * 131072));
            const world = Math.floor(tag / (65536 * 131072)) % 4;
            const vmid = vmOf(tag) % 65536;
            tlb.invalidateVm(kind, world, vmid);
            ref.removeWhere((e) => vmOf(e.tag) === vmOf(tag));
            break;
          }
          case 'asid': {
            const tag = TAGS[o.t]!;
            const asidTag = tag % 131072;
            if (asidTag === 0) break;
            const world = Math.floor(tag / (65536 * 131072)) % 4;
            const kind = Math.floor(tag / (4 * 65536 * 131072));
            tlb.invalidateAsid(kind, world, vmOf(tag) % 65536, asidTag - 1);
            ref.removeWhere((e) => e.tag === tag);
            break;
          }
          case 'va': {
            const tag = TAGS[o.t]!;
            const world = Math.floor(tag / (65536 * 131072)) % 4;
            const kind = Math.floor(tag / (4 * 65536 * 131072));
            const asid = o.allAsids ? -1 : Math.max(0, (tag % 131072) - 1);
            const lo = o.lo;
            const hi = o.lo + o.len;
            tlb.invalidateVa(kind, world, vmOf(tag) % 65536, asid, o.region, lo, hi);
            ref.removeWhere((e) => {
              if (vmOf(e.tag) !== vmOf(tag) || e.region !== o.region) return false;
              if (asid >= 0 && e.tag % 131072 !== asid + 1 && e.tag % 131072 !== 0) return false;
              const base = e.page * 2 ** e.shift;
              return base < hi && base + 2 ** e.shift > lo;
            });
            break;
          }
        }
        assert.equal(tlb.size, ref.map.size);
        // One attribute class per distinct attribute set held: classes are counted exactly.
        assert.equal(tlb.attrClasses, new Set([...ref.map.values()].map((e) => e.meta & ~0x1fff)).size);
      }
      assert.equal(tlb.counters.evictions, ref.evictions);
      assert.equal(tlb.counters.invalidations, ref.invalidations);
    }),
    { numRuns: runs, seed: 0x1071b },
  );
});

test('IOTLB storage is sized by the capacity, never by what is inserted', () => {
  // A power of two, at least 2x the capacity, up to 8x while within 2^16 slots.
  assert.deepEqual([1, 16, 1000, 16384, 65536, 100_000].map(slotCount), [16, 128, 8192, 65536, 131072, 262144]);
  const tlb = new Iotlb(1000);
  assert.equal(tlb.metas.length, 8192);
  assert.equal(tlb.slots.length, 8192 * 4);
  for (let i = 0; i < 10_000; i++) {
    tlb.insTag = tagKey(KIND_S1, 0, 0, 1 + (i % 50));
    tlb.insAddr = i * 4096;
    tlb.insOut = i * 4096;
    tlb.insert(0, 12, packMeta(12, 0, 3, 3, false, 0, 0, -1));
  }
  assert.equal(tlb.size, 1000);
  assert.equal(tlb.counters.evictions, 9000);
  assert.equal(tlb.metas.length, 8192);
  assert.equal(tlb.slots.length, 8192 * 4);
});

test('IOTLB attribute classes: 255 distinct attribute sets share the class table, more take the overflow class, freed classes are reused', () => {
  const tlb = new Iotlb(600);
  // Attribute set k: shareability k & 3, MAIR attribute (k >> 2) & 255, global for odd k.
  const metaOf = (k: number): number => packMeta(12, 0, 3, 1, (k & 1) === 1, k & 3, (k >> 2) & 255, -1);
  const insert = (k: number, page: number): number => {
    tlb.insTag = tagKey(KIND_S1, 0, 0, 1 + (k % 7));
    tlb.insAddr = page * 4096;
    tlb.insOut = page * 8192;
    return tlb.insert(0, 12, metaOf(k));
  };
  for (let k = 0; k < 300; k++) insert(k, k);
  assert.equal(tlb.attrClasses, 255);
  for (let k = 0; k < 300; k++) {
    tlb.probeTag = tagKey(KIND_S1, 0, 0, 1 + (k % 7));
    tlb.probe = k * 4096;
    const slot = tlb.lookupProbe(0);
    assert.ok(slot >= 0);
    assert.equal(tlb.attrsOf(slot), metaOf(k) & ~0x1fff, `attribute set ${k}`);
  }
  tlb.invalidateAll();
  assert.equal(tlb.attrClasses, 0);
  // Every class is free again: 255 new sets get classes, and all read back.
  for (let k = 300; k < 555; k++) insert(k, k);
  assert.equal(tlb.attrClasses, 255);
  for (let k = 300; k < 555; k++) {
    tlb.probeTag = tagKey(KIND_S1, 0, 0, 1 + (k % 7));
    tlb.probe = k * 4096;
    assert.equal(tlb.attrsOf(tlb.lookupProbe(0)), metaOf(k) & ~0x1fff);
  }
});

test('IOTLB deletion keeps entries findable when a cluster wraps around the end of the table', () => {
  const tag = tagKey(KIND_S1, 0, 0, 1);
  const meta = packMeta(12, 0, 3, 3, false, 0, 0, -1);
  // Home slot of a page: where it lands when inserted alone into an empty table of capacity 8.
  const lastSlot = new Iotlb(8).metas.length - 1;
  const homeOf = (page: number): number => {
    const t = new Iotlb(8);
    t.insTag = tag;
    t.insAddr = page * 4096;
    t.insOut = 0;
    return t.insert(0, 12, meta);
  };
  let last = -1;
  let first = -1;
  for (let p = 0; (last < 0 || first < 0) && p < 100_000; p++) {
    const h = homeOf(p);
    if (h === lastSlot && last < 0) last = p;
    if (h === 0 && first < 0) first = p;
  }
  assert.ok(last >= 0 && first >= 0);
  const t = new Iotlb(8);
  for (const [p, out] of [[last, 0x1000], [first, 0x2000]] as const) {
    t.insTag = tag;
    t.insAddr = p * 4096;
    t.insOut = out;
    t.insert(0, 12, meta);
  }
  t.invalidateVa(KIND_S1, 0, 0, 0, 0, last * 4096, last * 4096 + 4096);
  t.probeTag = tag;
  t.probe = first * 4096 + 8;
  const slot = t.lookupProbe(0);
  assert.equal(slot, 0, 'the entry whose home is slot 0 stays there');
  assert.equal(outBase(t, slot), 0x2000);
  t.probe = last * 4096;
  assert.equal(t.lookupProbe(0), -1);
});

test('IOTLB entries of tags whose indexes differ only above the slot key word bits stay apart', () => {
  // More than 2^17 tags at once: indexes i and i + 2^17 share the key word's tag bits.
  const n = (1 << 17) + 300;
  const tlb = new Iotlb(n);
  const tagOf = (i: number): number => tagKey(KIND_S1, 0, i >>> 16, (i & 0xffff) + 1);
  for (let i = 0; i < n; i++) {
    tlb.insTag = tagOf(i);
    tlb.insAddr = 0x1000;
    tlb.insOut = (i + 1) * 4096;
    tlb.insert(0, 12, packMeta(12, 0, 3, 1, false, 0, 0, -1));
  }
  assert.equal(tlb.size, n);
  for (let i = 0; i < n; i++) {
    tlb.probeTag = tagOf(i);
    tlb.probe = 0x1008;
    const slot = tlb.lookupProbe(0);
    if (slot < 0 || outBase(tlb, slot) !== (i + 1) * 4096) assert.fail(`tag ${i}: slot ${slot} is not its own entry`);
  }
  // An index above 2^17 keeps its high bits in the slot: removing the low tags leaves the high ones.
  tlb.invalidateVm(KIND_S1, 0, 0);
  assert.equal(tlb.size, n - 65536);
  tlb.probeTag = tagOf(1 << 17);
  tlb.probe = 0x1000;
  assert.equal(outBase(tlb, tlb.lookupProbe(0)), ((1 << 17) + 1) * 4096);
});
