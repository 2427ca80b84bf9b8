// The IOTLB: cached leaf translations tagged by stage kind, StreamWorld, VMID and ASID (or
// global), with the invalidation scopes of the TLBI commands (IHI 0070 §4.4) and FIFO eviction at
// a fixed capacity. Storage is sized once from the capacity (a host option, never a guest value):
//  - `slots`, an open-addressing hash table with linear probing, four 32-bit words (16 bytes, four
//    slots a cache line) a slot: page index, key word (page index high bits, size, region, tag
//    index), output frame, and the output frame's high bits with the permissions and the entry's
//    attribute class. A hit computes the home slot and compares two words in place: one
//    dependent memory access to a table half the size of one holding doubles, no allocation and
//    no boxing of 64-bit keys;
//  - attribute classes: the distinct attribute sets (global, shareability, MAIR attribute,
//    stage-2 MemAttr) of the entries, at most 255 at a time, refcounted; a hit reads its entry's
//    from this small table, which stays in the CPU's nearest cache, instead of from a second
//    table as large as `slots` (a second dependent cache miss). Entries inserted while all 255
//    are in use with other sets take the overflow class, whose attributes are read from `metas`;
//  - `metas`, per slot the packed attributes (packMeta) of its entry;
//  - `link`, per slot the tag's entry list (for ASID/VMID invalidation in proportion to the
//    entries of that tag) and the slot's place in the FIFO ring;
//  - per tag (a small index assigned while the tag has entries): list head and entry count, and
//    its place in its VMID's list of tags; tags and VMIDs found through typed-array indexes
//    (int-index.ts), so a refill that brings a new tag in and an old one out allocates nothing.
//    Slots hold the tag's index, not its value (a 36-bit number), and a lookup finds the index
//    first: a tag without an index has no entries. A tag can also be pinned (the configuration
//    cache pins the tag of each stream's hit record): it keeps its index while pinned, entries or
//    not, so that the record can hold the index and a hit needs no tag lookup at all.
// Deletion shifts the following cluster back (no tombstones), so a probe stops at the first free
// slot and probe lengths stay those of a table at most half full, or sparser when small (slotCount).
// Input addresses are "region keys": VA/IPA bits [51:0] plus the TTB1 region bit (VA[55]).
import { IntIndex } from './int-index.js';

export const KIND_S1 = 0; // stage 1 only, or combined stage 1 + stage 2 (keyed by VA)
export const KIND_S2 = 1; // stage 2 only (keyed by IPA)

const P2: number[] = [];
for (let i = 0; i <= 64; i++) P2.push(2 ** i);
const TWO32 = 0x1_0000_0000;

/** Tag of a TLB entry: kind, world, VMID and ASID+1 (0 = global / no ASID). Small (Smi) for VMID 0 EL1 stage 1. */
export function tagKey(kind: number, world: number, vmid: number, asidTag: number): number {
  return ((kind * 4 + world) * 65536 + vmid) * 131072 + asidTag;
}

/** The (kind, world, vmid) part of a tag, used to find all ASIDs of a VMID. */
function vmKey(tag: number): number {
  return Math.floor(tag / 131072);
}

function worldOf(tag: number): number {
  return Math.floor(tag / (65536 * 131072)) % 4;
}

export interface TlbCounters {
  hits: number;
  misses: number;
  evictions: number;
  invalidations: number;
}

/**
 * Slots of the hash table for `capacity` entries: the smallest power of two at least twice the
 * capacity (at most half full), or up to eight times it while that stays within 2^16 slots (1 MiB).
 * A sparser table has shorter clusters, so that a refill's probe and deletion loops and a miss's
 * probes end sooner (a quarter full or less halves the cost of a refill); for large tables the
 * memory a hit's probe touches matters more, and they stay at half full.
 */
export function slotCount(capacity: number): number {
  let n = 16;
  while (n < 2 * capacity) n *= 2;
  while (n < 8 * capacity && n < SMALL_TABLE_SLOTS) n *= 2;
  return n;
}
const SMALL_TABLE_SLOTS = 1 << 16;
/** Words a slot of `slots` (Int32Array). */
const SLOT = 4;
/** Page index (input address / block size) bits [31:0]. */
const W_PAGE = 0;
/**
 * 0 while the slot is free; else bit 0 set, page index bits [39:32] in [8:1], log2 block size - 12
 * in [13:9], region (TTB1) in [14], tag index bits [16:0] in [31:15]. Region keys have 52 bits,
 * so a page index has at most 40.
 */
const W_KEY = 1;
/** Output frame (output base / 4 KiB) bits [31:0]. Output bases are 4 KiB aligned and below 2^52. */
const W_OUT = 2;
/**
 * Output frame bits [39:32] in [7:0], privileged permissions in [10:8], unprivileged in [13:11],
 * attribute class in [21:14], tag index bits above 16 in [31:22] (tag indexes are below 2^27).
 */
