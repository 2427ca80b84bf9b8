// The virtio-mmio transport, modern interface (virtio 1.2 §4.2, Version 2): the register window
// a driver programs (identity, feature negotiation, queue setup, status, interrupts, configuration
// space) around a VirtioDevice, with its virtqueues read and written through one DmaPort (for a
// device behind an SMMU: `smmu.dma(streamId)`), and its interrupt on an IrqLine.
//
// Available buffers are consumed in bounded slices: a QueueNotify write serves one slice of that
// queue; `service()` (Serviceable) polls every ready queue's available index through the DMA port
// and serves one slice of each, returning true while chains remain. Every MMIO access does
// bounded work; every malformed ring or unreachable ring address sets DEVICE_NEEDS_RESET and
// sends a configuration-change notification (§2.1.2), never a throw.
//
// Polled-window mode (`polledWindow: true`) is for a host that sees the driver's register stores
// only by polling a copy of the window in shared memory: a read cannot observe a store made just
// before it, and a store of the value already there is invisible. The transport then
//  - reports one DeviceFeatures word whatever DeviceFeaturesSel holds: the offered bits 63:32
//    (VERSION_1, ACCESS_PLATFORM and any other high bits) mirrored into bits 31:0, so either read
//    is right;
//  - ignores DriverFeatures/DriverFeaturesSel (pairs may collapse) and takes as negotiated the bits
//    a modern driver behind an IOMMU must accept: VERSION_1 | ACCESS_PLATFORM;
//  - ignores QueueSel (the device must have one queue);
//  - accepts queue configuration stores after QueueReady until the queue is first served (a
//    host applying one poll's stores in address order sees QueueReady before the ring addresses);
//  - keeps the used-buffer bit of InterruptStatus set from DRIVER_OK until reset, so an ACK racing
//    a newer completion cannot lose it (a spurious used-buffer interrupt is harmless);
//  - treats a Status store that clears a bit as a reset followed by that store (the store of 0
//    may have been overwritten before the host saw it).
// Rings are polled through `service()` in both modes, so unseen QueueNotify stores cost nothing.
import type { DmaPort, IrqLine, MmioDevice, Serviceable, U64 } from '../memory/types.js';
import { NO_IRQ } from '../memory/types.js';
import { read64As32, write64As32 } from '../memory/mmio-split.js';
import { VIRTIO_F, featureSet } from '../spec/virtio/features.js';
import { VIRTIO_MMIO, VIRTIO_MMIO_CONFIG, VIRTIO_MMIO_INT, VIRTIO_MMIO_MAGIC, VIRTIO_MMIO_VERSION, VIRTIO_MMIO_WINDOW_SIZE } from '../spec/virtio/mmio.js';
import { VIRTIO_STATUS, VIRTIO_VENDOR_VSMMU } from '../spec/virtio/status.js';
import type { VirtioDevice } from './device.js';
import { QUEUE_ERROR, QUEUE_MORE, SplitVirtqueue, type ChainHandler } from './virtqueue.js';

export interface VirtioMmioOptions {
  /** The device's DMA window (e.g. `smmu.dma(sid, null)`): rings and buffers go through it. */
  readonly dma: DmaPort;
  /** Interrupt output (default: unconnected). */
  readonly irq?: IrqLine;
  /**
   * 'edge' (default): one `pulse()` per notification, as for the edge-triggered SPI a device tree
   * usually gives virtio-mmio. 'level': `setLevel(InterruptStatus != 0)` on every change.
   */
  readonly trigger?: 'edge' | 'level';
  /** The polled shared-memory window rules (see the file comment). */
  readonly polledWindow?: boolean;
  /** MmioDevice name (default `virtio-<kind>`). */
  readonly name?: string;
  /** Chains served per queue per slice (a QueueNotify write or a `service()` call); default 32. */
  readonly chainsPerSlice?: number;
  /** VendorID register value. */
  readonly vendorId?: number;
}

