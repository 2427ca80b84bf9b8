// Per-stream DMA port of the SMMUv3 device: a bus master's reads and writes, translated by the
// SMMU (IHI 0070 chapter 3) and split on translation granules. Each chunk is translated (IOTLB hit:
// no allocation, no BigInt) and copied to or from guest memory. A fault stops the access: the
// event (if any) has already been recorded by the device, and a DmaFault describes it.
// Untagged PCIe traffic is an unprivileged data access (§13.7).
import type { DmaFault, DmaPort, PhysMemory, RamWords } from '../../memory/types.js';
import { GuestMemory } from '../../memory/guest-memory.js';
import type { DmaSegments } from '../../memory/dma-segments.js';
import { newRequest, newResult, setAddress, type TranslationRequest, type TranslationResult } from '../translation/types.js';

/** What a port needs from its SMMU: one translation, with SMMUEN/GBPA and event recording applied. */
export interface PortTranslator {
  /** Translates `req` into `res`; on failure returns the DmaFault reason ('abort', event name...). */
  translateAccess(req: TranslationRequest, res: TranslationResult): string | null;
  /** SMMU_CR0.SMMUEN: translation on (off: GBPA applies, through {@link translateAccess}). */
  smmuEnabled(): boolean;
  /** The translation engine's IOTLB-hit shortcut for untagged data accesses. */
  readonly translator: DataLookup;
}

/** See Translator.lookupData. */
export interface DataLookup {
  /** log2 of the page or block size on a permitted IOTLB hit (its PA in `dataPa`), else -1 with nothing changed. Pass the address halves as int32 values (`x | 0`): V8 boxes larger numbers passed to a call. */
  lookupData(sid: number, lo: number, hi: number, write: boolean): number;
  /** Reads the IOTLB slots lookupData would read first for the addresses lo[k] / hi[k], k in [from, to), changing nothing: touching a batch first overlaps their cache misses. */
  touchData(sid: number, lo: Int32Array, hi: Int32Array, from: number, to: number): number;
  readonly dataPa: number;
}

// Buffer.prototype.copy works on any Uint8Array and copies a sub-range of it (Node.js 20 creates a
// view of the source range per call when that range is not the whole source).
const copyBytes = Buffer.prototype.copy as (this: Uint8Array, target: Uint8Array, targetStart: number, sourceStart: number, sourceEnd: number) => number;

/**
 * Copies up to this many bytes that would need a view (any read, a write of part of the buffer)
 * in a loop instead: no allocation, and as fast or faster at these sizes. Node.js 20,
 * cache-resident, ns per copy through Buffer.prototype.copy / by 32-bit words (RAM side 4-byte
 * aligned) / byte by byte: 17 bytes 47 / 15 / 17, 32 bytes 46 / 24 / 29, 48 bytes 46 / 34 / 42,
 * 64 bytes 47 / 45 / 55, 128 bytes 47 / 84 / 104.
 */
const SHORT_COPY = 64;
/** The byte-by-byte loop (RAM side not word aligned, or no word view) stops at this length. */
const SHORT_COPY_BYTES = 48;

/**
 * Copies `len` bytes between `ram` at `at` and `buf` at `off`, into RAM when `write`. `words` is a
 * 32-bit view of the same RAM region (little-endian host), or null.
 */
function copyChunk(ram: Uint8Array, words: Uint32Array | null, at: number, buf: Uint8Array, off: number, len: number, write: boolean): void {
  if (write && len === buf.length) ram.set(buf, at);
  else if (len <= SHORT_COPY && words !== null && (at & 3) === 0) copyWords(ram, words, at, buf, off, len, write);
  else if (len <= SHORT_COPY_BYTES) {
    if (write) for (let i = 0; i < len; i++) ram[at + i] = buf[off + i]!;
    else for (let i = 0; i < len; i++) buf[off + i] = ram[at + i]!;
  } else if (write) copyBytes.call(buf, ram, at, off, off + len);
  else copyBytes.call(ram, buf, off, at, at + len);
}

/**
 * {@link copyChunk} through the RAM region's word view from the 4-byte aligned RAM offset `at`:
 * whole words, then the last 0-3 bytes one by one (a word store there would also rewrite RAM
 * bytes past the chunk, which a guest CPU may be writing at the same time).
 */