const W_OUTHI = 3;
const TAG_LO_BITS = 17;
/** Bits of a packed meta (packMeta) that an attribute class holds: global, sh, mairAttr, s2MemAttr. */
const ATTR_BITS = ~0x1fff;
/** The attribute class of entries whose attributes are read from `metas` (every other class in use). */
const ATTR_OVERFLOW = 255;
/**
 * The slot layout, for the translator's hit path, which reads a hit's permissions in place.
 * Exported as one object, not as the constants themselves: V8 keeps an exported binding in a
 * module cell and reads it through the cell at every use in this module too (the IOTLB-hit
 * lookups measured about 10% slower with the constants exported).
 */
export const SLOT_LAYOUT = { SLOT, W_PAGE, W_KEY, W_OUT, W_OUTHI, TAG_LO_BITS } as const;
// Layout of `tagInfo` (Int32Array): per tag index, its entry list head, entry count (0 while the
// index is free), pins ({@link Iotlb.pinTag}; an index is freed with neither entries nor pins) and
// VM index.
const TAG_STRIDE = 4;
const T_HEAD = 0;
const T_COUNT = 1;
const T_PINS = 2;
const T_VM = 3;
// Slot layout of `link` (Int32Array).
const LSTRIDE = 5;
const TNEXT = 0;
const TPREV = 1;
const RING = 2;
const TSLOT = 3;
/** The entry's home slot (its hash), kept so that deletion need not hash the entries it shifts. */
const HOME = 4;

/** Packed attributes: shift[5:0] region[6] permsPriv[9:7] permsUnpriv[12:10] global[13] sh[15:14] mairAttr+1[24:16] s2MemAttr+1[29:25]. */
export function metaShift(m: number): number {
  return m & 63;
}
export function metaPerms(m: number, priv: boolean): number {
  return (m >>> (priv ? 7 : 10)) & 7;
}
export function metaGlobal(m: number): boolean {
  return ((m >>> 13) & 1) === 1;
}
export function metaSh(m: number): number {
  return (m >>> 14) & 3;
}
export function metaMair(m: number): number {
  return ((m >>> 16) & 511) - 1;
}
export function metaS2Attr(m: number): number {
  return ((m >>> 25) & 31) - 1;
}
/** log2 of the page or block size of a slot, from its W_KEY word. */
function slotShift(key: number): number {
  return ((key >>> 9) & 31) + 12;
}

/** Permissions (PERM_* bits) of a slot for the access's privilege, from its W_OUTHI word. */
function slotPerms(outHi: number, priv: boolean): number {
  return (outHi >>> (priv ? 8 : 11)) & 7;
}

/** Attribute class of a slot (ATTR_OVERFLOW: its attributes are in `metas`), from its W_OUTHI word. */
function slotClass(outHi: number): number {
  return (outHi >>> 14) & 255;
}

/** Page index bits [31:0] at page/block size 2^shift of the region key whose bits [31:0] are `lo` and bits [51:32] `hi`. */
function pageLoOf(lo: number, hi: number, shift: number): number {
  return shift < 32 ? (lo >>> shift) | (hi << (32 - shift)) : hi >>> (shift - 32);
}

/** Page index bits [39:32] (see {@link pageLoOf}). */
function pageHiOf(hi: number, shift: number): number {
  return shift < 32 ? hi >>> shift : 0;
}

/**
 * Home slot of an entry of tag index `ts` for (region, shift, page index), the page index's 32-bit
 * halves in `pageLo` / `pageHi`, in a table of 2^(32 - hashShift) slots. Exported with
 * {@link keyWord} for the translator's DMA hit, which probes the table in place.
 */
export function homeSlot(ts: number, region: number, shift: number, pageLo: number, pageHi: number, hashShift: number): number {
  const h = Math.imul(pageLo ^ Math.imul(pageHi ^ (shift << 8) ^ (region << 14) ^ Math.imul(ts, 0xc2b2_ae3d), 0x85eb_ca77), 0x9e37_79b1);
  return h >>> hashShift;
}

/** The W_KEY word of an entry. */
export function keyWord(ts: number, region: number, shift: number, pageHi: number): number {
  return 1 | (pageHi << 1) | ((shift - 12) << 9) | (region << 14) | ((ts & 0x1ffff) << 15);
}

export function packMeta(shift: number, region: number, permsPriv: number, permsUnpriv: number, global: boolean, sh: number, mairAttr: number, s2MemAttr: number): number {
  return (
    shift | (region << 6) | ((permsPriv & 7) << 7) | ((permsUnpriv & 7) << 10) | ((global ? 1 : 0) << 13) | ((sh & 3) << 14) |
    (((mairAttr + 1) & 511) << 16) | (((s2MemAttr + 1) & 31) << 25)
  );
}