export interface VirtioMmioStats {
  /** QueueNotify writes. */
  notifies: number;
  /** `service()` calls that found the device running. */
  services: number;
  /** Interrupts raised (used-buffer and configuration-change notifications). */
  interrupts: number;
  /** Device resets (Status = 0, or an implied reset in polled-window mode). */
  resets: number;
  /** Times the device set DEVICE_NEEDS_RESET. */
  needsReset: number;
  /** Why the device last set DEVICE_NEEDS_RESET, or null. */
  lastError: string | null;
}

/** Feature bits the transport always offers: the device sits behind an IOMMU (§6.1). */
const PLATFORM_FEATURES = featureSet(VIRTIO_F.VERSION_1, VIRTIO_F.ACCESS_PLATFORM);
/** Ring features the split virtqueue implements (offered outside polled-window mode). */
const RING_FEATURES = featureSet(VIRTIO_F.INDIRECT_DESC, VIRTIO_F.RING_EVENT_IDX);
const INDIRECT_LO = featureSet(VIRTIO_F.INDIRECT_DESC).lo;
const EVENT_IDX_LO = featureSet(VIRTIO_F.RING_EVENT_IDX).lo;
const ST = VIRTIO_STATUS;

export class VirtioMmioTransport implements MmioDevice, Serviceable {
  readonly name: string;
  readonly mmioSize = VIRTIO_MMIO_WINDOW_SIZE;
  readonly device: VirtioDevice;
  readonly queues: readonly SplitVirtqueue[];
  readonly polledWindow: boolean;
  readonly stats: VirtioMmioStats = { notifies: 0, services: 0, interrupts: 0, resets: 0, needsReset: 0, lastError: null };
  /** Feature bits offered (DeviceFeatures), lo = bits 31:0, hi = bits 63:32. */
  readonly offered: { readonly lo: number; readonly hi: number };

  private readonly irq: IrqLine;
  private readonly level: boolean;
  private readonly slice: number;
  private readonly vendorId: number;
  private readonly handlers: ChainHandler[];
  private status = 0;
  private deviceFeaturesSel = 0;
  private driverFeaturesSel = 0;
  private driverLo = 0;
  private driverHi = 0;
  private queueSel = 0;
  private interruptStatus = 0;
  private generation = 0;

  constructor(device: VirtioDevice, opts: VirtioMmioOptions) {
    this.device = device;
    this.polledWindow = opts.polledWindow === true;
    if (this.polledWindow && device.queueCount !== 1) throw new RangeError(`polled-window virtio-mmio needs a one-queue device (${device.kind} has ${device.queueCount})`);
    if (!(device.queueCount >= 1)) throw new RangeError(`virtio device ${device.kind} has no queue`);
    this.name = opts.name ?? `virtio-${device.kind}`;
    this.irq = opts.irq ?? NO_IRQ;
    this.level = opts.trigger === 'level';
    this.slice = opts.chainsPerSlice ?? 32;
    if (!(Number.isInteger(this.slice) && this.slice >= 1)) throw new RangeError(`chainsPerSlice must be a positive integer`);
    this.vendorId = (opts.vendorId ?? VIRTIO_VENDOR_VSMMU) >>> 0;
    const hi = (device.features.hi | PLATFORM_FEATURES.hi) >>> 0;
    this.offered = this.polledWindow ? { lo: hi, hi } : { lo: (device.features.lo | RING_FEATURES.lo) >>> 0, hi };
    const queues: SplitVirtqueue[] = [];
    this.handlers = [];
    for (let i = 0; i < device.queueCount; i++) {
      queues.push(new SplitVirtqueue(device.queueMaxSize, opts.dma));
      this.handlers.push((chain) => device.handle(i, chain));
    }
    this.queues = queues;
  }

  /** The Status register (with DEVICE_NEEDS_RESET when set). */
  get deviceStatus(): number {
    return this.status;
  }

