// A split virtqueue (virtio 1.2 §2.7) consumed by a device through a DmaPort: every access to
// the descriptor table, the available and used rings and the buffers goes through that port, so a
// device behind an SMMU sees exactly what the driver mapped. Everything the driver controls is
// bounded: a chain holds at most `size` buffers (longer chains and loops are errors), indexes are
// range-checked, a ring the device cannot reach is an error. An error stops the queue; the
// transport turns it into DEVICE_NEEDS_RESET (§2.1.2). Buffers are allocated once, sized by the
// queue maximum the device advertises, never by what the driver writes.
import type { DmaFault, DmaPort } from '../memory/types.js';
import {
  VIRTQ_AVAIL,
  VIRTQ_DESC,
  VIRTQ_DESC_F,
  VIRTQ_MAX_SIZE,
  VIRTQ_USED,
  availEventOffset,
  needEvent,
  usedEventOffset,
} from '../spec/virtio/virtqueue.js';

const TWO32 = 0x1_0000_0000;
/** Addresses are plain numbers: a ring or buffer at or above 2^53 cannot be represented exactly. */
const MAX_ADDR_HI = 0x1f_ffff;

/** Returned by {@link DescriptorChain.read}/{@link DescriptorChain.write} for a range beyond the chain's buffers. */
export const OUT_OF_CHAIN = 'out-of-chain';

/**
 * One descriptor chain gathered from a virtqueue: its buffers in order, device-readable ones
 * first (§2.7.4.2), with helpers that copy through the queue's DmaPort. Reused for every chain.
 */
export class DescriptorChain {
  /** Index of the chain's head descriptor (the id written to the used ring). */
  head = 0;
  /** Number of buffers. */
  count = 0;
  /** Number of leading device-readable buffers. */
  readableCount = 0;
  readableBytes = 0;
  writableBytes = 0;
  readonly addr: Float64Array;
  readonly len: Float64Array;

  constructor(
    readonly capacity: number,
    readonly dma: DmaPort,
  ) {
    this.addr = new Float64Array(capacity);
    this.len = new Float64Array(capacity);
  }

  clear(head: number): void {
    this.head = head;
    this.count = 0;
    this.readableCount = 0;
    this.readableBytes = 0;
    this.writableBytes = 0;
  }

  /** Appends a buffer; false when the chain is full or a readable buffer follows a writable one. */
  push(addr: number, len: number, writable: boolean): boolean {
    if (this.count >= this.capacity) return false;
    if (!writable && this.count > this.readableCount) return false;
    this.addr[this.count] = addr;
    this.len[this.count] = len;
    this.count++;
    if (writable) this.writableBytes += len;
    else {
      this.readableCount++;
      this.readableBytes += len;
    }
    return true;
  }

  /**
   * Bytes from `offset` of the readable (or writable) part to the end of the buffer holding it:
   * the largest copy {@link read}/{@link write} can do without splitting. 0 when out of range.
   */
  contiguous(writable: boolean, offset: number): number {
    let i = writable ? this.readableCount : 0;
    const end = writable ? this.count : this.readableCount;
    let off = offset;
    for (; i < end; i++) {
      const l = this.len[i]!;
      if (off < l) return l - off;
      off -= l;
    }
    return 0;
  }

  /** Copies `dst.length` bytes of the device-readable part, from `offset`, into `dst`. */
  read(offset: number, dst: Uint8Array): DmaFault | typeof OUT_OF_CHAIN | null {
    return this.copy(false, offset, dst);
  }

  /** Copies `src` into the device-writable part at `offset`. */
  write(offset: number, src: Uint8Array): DmaFault | typeof OUT_OF_CHAIN | null {
    return this.copy(true, offset, src);
  }