export class Iotlb {
  /** Slot storage (see SLOT); the translator reads a hit's slot directly. */
  readonly slots: Int32Array;
  /** Per slot the packed attributes (packMeta) of its entry. */
  readonly metas: Int32Array;
  // ---- attribute classes: per class its attribute bits (ATTR_BITS of a meta) and entry count;
  // attribute bits -> class; the free classes.
  private readonly attrOf = new Int32Array(ATTR_OVERFLOW);
  private readonly attrUse = new Int32Array(ATTR_OVERFLOW);
  private readonly attrIndex = new IntIndex(ATTR_OVERFLOW);
  private readonly freeAttrs = new Int32Array(ATTR_OVERFLOW).map((_, i) => ATTR_OVERFLOW - 1 - i);
  private freeAttrCount = ATTR_OVERFLOW;
  private readonly link: Int32Array;
  /** FIFO of slots in insertion order (-1: that entry is gone). */
  private readonly ring: Int32Array;
  readonly mask: number;
  readonly hashShift: number;
  // ---- tags with entries: index -> head slot, entry count, tag value; tag -> index
  private readonly tagIndex: IntIndex;
  /** Per tag index, TAG_STRIDE words (see T_HEAD): the fields a refill and an eviction touch, in one cache line. */
  private readonly tagInfo: Int32Array;
  private readonly tagValueOf: Float64Array;
  /** Per tag index, the tag's VMID[15:0] and ASID[31:16] (0 for a tag without an ASID), as a translation reports them. */
  readonly tagIds: Int32Array;
  private readonly freeTagSlots: Int32Array;
  private freeTags: number;
  // ---- (kind, world, vmid) keys with tags: key -> VM index; per VM index the list of its tag indexes
  private readonly vmIndex: IntIndex;
  private readonly vmHeadOf: Int32Array;
  private readonly tagVmNext: Int32Array;
  private readonly tagVmPrev: Int32Array;
  private readonly freeVmSlots: Int32Array;
  private freeVms: number;
  private readonly shiftCount = new Int32Array(64);
  /** Bit (shift - 12) set while some entry has that page/block shift. */
  private shiftMask = 0;
  /** log2 of the one page or block size below 2^32 of the entries, while they all have that size; else 0. */
  oneShift = 0;
  private hand = 0;
  /** Input address (region key) for the next {@link lookup}, as a number and as 32-bit halves. */
  probe = 0;
  /** Tag for the next {@link lookupProbe} (a field: V8 boxes doubles passed to calls it does not inline). */
  probeTag = 0;
  /** {@link insert}'s tag, input address and output base (fields for the same reason). */
  insTag = 0;
  insAddr = 0;
  insOut = 0;
  /**
   * Set by a caller that has just looked this address up for this tag at every page/block size
   * present and found nothing (and that changed nothing since): the next insert skips its own
   * search for an entry to replace. Cleared by every insert.
   */
  insAbsent = false;
  /**
   * Set by a caller that holds a pin on `insTag` ({@link pinTag}): the tag's index, so that the next
   * insert looks no tag up. -1 otherwise; cleared by every insert.
   */
  insPinned = -1;
  /**
   * Entries marked global (nG = 0 at stage 1, and every EL2 and stage-2-only entry): lookups skip
   * the probe for a global stage-1 entry while there are none.
   */
  globalEntries = 0;
  size = 0;
  /** Searches of the table (lookups for all page sizes at once, and exact finds): the bounded-work tests count them. */
  searches = 0;
  readonly counters: TlbCounters = { hits: 0, misses: 0, evictions: 0, invalidations: 0 };

  /**
   * `capacity` entries; `pinCapacity` the most tags pinned at once (the configuration cache's
   * capacity: one pin per hit record). Tags with entries or pins never outnumber their sum.
   */
  constructor(readonly capacity: number, readonly pinCapacity = 0) {
    // Tag indexes (below capacity + pinCapacity) must fit the 27 bits a slot holds.
    if (!(Number.isSafeInteger(capacity) && capacity >= 1 && capacity <= 1 << 26)) throw new RangeError(`bad IOTLB capacity ${capacity}`);
    if (!(Number.isSafeInteger(pinCapacity) && pinCapacity >= 0 && pinCapacity <= 1 << 26)) throw new RangeError(`bad IOTLB pin capacity ${pinCapacity}`);
    const tags = capacity + pinCapacity;
    const slots = slotCount(capacity);
    this.mask = slots - 1;
    this.hashShift = 32 - Math.log2(slots);
    this.slots = new Int32Array(slots * SLOT);
    this.metas = new Int32Array(slots);
    this.link = new Int32Array(slots * LSTRIDE);
    this.ring = new Int32Array(capacity).fill(-1);
    this.tagInfo = new Int32Array(tags * TAG_STRIDE);
    this.tagValueOf = new Float64Array(tags);
    this.tagIds = new Int32Array(tags);
    this.freeTagSlots = new Int32Array(tags).map((_, i) => tags - 1 - i);
    this.freeTags = tags;
    this.tagIndex = new IntIndex(tags);
    this.vmIndex = new IntIndex(tags);
    this.vmHeadOf = new Int32Array(tags);
    this.tagVmNext = new Int32Array(tags);
    this.tagVmPrev = new Int32Array(tags);
    this.freeVmSlots = new Int32Array(tags).map((_, i) => tags - 1 - i);
    this.freeVms = tags;
  }