  /** Negotiated feature bits (valid once FEATURES_OK is set). */
  get negotiated(): { lo: number; hi: number } {
    return { lo: this.driverLo, hi: this.driverHi };
  }

  // ------------------------------------------------------------ MmioDevice

  read(offset: number, size: 1 | 2 | 4): number {
    if (offset >= VIRTIO_MMIO_CONFIG) return this.readConfig(offset - VIRTIO_MMIO_CONFIG, size);
    // §4.2.2.2: control registers are accessed 32 bits wide and aligned; anything else is RAZ.
    if (size !== 4 || (offset & 3) !== 0) return 0;
    const R = VIRTIO_MMIO;
    switch (offset) {
      case R.MagicValue:
        return VIRTIO_MMIO_MAGIC;
      case R.Version:
        return VIRTIO_MMIO_VERSION;
      case R.DeviceID:
        return this.device.deviceId;
      case R.VendorID:
        return this.vendorId;
      case R.DeviceFeatures:
        if (this.polledWindow) return this.offered.hi;
        return this.deviceFeaturesSel === 0 ? this.offered.lo : this.deviceFeaturesSel === 1 ? this.offered.hi : 0;
      case R.QueueNumMax:
        return this.selected() === null ? 0 : this.device.queueMaxSize;
      case R.QueueReady:
        return this.selected()?.ready === true ? 1 : 0;
      case R.InterruptStatus:
        return this.interruptStatus;
      case R.Status:
        return this.status;
      case R.SHMLenLow:
      case R.SHMLenHigh:
      case R.SHMBaseLow:
      case R.SHMBaseHigh:
        // No shared memory regions: a non-existent region reads as all ones (§4.2.2).
        return 0xffff_ffff;
      case R.ConfigGeneration:
        return this.generation;
      default:
        return 0; // write-only and reserved registers
    }
  }

  write(offset: number, size: 1 | 2 | 4, value: number): void {
    if (offset >= VIRTIO_MMIO_CONFIG) {
      this.writeConfig(offset - VIRTIO_MMIO_CONFIG, size, value);
      return;
    }
    if (size !== 4 || (offset & 3) !== 0) return;
    const v = value >>> 0;
    const R = VIRTIO_MMIO;
    switch (offset) {
      case R.DeviceFeaturesSel:
        this.deviceFeaturesSel = v;
        return;
      case R.DriverFeatures:
        // Ignored in polled-window mode (see negotiate) and once FEATURES_OK is set.
        if (this.polledWindow || (this.status & ST.FEATURES_OK) !== 0) return;
        if (this.driverFeaturesSel === 0) this.driverLo = v;
        else if (this.driverFeaturesSel === 1) this.driverHi = v;
        return;
      case R.DriverFeaturesSel:
        this.driverFeaturesSel = v;
        return;
      case R.QueueSel:
        this.queueSel = v;
        return;
      case R.QueueNum: {
        const q = this.configurable();
        if (q !== null) q.size = v;
        return;
      }
      case R.QueueDescLow: {
        const q = this.configurable();
        if (q !== null) q.descLo = v;
        return;
      }
      case R.QueueDescHigh: {
        const q = this.configurable();
        if (q !== null) q.descHi = v;
        return;
      }
      case R.QueueDriverLow: {
        const q = this.configurable();
        if (q !== null) q.driverLo = v;
        return;
      }
      case R.QueueDriverHigh: {
        const q = this.configurable();
        if (q !== null) q.driverHi = v;
        return;
      }
      case R.QueueDeviceLow: {
        const q = this.configurable();
        if (q !== null) q.deviceLo = v;
        return;
      }
      case R.QueueDeviceHigh: {
        const q = this.configurable();
        if (q !== null) q.deviceHi = v;
        return;
      }
      case R.QueueReady:
        this.writeQueueReady(v);
        return;
      case R.QueueNotify:
        this.stats.notifies++;
        if (v < this.queues.length) this.serveQueue(v);
        return;
      case R.InterruptACK:
        this.acknowledge(v);
        return;
      case R.Status:
        this.writeStatus(v & 0xff);
        return;
      default:
        return; // read-only and reserved registers: WI
    }
  }