function copyWords(ram: Uint8Array, words: Uint32Array, at: number, buf: Uint8Array, off: number, len: number, write: boolean): void {
  let k = at >>> 2;
  let i = 0;
  if (write) {
    for (; i + 4 <= len; i += 4) words[k++] = buf[off + i]! | (buf[off + i + 1]! << 8) | (buf[off + i + 2]! << 16) | (buf[off + i + 3]! << 24);
    for (; i < len; i++) ram[at + i] = buf[off + i]!;
  } else {
    for (; i + 4 <= len; i += 4) {
      const w = words[k++]!;
      buf[off + i] = w;
      buf[off + i + 1] = w >>> 8;
      buf[off + i + 2] = w >>> 16;
      buf[off + i + 3] = w >>> 24;
    }
    for (; i < len; i++) buf[off + i] = ram[at + i]!;
  }
}

class Fault implements DmaFault {
  constructor(
    readonly iova: number,
    readonly reason: string,
    readonly done: number,
  ) {}
}

const TWO32 = 0x1_0000_0000;
const P2: number[] = [];
for (let i = 0; i <= 64; i++) P2.push(2 ** i);
/** Chunks a vectored transfer translates before it copies them. */
const VEC_BATCH = 32;

export class SmmuDmaPort implements DmaPort {
  /** The full translation's request: a data access (instr and priv stay false), unprivileged unless STE.PRIVCFG says otherwise. */
  private readonly req: TranslationRequest = newRequest();
  private readonly res: TranslationResult = newResult();
  private readonly slice: { bytes: Uint8Array | null; offset: number } = { bytes: null, offset: 0 };
  private readonly guest: GuestMemory | null;
  // The RAM region of the last copy (GuestMemory regions are never removed or resized, so this
  // stays valid): a copy inside it needs no region lookup and passes no address to a call.
  private ramBytes: Uint8Array | null = null;
  /** The same region as 32-bit words (null: no word view, e.g. on a big-endian host). */
  private ramWords: Uint32Array | null = null;
  private readonly wordsOut: RamWords = { words: null, base: 0, end: -1 };
  private ramBase = 0;
  private ramEnd = 0;
  /** Untagged traffic (no SubstreamID) may take the IOTLB-hit shortcut. */
  private readonly untagged: boolean;
  /** The translator's IOTLB-hit shortcut (the SMMU's, held here: one load less per access). */
  private readonly data: DataLookup;

  // Vectored transfers translate a batch of chunks ahead of copying them (see {@link writev}).
  private readonly aheadPa = new Float64Array(VEC_BATCH);
  private readonly aheadLen = new Int32Array(VEC_BATCH);
  private readonly aheadSeg = new Int32Array(VEC_BATCH);
  private readonly aheadOff = new Int32Array(VEC_BATCH);

  constructor(
    private readonly smmu: PortTranslator,
    private readonly mem: PhysMemory,
    readonly sid: number,
    readonly ssid: number | null,
  ) {
    this.req.sid = sid;
    this.req.ssid = ssid === null ? -1 : ssid;
    this.guest = mem instanceof GuestMemory ? mem : null;
    this.untagged = ssid === null;
    this.data = smmu.translator;
  }

  read(iova: number, dst: Uint8Array): DmaFault | null {
    return this.access(iova | 0, (iova / TWO32) | 0, dst, false);
  }

  write(iova: number, src: Uint8Array): DmaFault | null {
    return this.access(iova | 0, (iova / TWO32) | 0, src, true);
  }

  /**
   * {@link read} with the IOVA as 32-bit halves (bits [31:0] and [63:32], signed or unsigned). V8
   * passes a number outside the signed 32-bit range to a call it does not inline as a heap-allocated
   * double; pass the halves as int32 values (`x | 0`, or from an Int32Array) and nothing is
   * allocated. Devices that hold 64-bit addresses as two words (descriptor rings do) use these.
   */
  readAt(lo: number, hi: number, dst: Uint8Array): DmaFault | null {
    return this.access(lo | 0, hi | 0, dst, false);
  }

  /** {@link write} with the IOVA as 32-bit halves (see {@link readAt}). */
  writeAt(lo: number, hi: number, src: Uint8Array): DmaFault | null {
    return this.access(lo | 0, hi | 0, src, true);
  }