  /** Home slot of (tag index, region, shift, page); `pageLo`/`pageHi` are the page index's 32-bit halves. */
  private home(ts: number, region: number, shift: number, pageLo: number, pageHi: number): number {
    return homeSlot(ts, region, shift, pageLo, pageHi, this.hashShift);
  }

  /** Slot of the entry of tag index `ts` for (region, shift, page index), or -1. */
  private find(ts: number, region: number, shift: number, page: number): number {
    this.searches++;
    const slots = this.slots;
    const pageLo = page | 0;
    const pageHi = Math.floor(page / TWO32);
    const want = keyWord(ts, region, shift, pageHi);
    const tsHi = ts >>> TAG_LO_BITS;
    let i = this.home(ts, region, shift, pageLo, pageHi);
    for (;;) {
      const b = i * SLOT;
      const k = slots[b + W_KEY]!;
      if (k === 0) return -1;
      if (k === want && slots[b + W_PAGE] === pageLo && slots[b + W_OUTHI]! >>> 22 === tsHi) return i;
      i = (i + 1) & this.mask;
    }
  }

  /**
   * Slot of the entry of the tag in `probeTag` containing the region key in `probe`, or -1. No
   * allocation: tag and address are passed in fields, because V8 boxes doubles passed as
   * arguments to calls it does not inline.
   */
  lookupProbe(region: number): number {
    this.probeLo = this.probe >>> 0;
    this.probeHi = (this.probe / TWO32) >>> 0;
    return this.lookupHalves(region);
  }

  /** Region key for {@link lookupHalves} as 32-bit halves (`probeHi` holds key bits [51:32]). */
  probeLo = 0;
  probeHi = 0;

  /** {@link lookupProbe} with the region key already split into `probeLo` / `probeHi`. */
  lookupHalves(region: number): number {
    this.searches++;
    const ts = this.tagIndex.get(this.probeTag);
    return ts < 0 ? -1 : this.scan(ts, region, this.probeLo | 0, this.probeHi);
  }

  /**
   * {@link lookupHalves} for the stage-1 tag (kind, world, vmid, asidTag) given by its parts, and
   * the region key as `lo` (bits [31:0], int32) and `hi` (bits [51:32]): small integers only, so
   * that nothing is boxed when V8 does not inline the call (a tag value can exceed 2^31).
   */
  lookupTag(world: number, vmid: number, asidTag: number, region: number, lo: number, hi: number): number {
    this.searches++;
    const ts = this.tagIndex.get(tagKey(KIND_S1, world, vmid, asidTag));
    return ts < 0 ? -1 : this.scan(ts, region, lo, hi);
  }

  /**
   * Pins tag (kind, world, vmid, asidTag) (see {@link tagKey}) and returns its index, which stays
   * the tag's until {@link unpinTag}: a caller that holds it looks entries up with
   * {@link lookupIndex}, with no tag lookup. The caller never holds more than `pinCapacity` pins.
   */
  pinTag(kind: number, world: number, vmid: number, asidTag: number): number {
    const ts = this.tagSlot(tagKey(kind, world, vmid, asidTag));
    this.tagInfo[ts * TAG_STRIDE + T_PINS] = this.tagInfo[ts * TAG_STRIDE + T_PINS]! + 1;
    return ts;
  }

  /** Drops one pin of tag index `ts` (from {@link pinTag}). */
  unpinTag(ts: number): void {
    const n = this.tagInfo[ts * TAG_STRIDE + T_PINS]! - 1;
    this.tagInfo[ts * TAG_STRIDE + T_PINS] = n;
    if (n === 0 && this.tagInfo[ts * TAG_STRIDE + T_COUNT] === 0) this.releaseTag(ts);
  }

  /** Tags holding an index (with entries or pinned): the pin tests count them. */
  get tagsInUse(): number {
    return this.capacity + this.pinCapacity - this.freeTags;
  }