  private copy(writable: boolean, offset: number, buf: Uint8Array): DmaFault | typeof OUT_OF_CHAIN | null {
    const total = writable ? this.writableBytes : this.readableBytes;
    if (offset < 0 || offset + buf.length > total) return OUT_OF_CHAIN;
    let i = writable ? this.readableCount : 0;
    let off = offset;
    let done = 0;
    while (done < buf.length) {
      const l = this.len[i]!;
      if (off >= l) {
        off -= l;
        i++;
        continue;
      }
      const n = Math.min(l - off, buf.length - done);
      // The whole copy within one buffer (the usual case) needs no view.
      const part = done === 0 && n === buf.length ? buf : buf.subarray(done, done + n);
      const a = this.addr[i]! + off;
      const f = writable ? this.dma.write(a, part) : this.dma.read(a, part);
      if (f !== null) return f;
      done += n;
      off = 0;
      i++;
    }
    return null;
  }
}

/** What a device does with one chain: returns the bytes it wrote into the chain's writable buffers. */
export type ChainHandler = (chain: DescriptorChain) => number;

/** Result of {@link SplitVirtqueue.process}. */
export const QUEUE_IDLE = 0;
export const QUEUE_MORE = 1;
export const QUEUE_ERROR = -1;

export interface VirtqueueStats {
  /** Chains consumed and returned to the used ring. */
  chains: number;
  /** Descriptors read (direct and indirect). */
  descriptors: number;
  /** Used-buffer notifications the queue asked for. */
  notifications: number;
}

export class SplitVirtqueue {
  // Driver-programmed configuration (virtio-mmio QueueNum, QueueDesc/Driver/Device).
  size = 0;
  descLo = 0;
  descHi = 0;
  driverLo = 0;
  driverHi = 0;
  deviceLo = 0;
  deviceHi = 0;
  ready = false;
  /** The configuration above has been checked and is in use (see {@link latch}). */
  latched = false;
  // Negotiated ring features.
  eventIdx = false;
  indirect = false;
  // Device-side ring state.
  lastAvail = 0;
  usedIdx = 0;
  /** Why the queue stopped, or null. */
  error: string | null = null;
  /** Set by {@link process} when a used-buffer notification is due; the transport clears it. */
  notify = false;
  readonly stats: VirtqueueStats = { chains: 0, descriptors: 0, notifications: 0 };
  readonly chain: DescriptorChain;

  private desc = 0;
  private driver = 0;
  private device = 0;
  private readonly b2 = new Uint8Array(2);
  private readonly b16 = new Uint8Array(VIRTQ_DESC.SIZE);
  private readonly v16 = new DataView(this.b16.buffer);
  private readonly b8 = new Uint8Array(VIRTQ_USED.ENTRY_SIZE);
  private readonly v8 = new DataView(this.b8.buffer);
  private fault: DmaFault | null = null;

  constructor(
    readonly maxSize: number,
    readonly dma: DmaPort,
  ) {
    if (!(Number.isInteger(maxSize) && maxSize >= 1 && maxSize <= VIRTQ_MAX_SIZE && (maxSize & (maxSize - 1)) === 0)) {
      throw new RangeError(`virtqueue maximum size ${maxSize} is not a power of two in 1..${VIRTQ_MAX_SIZE}`);
    }
    this.chain = new DescriptorChain(maxSize, dma);
  }

  /** Back to the reset state (§2.4: queue configuration cleared). */
  reset(): void {
    this.size = 0;
    this.descLo = this.descHi = this.driverLo = this.driverHi = this.deviceLo = this.deviceHi = 0;
    this.ready = false;
    this.latched = false;
    this.eventIdx = false;
    this.indirect = false;
    this.lastAvail = 0;
    this.usedIdx = 0;
    this.error = null;
    this.notify = false;
  }

