// Turns a polled register window into MMIO calls. The guest's register window is plain shared
// memory (a file both QEMU and this process map): guest stores land in it without any exit, and
// what this side writes there is what the guest's loads return. Each poll reads the registers of
// every bridged device, finds the ones the guest changed by comparing with a shadow copy, applies
// them to the device as MMIO writes, lets the devices do their deferred work, writes the values
// the devices now hold back into the window, and only then delivers the interrupts raised during
// the poll. Rules that make a real driver work over such a window:
// - Writes seen in one poll are applied in a caller-given order: selector registers first, the
//   "doorbell" registers a driver writes last and then waits on (enables, producer indexes,
//   acknowledgements) after every other changed register of that poll.
// - A register the device holds a different value for than the window shows (an ID register, an
//   acknowledgement, a consumer index, a bit the device masks) is written back before any
//   interrupt of the same poll is delivered, so a handler never reads stale state.
// - A 64-bit register is applied as one 64-bit write.
// The bridge masks nothing itself: what a register keeps is the device's business.
// What such a window cannot host: a register whose read must reflect a write at once (the poll
// comes later), and writes of an unchanged value (they are invisible).
import { closeSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { isServiceable, type IrqLine, type MmioDevice, type Serviceable, type U64 } from '../memory/types.js';

/** Positioned access to the window's backing store. */
export interface WindowIo {
  read(offset: number, dst: Uint8Array): void;
  write(offset: number, src: Uint8Array): void;
}

/** A window in a shared file (created or truncated to `size` bytes, zero-filled). */
export class FileWindow implements WindowIo {
  private fd: number;

  constructor(
    readonly path: string,
    readonly size: number,
  ) {
    this.fd = openSync(path, 'w+');
    ftruncateSync(this.fd, size);
  }

  read(offset: number, dst: Uint8Array): void {
    let done = 0;
    while (done < dst.length) {
      const n = readSync(this.fd, dst, done, dst.length - done, offset + done);
      if (n <= 0) break;
      done += n;
    }
  }

  write(offset: number, src: Uint8Array): void {
    let done = 0;
    while (done < src.length) done += writeSync(this.fd, src, done, src.length - done, offset + done);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

export interface WindowRegister {
  /** Offset in the device's register block. */
  readonly offset: number;
  readonly width: 4 | 8;
}

export interface BridgedDevice {
  readonly device: MmioDevice;
  /** Where the device's register block starts in the window. */
  readonly at: number;
  /** The registers the guest may access (others are never read or written). */
  readonly registers: readonly WindowRegister[];
  /** Offsets applied first, in this order, when they changed in the same poll (selectors). */
  readonly applyFirst?: readonly number[];
  /** Offsets applied last, in this order, when they changed in the same poll (doorbells). */
  readonly applyLast?: readonly number[];
}

/** Counters of one bridge. */
export interface BridgeStats {
  polls: number;
  /** Guest register writes applied. */
  guestWrites: number;
  /** Register values written back into the window. */
  writeBacks: number;
  /** Deferred actions (interrupts) delivered. */
  delivered: number;
}

/** A contiguous byte range of the window read with one call. */
interface Span {
  readonly start: number; // window offset
  readonly buf: Uint8Array;
  readonly view: DataView;
}

const SPAN_GAP = 64; // registers closer than this share one read

class DeviceSlot {
  readonly spans: Span[] = [];
  /** Per register: span index, offset in span, device offset, width. */
  readonly spanOf: Int32Array;
  readonly inSpan: Int32Array;
  readonly offs: Int32Array;
  readonly wide: Uint8Array;
  readonly shadowLo: Uint32Array;
  readonly shadowHi: Uint32Array;
  /** Application rank: 0 first, 1 normal, 2 last; ties by the order in the lists, then by offset. */
  readonly order: Int32Array;
  readonly changed: Int32Array;
  readonly service: Serviceable | null;
  private readonly one = new Uint8Array(8);
  private readonly oneView = new DataView(this.one.buffer);
  private readonly tmp: U64 = { lo: 0, hi: 0 };

  constructor(readonly spec: BridgedDevice) {
    const regs = [...spec.registers].sort((a, b) => a.offset - b.offset);
    const n = regs.length;
    this.spanOf = new Int32Array(n);
    this.inSpan = new Int32Array(n);
    this.offs = new Int32Array(n);
    this.wide = new Uint8Array(n);
    this.shadowLo = new Uint32Array(n);
    this.shadowHi = new Uint32Array(n);
    this.changed = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const r = regs[i]!;
      if (r.offset < 0 || r.offset + r.width > spec.device.mmioSize || r.offset % r.width !== 0) {
        throw new RangeError(`${spec.device.name}: register at 0x${r.offset.toString(16)} (width ${r.width}) is misaligned or outside its window`);
      }
      if (i > 0 && r.offset < regs[i - 1]!.offset + regs[i - 1]!.width) throw new RangeError(`${spec.device.name}: registers overlap at 0x${r.offset.toString(16)}`);
    }
    let i = 0;
    while (i < n) {
      let j = i;
      while (j + 1 < n && regs[j + 1]!.offset - (regs[j]!.offset + regs[j]!.width) <= SPAN_GAP) j++;
      const lo = regs[i]!.offset;
      const hi = regs[j]!.offset + regs[j]!.width;
      const buf = new Uint8Array(hi - lo);
      this.spans.push({ start: spec.at + lo, buf, view: new DataView(buf.buffer) });
      for (let k = i; k <= j; k++) {
        this.spanOf[k] = this.spans.length - 1;
        this.inSpan[k] = regs[k]!.offset - lo;
        this.offs[k] = regs[k]!.offset;
        this.wide[k] = regs[k]!.width === 8 ? 1 : 0;
      }
      i = j + 1;
    }
    // Order keys: first-list position, then normal (by offset), then last-list position.
    const first = spec.applyFirst ?? [];
    const last = spec.applyLast ?? [];
    this.order = new Int32Array(n);
    for (let k = 0; k < n; k++) {
      const f = first.indexOf(this.offs[k]!);
      const l = last.indexOf(this.offs[k]!);
      this.order[k] = f >= 0 ? f : l >= 0 ? 0x20_0000 + l : 0x1000 + k;
    }
    this.service = isServiceable(spec.device) ? spec.device : null;
  }

  /** Reads the window and applies the guest's changes to the device; returns how many. */
  applyGuestWrites(io: WindowIo): number {
    for (const s of this.spans) io.read(s.start, s.buf);
    const n = this.offs.length;
    let m = 0;
    for (let k = 0; k < n; k++) {
      const v = this.spans[this.spanOf[k]!]!.view;
      const o = this.inSpan[k]!;
      const lo = v.getUint32(o, true);
      const hi = this.wide[k] === 1 ? v.getUint32(o + 4, true) : 0;
      if (lo !== this.shadowLo[k] || hi !== this.shadowHi[k]) {
        this.shadowLo[k] = lo;
        this.shadowHi[k] = hi;
        this.changed[m++] = k;
      }
    }
    if (m === 0) return 0;
    // Insertion sort by order key: m is tiny (the registers one poll saw change).
    const ch = this.changed;
    for (let a = 1; a < m; a++) {
      const x = ch[a]!;
      let b = a - 1;
      while (b >= 0 && this.order[ch[b]!]! > this.order[x]!) {
        ch[b + 1] = ch[b]!;
        b--;
      }
      ch[b + 1] = x;
    }
    const dev = this.spec.device;
    for (let a = 0; a < m; a++) {
      const k = ch[a]!;
      if (this.wide[k] === 1) dev.write64(this.offs[k]!, this.shadowLo[k]!, this.shadowHi[k]!);
      else dev.write(this.offs[k]!, 4, this.shadowLo[k]!);
    }
    return m;
  }

  /** Writes every register whose device value differs from the window back; returns how many. */
  writeBack(io: WindowIo, all: boolean): number {
    const dev = this.spec.device;
    const n = this.offs.length;
    let w = 0;
    for (let k = 0; k < n; k++) {
      let lo: number;
      let hi = 0;
      if (this.wide[k] === 1) {
        dev.read64(this.offs[k]!, this.tmp);
        lo = this.tmp.lo >>> 0;
        hi = this.tmp.hi >>> 0;
      } else lo = dev.read(this.offs[k]!, 4) >>> 0;
      if (!all && lo === this.shadowLo[k] && hi === this.shadowHi[k]) continue;
      this.shadowLo[k] = lo;
      this.shadowHi[k] = hi;
      this.oneView.setUint32(0, lo, true);
      const width = this.wide[k] === 1 ? 8 : 4;
      if (width === 8) this.oneView.setUint32(4, hi, true);
      io.write(this.spec.at + this.offs[k]!, this.one.subarray(0, width));
      w++;
    }
    return w;
  }
}

export class WindowBridge {
  readonly stats: BridgeStats = { polls: 0, guestWrites: 0, writeBacks: 0, delivered: 0 };
  private readonly slots: DeviceSlot[] = [];
  private readonly later: (() => void)[] = [];

  constructor(
    private readonly io: WindowIo,
    devices: readonly BridgedDevice[] = [],
  ) {
    for (const d of devices) this.attach(d);
  }

  /** Adds a device (its register block must not overlap another's). */
  attach(spec: BridgedDevice): void {
    const slot = new DeviceSlot(spec);
    for (const p of slot.spans) {
      for (const o of this.slots) {
        for (const q of o.spans) {
          if (p.start < q.start + q.buf.length && q.start < p.start + p.buf.length) {
            throw new RangeError(`window registers of ${spec.device.name} overlap ${o.spec.device.name}`);
          }
        }
      }
    }
    this.slots.push(slot);
  }

  /** Writes every device's current register values into the window (before the guest starts). */
  start(): void {
    for (const s of this.slots) this.stats.writeBacks += s.writeBack(this.io, true);
  }

  /**
   * Queues an action (an interrupt to the guest) to run after this poll's write-back. Outside a
   * poll it runs at the end of the next one.
   */
  defer(action: () => void): void {
    this.later.push(action);
  }

  /**
   * An interrupt output whose assertion is delivered by `deliver` after the write-back of the poll
   * in which it happened. A pulse, or a rising level, is one delivery.
   */
  irqLine(deliver: () => void): IrqLine {
    let level = false;
    let queued = false;
    const run = (): void => {
      queued = false;
      deliver();
    };
    const fire = (): void => {
      if (queued) return; // several assertions in one poll: one delivery
      queued = true;
      this.later.push(run);
    };
    return {
      pulse: fire,
      setLevel: (asserted: boolean): void => {
        if (asserted && !level) fire();
        level = asserted;
      },
    };
  }

  /**
   * One poll: apply the guest's register writes (ordered), let every Serviceable device do one
   * bounded step, write changed device values back, then deliver deferred interrupts. Returns the
   * number of guest writes applied (0 when the guest did nothing visible).
   */
  poll(): number {
    this.stats.polls++;
    let applied = 0;
    for (const s of this.slots) applied += s.applyGuestWrites(this.io);
    this.stats.guestWrites += applied;
    for (const s of this.slots) s.service?.service();
    for (const s of this.slots) this.stats.writeBacks += s.writeBack(this.io, false);
    if (this.later.length > 0) {
      const run = this.later.splice(0);
      for (const a of run) a();
      this.stats.delivered += run.length;
    }
    return applied;
  }
}

/** Every 32-bit register in [from, to) as a window register list. */
export function words(from: number, to: number): WindowRegister[] {
  const out: WindowRegister[] = [];
  for (let o = from; o < to; o += 4) out.push({ offset: o, width: 4 });
  return out;
}