  /** {@link lookupTag} for a pinned tag, by the index {@link pinTag} gave: one search of the table. */
  lookupIndex(ts: number, region: number, lo: number, hi: number): number {
    this.searches++;
    return this.scan(ts, region, lo, hi);
  }

  /**
   * Reads the key words of the home slots that lookups of tag index `ts` probe first, at the
   * smallest page/block size present, for the input addresses whose 32-bit halves are `lo[k]` /
   * `hi[k]` (VA[55] selecting the region), k from `from` to `to` - 1, and returns them XORed.
   * Changes nothing and counts nothing: a caller about to look several addresses up touches their
   * slots first, so that their cache misses overlap instead of following one another (the caller
   * must use the value, or the compiler drops the reads).
   */
  touch(ts: number, lo: Int32Array, hi: Int32Array, from: number, to: number): number {
    const m = this.shiftMask;
    if (m === 0) return 0;
    const shift = 43 - Math.clz32(m & -m);
    const slots = this.slots;
    let x = 0;
    for (let k = from; k < to; k++) {
      const h = hi[k]!;
      const kh = h & 0xfffff;
      const l = lo[k]!;
      const pageLo = pageLoOf(l, kh, shift);
      const pageHi = pageHiOf(kh, shift);
      x ^= slots[this.home(ts, (h >>> 23) & 1, shift, pageLo, pageHi) * SLOT + W_KEY]!;
    }
    return x;
  }

  /** Slot of the entry of tag index `ts` containing the region key `lo` / `hi` (see {@link lookupTag}), or -1. */
  private scan(ts: number, region: number, lo: number, hi: number): number {
    const slots = this.slots;
    const mask = this.mask;
    const tsHi = ts >>> TAG_LO_BITS;
    let m = this.shiftMask;
    while (m !== 0) {
      const low = m & -m;
      m ^= low;
      const shift = 43 - Math.clz32(low);
      const pageLo = pageLoOf(lo, hi, shift);
      const pageHi = pageHiOf(hi, shift);
      const want = keyWord(ts, region, shift, pageHi);
      let i = this.home(ts, region, shift, pageLo, pageHi);
      for (;;) {
        const b = i * SLOT;
        const k = slots[b + W_KEY]!;
        if (k === want && slots[b + W_PAGE] === pageLo && slots[b + W_OUTHI]! >>> 22 === tsHi) return i;
        if (k === 0) break;
        i = (i + 1) & mask;
      }
    }
    return -1;
  }

  /** Permissions (PERM_* bits) of the entry in slot `i` for an access of the given privilege. */
  permsOf(i: number, priv: boolean): number {
    return slotPerms(this.slots[i * SLOT + W_OUTHI]!, priv);
  }

  /**
   * The packed attributes of the entry in slot `i`: a packMeta value with global, sh, mairAttr and
   * s2MemAttr (its other fields zero). Reads the slot's line and the small class table only.
   */
  attrsOf(i: number): number {
    const c = slotClass(this.slots[i * SLOT + W_OUTHI]!);
    return c !== ATTR_OVERFLOW ? this.attrOf[c]! : this.metas[i]! & ATTR_BITS;
  }
  /** Attribute classes in use (the class tests count them). */
  get attrClasses(): number {
    return ATTR_OVERFLOW - this.freeAttrCount;
  }
  /** log2 of the page or block size of the entry in slot `i`. */
  shiftOf(i: number): number {
    return slotShift(this.slots[i * SLOT + W_KEY]!);
  }

  /**
   * The output address of the region key whose bits [31:0] are `lo` and bits [51:32] `hi` (int32
   * values), which the entry in slot `i` contains, left in {@link outPa}: the entry's output base
   * plus the key's offset in the page or block, taken from the key's low bits (no division). Key
   * and address travel as halves and in a field: a number of 2^31 or more passed to or returned
   * from a call that V8 does not inline would be a boxed double.
   */
  outAt(i: number, lo: number, hi: number): void {
    const b = i * SLOT;
    const slots = this.slots;
    const shift = slotShift(slots[b + W_KEY]!);
    const base = ((slots[b + W_OUTHI]! & 0xff) * TWO32 + (slots[b + W_OUT]! >>> 0)) * 4096;
    this.outPa =
      shift < 32 ? base + ((lo & ((1 << shift) - 1)) >>> 0) : base + (hi & ((1 << (shift - 32)) - 1)) * TWO32 + (lo >>> 0);
  }

  /** Output of {@link outAt}. */
  outPa = 0;

  /** Page index (input address / block size) of the entry in slot `i`. */
  pageOf(i: number): number {
    const b = i * SLOT;
    return ((this.slots[b + W_KEY]! >>> 1) & 0xff) * TWO32 + (this.slots[b + W_PAGE]! >>> 0);
  }