  /**
   * Vectored write: each segment's buffer to its IOVA, in order. Translation runs ahead of the
   * copies: up to 32 chunks (a chunk is the part of a segment inside one page or block) are
   * translated, then copied, so lookups and bulk copies are not interleaved. On a fault the
   * chunks translated before it are still copied, and the DmaFault names the first failing byte
   * (`done` counts the bytes transferred over all segments); the fault's event may then be
   * recorded before those chunks' data lands, as with any device that translates ahead.
   */
  writev(segs: DmaSegments): DmaFault | null {
    return this.vectored(segs, true);
  }

  /** Vectored read: each segment's buffer filled from its IOVA (see {@link writev}). */
  readv(segs: DmaSegments): DmaFault | null {
    return this.vectored(segs, false);
  }

  private vectored(segs: DmaSegments, write: boolean): DmaFault | null {
    const pas = this.aheadPa;
    const lens = this.aheadLen;
    const segOf = this.aheadSeg;
    const offOf = this.aheadOff;
    // The IOTLB-hit shortcut (see translateChunk); SMMUEN is read once per call.
    const fastOk = this.untagged && this.smmu.smmuEnabled();
    let seg = 0; // next segment to translate, and the offset in it
    let segDone = 0;
    let done = 0;
    while (seg < segs.count) {
      // Touch the IOTLB slots of the next segments first: their cache misses overlap, and the
      // lookups below find the lines in cache.
      if (fastOk) this.touched = this.data.touchData(this.sid, segs.lo, segs.hi, seg, seg + VEC_BATCH < segs.count ? seg + VEC_BATCH : segs.count);
      // Phase 1: translate up to VEC_BATCH chunks.
      let k = 0;
      let reason: string | null = null;
      let faultLo = 0;
      let faultHi = 0;
      while (k < VEC_BATCH && seg < segs.count) {
        const segLen = segs.bufs[seg]!.length;
        if (segDone >= segLen) {
          seg++;
          segDone = 0;
          continue;
        }
        let lo = (segs.lo[seg]! >>> 0) + segDone;
        let hi = segs.hi[seg]! >>> 0;
        if (lo >= TWO32) {
          lo -= TWO32;
          hi = (hi + 1) >>> 0;
        }
        reason = this.translateChunk(lo | 0, hi | 0, fastOk, write);
        if (reason !== null) {
          faultLo = lo;
          faultHi = hi;
          break;
        }
        const pa = this.chunkPa;
        const size = this.chunkSize;
        const off = size <= 0x8000_0000 ? lo & (size - 1) : (hi % (size / TWO32)) * TWO32 + lo;
        const chunk = size - off < segLen - segDone ? size - off : segLen - segDone;
        pas[k] = pa;
        lens[k] = chunk;
        segOf[k] = seg;
        offOf[k] = segDone;
        k++;
        segDone += chunk;
      }
      // Phase 2: copy them.
      for (let i = 0; i < k; i++) {
        const pa = pas[i]!;
        const len = lens[i]!;
        const buf = segs.bufs[segOf[i]!]!;
        const from = offOf[i]!;
        if (pa >= this.ramBase && pa + len <= this.ramEnd) {
          copyChunk(this.ramBytes!, this.ramWords, pa - this.ramBase, buf, from, len, write);
        } else {
          this.slowPa = pa;
          if (!this.copySlow(buf, from, len, write)) {
            return new Fault((segs.hi[segOf[i]!]! >>> 0) * TWO32 + (segs.lo[segOf[i]!]! >>> 0) + from, 'external-abort', done);
          }
        }
        done += len;
      }
      if (reason !== null) return new Fault(faultHi * TWO32 + faultLo, reason, done);
    }
    return null;
  }

  /** The access at IOVA `loIn` / `hiIn` (int32 halves, so that no argument is boxed). */
  private access(loIn: number, hiIn: number, buf: Uint8Array, write: boolean): DmaFault | null {
    // The IOTLB-hit shortcut (see translateChunk); SMMUEN is read once per call, as in vectored().
    const fastOk = this.untagged && this.smmu.smmuEnabled();
    if (fastOk && buf.length > 0) {
      // The usual access: one IOTLB hit covers it and it lies in the RAM region of the last copy.
      const t = this.data;
      const shift = t.lookupData(this.sid, loIn, hiIn, write);
      if (shift >= 0) {
        const n = buf.length;
        const pa = t.dataPa;
        if (shift < 31 && (loIn & ((1 << shift) - 1)) + n <= 1 << shift && pa >= this.ramBase && pa + n <= this.ramEnd) {
          copyChunk(this.ramBytes!, this.ramWords, pa - this.ramBase, buf, 0, n, write);
          return null;
        }
        this.chunkPa = pa;
        this.chunkSize = P2[shift]!;
        return this.chunks(loIn, hiIn, buf, write, true, true);
      }
    }
    return this.chunks(loIn, hiIn, buf, write, fastOk, false);
  }