  /** 64-bit accesses are two 32-bit accesses, low word first. */
  read64(offset: number, out: U64): void {
    read64As32(this, offset, out);
  }

  write64(offset: number, lo: number, hi: number): void {
    write64As32(this, offset, lo, hi);
  }

  // ------------------------------------------------------------ Serviceable

  /**
   * Polls each ready queue's available index through the DMA port and serves one slice (at most
   * `chainsPerSlice` chains per queue). Returns true while chains remain to be served.
   */
  service(): boolean {
    if (!this.running()) return false;
    this.stats.services++;
    let more = false;
    for (let i = 0; i < this.queues.length; i++) if (this.serveQueue(i)) more = true;
    return more;
  }

  // ------------------------------------------------------------ device-side events

  /**
   * The device changed its configuration space (e.g. a disk was resized): bumps ConfigGeneration
   * and sends a configuration-change notification once the driver is running (§2.5.1, §4.2.2).
   */
  configChanged(): void {
    this.generation = (this.generation + 1) >>> 0;
    if ((this.status & ST.DRIVER_OK) !== 0) this.raise(VIRTIO_MMIO_INT.CONFIG);
  }

  // ------------------------------------------------------------ internals

  private running(): boolean {
    const s = this.status;
    return (s & (ST.DRIVER_OK | ST.FEATURES_OK)) === (ST.DRIVER_OK | ST.FEATURES_OK) && (s & (ST.DEVICE_NEEDS_RESET | ST.FAILED)) === 0;
  }

  private selected(): SplitVirtqueue | null {
    if (this.polledWindow) return this.queues[0]!;
    return this.queueSel < this.queues.length ? this.queues[this.queueSel]! : null;
  }

  /**
   * The selected queue if its configuration registers may change: while not ready; in
   * polled-window mode until the configuration is latched at the first service of the queue.
   */
  private configurable(): SplitVirtqueue | null {
    const q = this.selected();
    if (q === null) return null;
    return (this.polledWindow ? q.latched : q.ready) ? null : q;
  }

  private writeQueueReady(v: number): void {
    const q = this.selected();
    if (q === null) return;
    if ((v & 1) === 0) {
      q.ready = false;
      q.latched = false;
      return;
    }
    if (q.ready) return;
    q.ready = true;
    // Polled-window mode: the host may apply this store before the queue address stores of the
    // same poll, so the configuration is latched when the queue is first served.
    if (!this.polledWindow) this.latch(q);
  }

  private latch(q: SplitVirtqueue): boolean {
    q.eventIdx = (this.driverLo & EVENT_IDX_LO) !== 0;
    q.indirect = (this.driverLo & INDIRECT_LO) !== 0;
    const why = q.latch();
    if (why === null) return true;
    q.ready = false;
    this.needsReset(why);
    return false;
  }

  /** Serves one slice of queue `i`; true while chains remain. */
  private serveQueue(i: number): boolean {
    const q = this.queues[i]!;
    if (!this.running() || !q.ready) return false;
    if (!q.latched && !this.latch(q)) return false;
    const r = q.process(this.slice, this.handlers[i]!);
    if (q.notify) {
      q.notify = false;
      this.raise(VIRTIO_MMIO_INT.VRING);
    }
    if (r === QUEUE_ERROR) {
      this.needsReset(q.error ?? 'virtqueue error');
      return false;
    }
    return r === QUEUE_MORE;
  }