  /**
   * Inserts (or replaces) the translation for tag `insTag` of the region key in `insAddr` with
   * output base `insOut` (the output address of the block's first byte: 4 KiB aligned, below
   * 2^52); returns its slot.
   */
  insert(region: number, shift: number, meta: number): number {
    const tag = this.insTag;
    const page = Math.floor(this.insAddr / P2[shift]!);
    const pinned = this.insPinned;
    this.insPinned = -1;
    let prev = -1;
    if (!this.insAbsent) {
      const known = pinned >= 0 ? pinned : this.tagIndex.get(tag);
      if (known >= 0) prev = this.find(known, region, shift, page);
    }
    this.insAbsent = false;
    if (prev >= 0) this.remove(prev, false);
    // FIFO eviction: the ring position we are about to reuse names the oldest entry.
    const old = this.ring[this.hand]!;
    if (old >= 0) {
      this.remove(old, false);
      this.counters.evictions++;
    }
    // The tag's index after the removals (they may have released it, unless it is pinned).
    const ts = pinned >= 0 ? pinned : this.tagSlot(tag);
    const slots = this.slots;
    const pageLo = page | 0;
    const pageHi = Math.floor(page / TWO32);
    const home = this.home(ts, region, shift, pageLo, pageHi);
    let i = home;
    while (slots[i * SLOT + W_KEY]! !== 0) i = (i + 1) & this.mask;
    const b = i * SLOT;
    const frame = this.insOut / 4096;
    const frameHi = Math.floor(frame / TWO32);
    slots[b + W_PAGE] = pageLo;
    slots[b + W_KEY] = keyWord(ts, region, shift, pageHi);
    slots[b + W_OUT] = frame | 0;
    slots[b + W_OUTHI] = (frameHi & 0xff) | (metaPerms(meta, true) << 8) | (metaPerms(meta, false) << 11) | (this.attrClass(meta) << 14) | ((ts >>> TAG_LO_BITS) << 22);
    this.metas[i] = meta;
    const l = i * LSTRIDE;
    const head = this.tagInfo[ts * TAG_STRIDE + T_HEAD]!;
    this.link[l + TNEXT] = head;
    this.link[l + TPREV] = -1;
    this.link[l + TSLOT] = ts;
    this.link[l + HOME] = home;
    if (head >= 0) this.link[head * LSTRIDE + TPREV] = i;
    this.tagInfo[ts * TAG_STRIDE + T_HEAD] = i;
    this.tagInfo[ts * TAG_STRIDE + T_COUNT] = this.tagInfo[ts * TAG_STRIDE + T_COUNT]! + 1;
    this.link[l + RING] = this.hand;
    this.ring[this.hand] = i;
    this.hand = this.hand + 1 === this.capacity ? 0 : this.hand + 1;
    if (this.shiftCount[shift]!++ === 0) {
      this.shiftMask |= 1 << (shift - 12);
      this.sizesChanged();
    }
    if (metaGlobal(meta)) this.globalEntries++;
    this.size++;
    return i;
  }

  /** Keeps {@link oneShift} in step with `shiftMask` (called when a size appears or goes). */
  private sizesChanged(): void {
    const m = this.shiftMask;
    const shift = 43 - Math.clz32(m);
    this.oneShift = m !== 0 && (m & (m - 1)) === 0 && shift < 32 ? shift : 0;
  }

  /** The attribute class for a new entry with packed attributes `meta`, counted as one more user; ATTR_OVERFLOW when every class is in use with other attributes. */
  private attrClass(meta: number): number {
    const bits = meta & ATTR_BITS;
    let c = this.attrIndex.get(bits);
    if (c < 0) {
      if (this.freeAttrCount === 0) return ATTR_OVERFLOW;
      c = this.freeAttrs[--this.freeAttrCount]!;
      this.attrIndex.set(bits, c);
      this.attrOf[c] = bits;
    }
    this.attrUse[c] = this.attrUse[c]! + 1;
    return c;
  }

  /** The tag's index, assigned when it gets its first entry or pin (tags never outnumber entries plus pins). */
  private tagSlot(tag: number): number {
    const known = this.tagIndex.get(tag);
    if (known >= 0) return known;
    const ts = this.freeTagSlots[--this.freeTags]!;
    this.tagIndex.set(tag, ts);
    this.tagInfo[ts * TAG_STRIDE + T_HEAD] = -1;
    this.tagInfo[ts * TAG_STRIDE + T_COUNT] = 0;
    this.tagValueOf[ts] = tag;
    const vk = vmKey(tag);
    const asidTag = tag - vk * 131072;
    this.tagIds[ts] = (vk % 65536) | ((asidTag > 0 ? asidTag - 1 : 0) << 16);
    let vs = this.vmIndex.get(vk);
    if (vs < 0) {
      vs = this.freeVmSlots[--this.freeVms]!;
      this.vmIndex.set(vk, vs);
      this.vmHeadOf[vs] = -1;
    }
    const head = this.vmHeadOf[vs]!;
    this.tagInfo[ts * TAG_STRIDE + T_VM] = vs;
    this.tagVmNext[ts] = head;
    this.tagVmPrev[ts] = -1;
    if (head >= 0) this.tagVmPrev[head] = ts;
    this.vmHeadOf[vs] = ts;
    return ts;
  }