  /**
   * Latches the driver's configuration (the transport does it when the driver sets QueueReady):
   * checks a power-of-two size up to the maximum, the alignments of §2.7 (descriptor table 16,
   * available ring 2, used ring 4) and addresses below 2^53. Returns why it is unusable, or null
   * (the queue is then live and starts from ring index 0).
   */
  latch(): string | null {
    const n = this.size;
    if (n < 1 || n > this.maxSize || (n & (n - 1)) !== 0) return `queue size ${n} is not a power of two in 1..${this.maxSize}`;
    if (this.descHi > MAX_ADDR_HI || this.driverHi > MAX_ADDR_HI || this.deviceHi > MAX_ADDR_HI) return 'ring address beyond 2^53';
    this.desc = this.descHi * TWO32 + this.descLo;
    this.driver = this.driverHi * TWO32 + this.driverLo;
    this.device = this.deviceHi * TWO32 + this.deviceLo;
    if (this.desc % VIRTQ_DESC.ALIGN !== 0) return 'descriptor table not 16-byte aligned';
    if (this.driver % VIRTQ_AVAIL.ALIGN !== 0) return 'available ring not 2-byte aligned';
    if (this.device % VIRTQ_USED.ALIGN !== 0) return 'used ring not 4-byte aligned';
    this.lastAvail = 0;
    this.usedIdx = 0;
    this.error = null;
    this.notify = false;
    this.latched = true;
    return null;
  }

  /**
   * Consumes up to `maxChains` available chains (each visiting at most `size` buffer
   * descriptors), hands each to `handle`, publishes the used entries and the used index, and
   * decides whether a used-buffer notification is due (§2.7.10). Returns QUEUE_MORE when
   * available chains remain, QUEUE_IDLE when none do, QUEUE_ERROR (with `error` set) when the
   * driver's rings are malformed or unreachable.
   */
  process(maxChains: number, handle: ChainHandler): number {
    if (this.error !== null) return QUEUE_ERROR;
    if (!this.ready || !this.latched) return QUEUE_IDLE;
    const n = this.size;
    const availIdx = this.read16(this.driver + VIRTQ_AVAIL.IDX);
    if (availIdx < 0) return this.fail('available ring index unreadable');
    const pending = (availIdx - this.lastAvail) & 0xffff;
    if (pending > n) return this.fail(`available index ${availIdx} is ${pending} entries ahead of ${this.lastAvail} (queue size ${n})`);
    if (pending === 0) return QUEUE_IDLE;
    const count = pending < maxChains ? pending : maxChains;
    const oldUsed = this.usedIdx;
    for (let i = 0; i < count; i++) {
      const head = this.read16(this.driver + VIRTQ_AVAIL.RING + VIRTQ_AVAIL.ENTRY_SIZE * (this.lastAvail & (n - 1)));
      if (head < 0) return this.fail('available ring entry unreadable');
      if (head >= n) return this.fail(`available ring entry ${head} beyond queue size ${n}`);
      if (!this.gather(head)) return QUEUE_ERROR;
      const written = handle(this.chain);
      this.v8.setUint32(0, head, true);
      this.v8.setUint32(4, written, true);
      const f = this.dma.write(this.device + VIRTQ_USED.RING + VIRTQ_USED.ENTRY_SIZE * (this.usedIdx & (n - 1)), this.b8);
      if (f !== null) {
        this.fault = f;
        return this.fail('used ring entry not writable');
      }
      this.lastAvail = (this.lastAvail + 1) & 0xffff;
      this.usedIdx = (this.usedIdx + 1) & 0xffff;
      this.stats.chains++;
    }
    // The used entries are in place before the index that publishes them (§2.7.8.2).
    if (!this.write16(this.device + VIRTQ_USED.IDX, this.usedIdx)) return this.fail('used ring index not writable');
    if (this.eventIdx) {
      if (!this.write16(this.device + availEventOffset(n), this.lastAvail)) return this.fail('avail_event not writable');
      const usedEvent = this.read16(this.driver + usedEventOffset(n));
      if (usedEvent < 0) return this.fail('used_event unreadable');
      if (needEvent(usedEvent, this.usedIdx, oldUsed)) this.requestNotify();
    } else {
      const flags = this.read16(this.driver + VIRTQ_AVAIL.FLAGS);
      if (flags < 0) return this.fail('available ring flags unreadable');
      if ((flags & VIRTQ_AVAIL.F_NO_INTERRUPT) === 0) this.requestNotify();
    }
    return pending > count ? QUEUE_MORE : QUEUE_IDLE;
  }