  /** §2.1.2: DEVICE_NEEDS_RESET, and a configuration-change notification if DRIVER_OK is set. */
  private needsReset(reason: string): void {
    this.stats.lastError = reason;
    if ((this.status & ST.DEVICE_NEEDS_RESET) !== 0) return;
    this.stats.needsReset++;
    this.status |= ST.DEVICE_NEEDS_RESET;
    if ((this.status & ST.DRIVER_OK) !== 0) this.raise(VIRTIO_MMIO_INT.CONFIG);
  }

  private raise(bit: number): void {
    this.interruptStatus |= bit;
    this.stats.interrupts++;
    if (this.level) this.irq.setLevel(true);
    else this.irq.pulse();
  }

  private acknowledge(bits: number): void {
    let keep = 0;
    // Polled-window mode: the used-buffer bit stays set while the driver runs.
    if (this.polledWindow && (this.status & ST.DRIVER_OK) !== 0) keep = VIRTIO_MMIO_INT.VRING;
    const before = this.interruptStatus;
    this.interruptStatus = (before & ~bits) | (before & keep);
    if (this.level && before !== 0 && this.interruptStatus === 0) this.irq.setLevel(false);
  }

  private writeStatus(v: number): void {
    if (v === 0) {
      this.reset();
      return;
    }
    // The driver never clears a status bit except by writing 0 (§3.1.1); in polled-window mode a
    // store that clears one means the reset store was overwritten before the host saw it.
    const driverBits = this.status & ~ST.DEVICE_NEEDS_RESET;
    if (this.polledWindow && (driverBits & ~v) !== 0) this.reset();
    let next = v & ~ST.DEVICE_NEEDS_RESET;
    if ((next & ST.FEATURES_OK) !== 0 && (this.status & ST.FEATURES_OK) === 0 && !this.negotiate()) next &= ~ST.FEATURES_OK;
    const wasRunning = (this.status & ST.DRIVER_OK) !== 0;
    this.status = next | (this.status & ST.DEVICE_NEEDS_RESET);
    if (!wasRunning && (this.status & ST.DRIVER_OK) !== 0 && this.polledWindow) this.interruptStatus |= VIRTIO_MMIO_INT.VRING;
  }

  /**
   * FEATURES_OK: the driver's features must be a subset of those offered and include VERSION_1
   * and ACCESS_PLATFORM (a modern device behind an IOMMU may refuse to operate otherwise, §6.1).
   * False leaves FEATURES_OK clear, which the driver reads back as refusal (§3.1.1).
   */
  private negotiate(): boolean {
    if (this.polledWindow) {
      this.driverLo = 0;
      this.driverHi = PLATFORM_FEATURES.hi;
      return true;
    }
    const lo = this.driverLo >>> 0;
    const hi = this.driverHi >>> 0;
    if ((lo & ~this.offered.lo) !== 0 || (hi & ~this.offered.hi) !== 0) return false;
    return (hi & PLATFORM_FEATURES.hi) === PLATFORM_FEATURES.hi;
  }

  /** Status = 0 (§4.2.3.1): every register and queue back to its reset value. */
  private reset(): void {
    this.stats.resets++;
    this.status = 0;
    this.deviceFeaturesSel = 0;
    this.driverFeaturesSel = 0;
    this.driverLo = 0;
    this.driverHi = 0;
    this.queueSel = 0;
    const hadIrq = this.interruptStatus !== 0;
    this.interruptStatus = 0;
    if (this.level && hadIrq) this.irq.setLevel(false);
    for (const q of this.queues) q.reset();
    this.device.reset();
  }

  private readConfig(off: number, size: 1 | 2 | 4): number {
    if ((off & (size - 1)) !== 0 || off + size > this.device.configSize) return 0;
    return this.device.readConfig(off, size);
  }

  private writeConfig(off: number, size: 1 | 2 | 4, value: number): void {
    if ((off & (size - 1)) !== 0 || off + size > this.device.configSize) return;
    this.device.writeConfig?.(off, size, value);
  }
}