  private remove(i: number, counted: boolean): void {
    const link = this.link;
    if (this.slots[i * SLOT + W_KEY] === 0) return;
    const m = this.metas[i]!;
    const l = i * LSTRIDE;
    const ts = link[l + TSLOT]!;
    const tn = link[l + TNEXT]!;
    const tp = link[l + TPREV]!;
    if (tp >= 0) link[tp * LSTRIDE + TNEXT] = tn;
    else this.tagInfo[ts * TAG_STRIDE + T_HEAD] = tn;
    if (tn >= 0) link[tn * LSTRIDE + TPREV] = tp;
    this.ring[link[l + RING]!] = -1;
    const n = this.tagInfo[ts * TAG_STRIDE + T_COUNT]! - 1;
    this.tagInfo[ts * TAG_STRIDE + T_COUNT] = n;
    if (n === 0 && this.tagInfo[ts * TAG_STRIDE + T_PINS] === 0) this.releaseTag(ts);
    const shift = m & 63;
    if (--this.shiftCount[shift]! === 0) {
      this.shiftMask &= ~(1 << (shift - 12));
      this.sizesChanged();
    }
    if (metaGlobal(m)) this.globalEntries--;
    const c = slotClass(this.slots[i * SLOT + W_OUTHI]!);
    if (c !== ATTR_OVERFLOW && --this.attrUse[c]! === 0) {
      this.attrIndex.delete(this.attrOf[c]!);
      this.freeAttrs[this.freeAttrCount++] = c;
    }
    this.size--;
    if (counted) this.counters.invalidations++;
    this.slots[i * SLOT + W_KEY] = 0;
    this.closeGap(i);
  }

  private releaseTag(ts: number): void {
    const tag = this.tagValueOf[ts]!;
    this.tagIndex.delete(tag);
    this.freeTagSlots[this.freeTags++] = ts;
    const vs = this.tagInfo[ts * TAG_STRIDE + T_VM]!;
    const next = this.tagVmNext[ts]!;
    const prev = this.tagVmPrev[ts]!;
    if (prev >= 0) this.tagVmNext[prev] = next;
    else this.vmHeadOf[vs] = next;
    if (next >= 0) this.tagVmPrev[next] = prev;
    if (this.vmHeadOf[vs]! < 0) {
      this.vmIndex.delete(vmKey(tag));
      this.freeVmSlots[this.freeVms++] = vs;
    }
  }

  /** Backward-shift deletion: moves later members of the cluster into the freed slot `gap`. */
  private closeGap(gap: number): void {
    const slots = this.slots;
    const mask = this.mask;
    let j = gap;
    for (;;) {
      j = (j + 1) & mask;
      if (slots[j * SLOT + W_KEY]! === 0) return;
      const k = this.link[j * LSTRIDE + HOME]!;
      // The entry at j may stay when its home lies cyclically in (gap, j].
      const stays = gap <= j ? gap < k && k <= j : gap < k || k <= j;
      if (stays) continue;
      this.move(j, gap);
      gap = j;
    }
  }

  private move(from: number, to: number): void {
    const slots = this.slots;
    const link = this.link;
    const fb = from * SLOT;
    const tb = to * SLOT;
    slots[tb + W_PAGE] = slots[fb + W_PAGE]!;
    slots[tb + W_KEY] = slots[fb + W_KEY]!;
    slots[tb + W_OUT] = slots[fb + W_OUT]!;
    slots[tb + W_OUTHI] = slots[fb + W_OUTHI]!;
    this.metas[to] = this.metas[from]!;
    slots[fb + W_KEY] = 0;
    const fl = from * LSTRIDE;
    const tl = to * LSTRIDE;
    const tn = link[fl + TNEXT]!;
    const tp = link[fl + TPREV]!;
    const ts = link[fl + TSLOT]!;
    link[tl + TNEXT] = tn;
    link[tl + TPREV] = tp;
    link[tl + TSLOT] = ts;
    link[tl + RING] = link[fl + RING]!;
    link[tl + HOME] = link[fl + HOME]!;
    if (tp >= 0) link[tp * LSTRIDE + TNEXT] = to;
    else this.tagInfo[ts * TAG_STRIDE + T_HEAD] = to;
    if (tn >= 0) link[tn * LSTRIDE + TPREV] = to;
    this.ring[link[tl + RING]!] = to;
  }