  /**
   * The access chunk by chunk (a chunk is the part inside one page or block). `first`: the first
   * chunk is already translated, into chunkPa / chunkSize.
   */
  private chunks(loIn: number, hiIn: number, buf: Uint8Array, write: boolean, fastOk: boolean, first: boolean): DmaFault | null {
    let lo = loIn >>> 0;
    let hi = hiIn >>> 0;
    const n = buf.length;
    // The address advances as 32-bit halves: no division and no boxed double per chunk.
    let done = 0;
    let translated = first;
    while (done < n) {
      if (!translated) {
        const reason = this.translateChunk(lo | 0, hi | 0, fastOk, write);
        if (reason !== null) return new Fault(hi * TWO32 + lo, reason, done);
      }
      translated = false;
      const pa = this.chunkPa;
      const size = this.chunkSize;
      // Bytes left in this translation (page or block; its size is a power of two).
      const off = size <= 0x8000_0000 ? lo & (size - 1) : (hi % (size / TWO32)) * TWO32 + lo;
      const left = n - done;
      const chunk = left < size - off ? left : size - off;
      if (pa >= this.ramBase && pa + chunk <= this.ramEnd) {
        copyChunk(this.ramBytes!, this.ramWords, pa - this.ramBase, buf, done, chunk, write);
      } else {
        this.slowPa = pa;
        if (!this.copySlow(buf, done, chunk, write)) return new Fault(hi * TWO32 + lo, 'external-abort', done);
      }
      done += chunk;
      lo += chunk;
      if (lo >= TWO32) {
        lo -= TWO32;
        hi++;
      }
    }
    return null;
  }

  /** The last touch-ahead's result, kept so that the reads are not optimised away. */
  private touched = 0;

  /** PA and size (page or block bytes) of the chunk {@link translateChunk} translated (fields: returned doubles would be boxed). */
  private chunkPa = 0;
  private chunkSize = 0;

  /**
   * Translates the chunk at the IOVA whose int32 halves are `lo` / `hi`, a write when `write`,
   * into chunkPa / chunkSize; null, or the fault reason. An untagged IOTLB hit
   * takes the translator's shortcut when `fast` (SMMU enabled); anything else (miss, fault,
   * substream, SMMU disabled) the full translation with its event recording.
   */
  private translateChunk(lo: number, hi: number, fast: boolean, write: boolean): string | null {
    const t = this.data;
    const shift = fast ? t.lookupData(this.sid, lo, hi, write) : -1;
    if (shift >= 0) {
      this.chunkPa = t.dataPa;
      this.chunkSize = P2[shift]!;
      return null;
    }
    const req = this.req;
    req.write = write;
    req.addrLo = lo >>> 0;
    req.addrHi = hi >>> 0;
    const res = this.res;
    const reason = this.smmu.translateAccess(req, res);
    if (reason !== null) return reason;
    this.chunkPa = res.pa;
    this.chunkSize = res.size;
    return null;
  }

  /** PA for {@link copySlow} (a field: V8 boxes doubles passed to calls it does not inline). */
  private slowPa = 0;

  /** A copy outside the cached RAM region (the PA is in `slowPa`): finds the region, or uses the PhysMemory API. */
  private copySlow(buf: Uint8Array, off: number, len: number, write: boolean): boolean {
    const pa = this.slowPa;
    const s = this.slice;
    if (this.guest !== null && this.guest.ramSlice(pa, len, s)) {
      const ram = s.bytes!;
      this.ramBytes = ram;
      this.ramBase = pa - s.offset;
      this.ramEnd = this.ramBase + ram.length;
      // The region's word view, when it has one that starts where its bytes do.
      const w = this.wordsOut;
      this.ramWords = this.guest.ramWords(pa, len, w) && w.base === this.ramBase ? w.words : null;
      copyChunk(ram, this.ramWords, s.offset, buf, off, len, write);
      return true;
    }
    const part = off === 0 && len === buf.length ? buf : buf.subarray(off, off + len);
    return write ? this.mem.writeBytes(pa, part) : this.mem.readBytes(pa, part);
  }
}