  private requestNotify(): void {
    this.notify = true;
    this.stats.notifications++;
  }

  /** Walks the chain from `head` into `this.chain`; false (queue stopped) on a malformed chain. */
  private gather(head: number): boolean {
    const chain = this.chain;
    const n = this.size;
    chain.clear(head);
    let table = this.desc;
    let tableSize = n;
    let inIndirect = false;
    let idx = head;
    for (;;) {
      const f = this.dma.read(table + VIRTQ_DESC.SIZE * idx, this.b16);
      if (f !== null) {
        this.fault = f;
        this.fail(inIndirect ? 'indirect descriptor table unreadable' : 'descriptor table unreadable');
        return false;
      }
      this.stats.descriptors++;
      const v = this.v16;
      const lo = v.getUint32(VIRTQ_DESC.ADDR, true);
      const hi = v.getUint32(VIRTQ_DESC.ADDR + 4, true);
      const len = v.getUint32(VIRTQ_DESC.LEN, true);
      const flags = v.getUint16(VIRTQ_DESC.FLAGS, true);
      const next = v.getUint16(VIRTQ_DESC.NEXT, true);
      if (hi > MAX_ADDR_HI) {
        this.fail('descriptor address beyond 2^53');
        return false;
      }
      const addr = hi * TWO32 + lo;
      if ((flags & VIRTQ_DESC_F.INDIRECT) !== 0) {
        // §2.7.5.3: only when negotiated, not inside an indirect table, never with NEXT.
        const why = !this.indirect
          ? 'indirect descriptor without VIRTIO_F_INDIRECT_DESC'
          : inIndirect
            ? 'indirect descriptor inside an indirect table'
            : (flags & VIRTQ_DESC_F.NEXT) !== 0
              ? 'indirect descriptor with NEXT set'
              : len === 0 || len % VIRTQ_DESC.SIZE !== 0
                ? `indirect table length ${len} is not a non-zero multiple of 16`
                : addr % VIRTQ_DESC.ALIGN !== 0
                  ? 'indirect table not 16-byte aligned'
                  : null;
        if (why !== null) {
          this.fail(why);
          return false;
        }
        table = addr;
        tableSize = len / VIRTQ_DESC.SIZE;
        inIndirect = true;
        idx = 0;
        continue;
      }
      // A chain of more than `size` buffers is too long (§2.7.5.2); this also ends any loop.
      if (chain.count >= n) {
        this.fail(`descriptor chain from ${head} longer than queue size ${n}`);
        return false;
      }
      if (!chain.push(addr, len, (flags & VIRTQ_DESC_F.WRITE) !== 0)) {
        this.fail(`device-readable descriptor after a device-writable one in chain ${head}`);
        return false;
      }
      if ((flags & VIRTQ_DESC_F.NEXT) === 0) return true;
      if (next >= tableSize) {
        this.fail(`descriptor next index ${next} beyond ${inIndirect ? 'indirect table' : 'queue'} size ${tableSize}`);
        return false;
      }
      idx = next;
    }
  }

  private fail(reason: string): number {
    const f = this.fault;
    this.error = f === null ? reason : `${reason} (${f.reason} at 0x${f.iova.toString(16)})`;
    this.fault = null;
    return QUEUE_ERROR;
  }

  private read16(addr: number): number {
    const f = this.dma.read(addr, this.b2);
    if (f !== null) {
      this.fault = f;
      return -1;
    }
    return this.b2[0]! | (this.b2[1]! << 8);
  }

  private write16(addr: number, value: number): boolean {
    this.b2[0] = value & 0xff;
    this.b2[1] = (value >>> 8) & 0xff;
    const f = this.dma.write(addr, this.b2);
    if (f !== null) this.fault = f;
    return f === null;
  }
}