  private clearTag(tag: number): void {
    const ts = this.tagIndex.get(tag);
    if (ts < 0) return;
    // Removing an entry can move another entry of the same tag (cluster shift): restart from the
    // head each time. Each removal is one entry of the tag, so this is bounded by its count.
    while (this.tagIndex.get(tag) === ts && this.tagInfo[ts * TAG_STRIDE + T_HEAD]! >= 0) this.remove(this.tagInfo[ts * TAG_STRIDE + T_HEAD]!, true);
  }

  /** Removes every entry of `tag` whose range intersects [lo, hi) in `region`. */
  private invalidateRange(tag: number, region: number, lo: number, hi: number): void {
    const ts = this.tagIndex.get(tag);
    if (ts < 0) return;
    const count = this.tagInfo[ts * TAG_STRIDE + T_COUNT]!;
    // Probe page by page when cheaper than scanning the tag's entries (bounded by the entry count).
    let probes = 0;
    for (let s = 12; s < 44; s++) if (this.shiftCount[s]! > 0) probes += Math.ceil((hi - lo) / P2[s]!) + 1;
    if (probes <= count) {
      for (let s = 12; s < 44; s++) {
        if (this.shiftCount[s]! === 0) continue;
        const last = Math.floor((hi - 1) / P2[s]!);
        for (let p = Math.floor(lo / P2[s]!); p <= last; p++) {
          const i = this.find(ts, region, s, p);
          if (i >= 0) this.remove(i, true);
        }
      }
      return;
    }
    // Scan the tag's list: collect the doomed slots first (removal moves entries around).
    const doomed: number[] = [];
    let i = this.tagInfo[ts * TAG_STRIDE + T_HEAD]!;
    while (i >= 0) {
      const m = this.metas[i]!;
      const size = P2[m & 63]!;
      const page = this.pageOf(i);
      const inBase = page * size;
      if (((m >>> 6) & 1) === region && inBase < hi && inBase + size > lo) doomed.push(page, m);
      i = this.link[i * LSTRIDE + TNEXT]!;
    }
    // The tag keeps its index while it has entries; once the last one goes, nothing is left to find.
    for (let k = 0; k < doomed.length && this.tagIndex.get(tag) === ts; k += 2) {
      const m = doomed[k + 1]!;
      const slot = this.find(ts, (m >>> 6) & 1, m & 63, doomed[k]!);
      if (slot >= 0) this.remove(slot, true);
    }
  }

  private tagsOfVm(kind: number, world: number, vmid: number): number[] {
    const out: number[] = [];
    const vs = this.vmIndex.get((kind * 4 + world) * 65536 + vmid);
    if (vs < 0) return out;
    for (let ts = this.vmHeadOf[vs]!; ts >= 0; ts = this.tagVmNext[ts]!) out.push(this.tagValueOf[ts]!);
    return out;
  }

  /** Every tag with entries (invalidation scans only). */
  private allTags(): number[] {
    const out: number[] = [];
    for (let ts = 0; ts < this.tagValueOf.length; ts++) if (this.tagInfo[ts * TAG_STRIDE + T_COUNT]! > 0) out.push(this.tagValueOf[ts]!);
    return out;
  }

  // ---------------------------------------------------------------- invalidation scopes

  /** Everything. */
  invalidateAll(): void {
    for (const tag of this.allTags()) this.clearTag(tag);
  }

  /** All entries of the given worlds (both kinds, every VMID/ASID): TLBI_NSNH_ALL (EL1), TLBI_EL2_ALL. */
  invalidateWorld(worlds: readonly number[]): void {
    for (const tag of this.allTags()) if (worlds.includes(worldOf(tag))) this.clearTag(tag);
  }

  /** All entries of `kind` in (world, vmid), every ASID including global. */
  invalidateVm(kind: number, world: number, vmid: number): void {
    for (const tag of this.tagsOfVm(kind, world, vmid)) this.clearTag(tag);
  }

  /** Non-global entries of one ASID. */
  invalidateAsid(kind: number, world: number, vmid: number, asid: number): void {
    this.clearTag(tagKey(kind, world, vmid, asid + 1));
  }

  /** Entries covering [lo, hi) of `region` for one ASID plus global entries (asid -1: all ASIDs). */
  invalidateVa(kind: number, world: number, vmid: number, asid: number, region: number, lo: number, hi: number): void {
    if (asid < 0) {
      for (const tag of this.tagsOfVm(kind, world, vmid)) this.invalidateRange(tag, region, lo, hi);
      return;
    }
    this.invalidateRange(tagKey(kind, world, vmid, asid + 1), region, lo, hi);
    this.invalidateRange(tagKey(kind, world, vmid, 0), region, lo, hi);
  }
}
