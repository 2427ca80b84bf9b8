// Test-side virtio-mmio driver, written from the specification independently of the device code:
// it lays out its own split rings in guest RAM (plain PhysMemory stores at physical addresses),
// gives the device IOVAs through a mapper (identity, or an SMMU domain), and talks to the
// transport through CPU loads and stores on a bus. Also: DMA ports for unit tests (identity onto
// RAM, and one that faults on chosen ranges) and an IrqLine that counts.
import type { DmaFault, DmaPort, IrqLine, PhysMemory } from '../../src/memory/types.js';
import type { CpuBus } from '../../src/guest/cpu-bus.js';
import { PageAllocator } from '../../src/guest/allocator.js';
import { GuestMemory } from '../../src/memory/guest-memory.js';
import { MmioBus } from '../../src/platform/runtime/mmio-bus.js';
import { VirtioMmioTransport, type VirtioMmioOptions } from '../../src/virtio/mmio-transport.js';
import type { VirtioDevice } from '../../src/virtio/device.js';

// Register offsets and constants restated here from virtio 1.2 §4.2.2, §2.1, §2.7, §5.2 so the
// driver does not share the device's tables.
export const REG = {
  magic: 0x000,
  version: 0x004,
  deviceId: 0x008,
  vendorId: 0x00c,
  deviceFeatures: 0x010,
  deviceFeaturesSel: 0x014,
  driverFeatures: 0x020,
  driverFeaturesSel: 0x024,
  queueSel: 0x030,
  queueNumMax: 0x034,
  queueNum: 0x038,
  queueReady: 0x044,
  queueNotify: 0x050,
  interruptStatus: 0x060,
  interruptAck: 0x064,
  status: 0x070,
  queueDescLow: 0x080,
  queueDescHigh: 0x084,
  queueDriverLow: 0x090,
  queueDriverHigh: 0x094,
  queueDeviceLow: 0x0a0,
  queueDeviceHigh: 0x0a4,
  configGeneration: 0x0fc,
  config: 0x100,
} as const;
export const S_ACK = 1, S_DRIVER = 2, S_DRIVER_OK = 4, S_FEATURES_OK = 8, S_NEEDS_RESET = 64;
export const F_INDIRECT = 1n << 28n, F_EVENT_IDX = 1n << 29n, F_VERSION_1 = 1n << 32n, F_ACCESS_PLATFORM = 1n << 33n;
export const D_NEXT = 1, D_WRITE = 2, D_INDIRECT = 4;
export const BLK_IN = 0, BLK_OUT = 1, BLK_FLUSH = 4, BLK_GET_ID = 8;

/** How the driver turns its physical buffers into addresses the device uses. */
export interface DmaMapper {
  map(pa: number, bytes: number): number;
}
export const IDENTITY_MAPPER: DmaMapper = { map: (pa) => pa };

class Fault implements DmaFault {
  constructor(
    readonly iova: number,
    readonly reason: string,
    readonly done: number,
  ) {}
}

/** A device without an IOMMU: bus addresses are physical; outside RAM is an external abort. */
export function physPort(mem: PhysMemory): DmaPort {
  return {
    read: (iova, dst) => (mem.readBytes(iova, dst) ? null : new Fault(iova, 'external-abort', 0)),
    write: (iova, src) => (mem.writeBytes(iova, src) ? null : new Fault(iova, 'external-abort', 0)),
  };
}

/** A port that faults on any access touching one of `holes` ([base, size]) and counts accesses. */
export class HoleyPort implements DmaPort {
  holes: [number, number][] = [];
  accesses = 0;
  constructor(private readonly inner: DmaPort) {}
  private hit(a: number, n: number): boolean {
    return this.holes.some(([b, s]) => a < b + s && b < a + n);
  }
  read(iova: number, dst: Uint8Array): DmaFault | null {
    this.accesses++;
    return this.hit(iova, dst.length) ? new Fault(iova, 'F_TRANSLATION', 0) : this.inner.read(iova, dst);
  }
  write(iova: number, src: Uint8Array): DmaFault | null {
    this.accesses++;
    return this.hit(iova, src.length) ? new Fault(iova, 'F_TRANSLATION', 0) : this.inner.write(iova, src);
  }
}

export class CountingIrq implements IrqLine {
  pulses = 0;
  level = false;
  levelChanges = 0;
  pulse(): void {
    this.pulses++;
  }
  setLevel(on: boolean): void {
    if (on !== this.level) this.levelChanges++;
    this.level = on;
  }
}

export interface Buffer_ {
  pa: number;
  iova: number;
  len: number;
}

export interface Seg {
  iova: number;
  len: number;
  write: boolean;
}

/** A virtio-mmio driver for one device with one split queue. */
export class TestVirtioDriver {
  qsize = 0;
  descPa = 0;
  availPa = 0;
  usedPa = 0;
  descIova = 0;
  availIova = 0;
  usedIova = 0;
  availIdx = 0;
  lastUsed = 0;
  offered = 0n;
  private free: number[] = [];
  private chains = new Map<number, number[]>();

  constructor(
    readonly bus: CpuBus,
    readonly mem: PhysMemory,
    readonly alloc: PageAllocator,
    readonly base: number,
    readonly mapper: DmaMapper = IDENTITY_MAPPER,
  ) {}

  r(off: number): number {
    return this.bus.read(this.base + off, 4) >>> 0;
  }
  w(off: number, v: number): void {
    this.bus.write(this.base + off, 4, v >>> 0);
  }

  /** Allocates and maps a DMA buffer. */
  buffer(len: number): Buffer_ {
    const pa = this.alloc.alloc(Math.max(len, 1), 0x1000);
    return { pa, iova: this.mapper.map(pa, Math.ceil(Math.max(len, 1) / 0x1000) * 0x1000), len };
  }

  /** §3.1.1 initialization up to FEATURES_OK; returns false if the device refused the features. */
  negotiate(accept: bigint): boolean {
    this.w(REG.status, 0);
    this.w(REG.status, S_ACK);
    this.w(REG.status, S_ACK | S_DRIVER);
    this.w(REG.deviceFeaturesSel, 0);
    const lo = BigInt(this.r(REG.deviceFeatures));
    this.w(REG.deviceFeaturesSel, 1);
    const hi = BigInt(this.r(REG.deviceFeatures));
    this.offered = (hi << 32n) | lo;
    const f = this.offered & accept;
    this.w(REG.driverFeaturesSel, 0);
    this.w(REG.driverFeatures, Number(f & 0xffff_ffffn));
    this.w(REG.driverFeaturesSel, 1);
    this.w(REG.driverFeatures, Number(f >> 32n));
    this.w(REG.status, S_ACK | S_DRIVER | S_FEATURES_OK);
    return (this.r(REG.status) & S_FEATURES_OK) !== 0;
  }

  /** Sets up queue 0 with `size` entries and sets DRIVER_OK. */
  setupQueue(size: number): void {
    this.w(REG.queueSel, 0);
    if (this.r(REG.queueReady) !== 0) throw new Error('queue already live');
    const max = this.r(REG.queueNumMax);
    if (size > max) throw new Error(`queue size ${size} > max ${max}`);
    this.qsize = size;
    const desc = this.buffer(16 * size);
    const avail = this.buffer(6 + 2 * size);
    const used = this.buffer(6 + 8 * size);
    [this.descPa, this.availPa, this.usedPa] = [desc.pa, avail.pa, used.pa];
    [this.descIova, this.availIova, this.usedIova] = [desc.iova, avail.iova, used.iova];
    this.w(REG.queueNum, size);
    this.w(REG.queueDescLow, desc.iova % 2 ** 32);
    this.w(REG.queueDescHigh, Math.floor(desc.iova / 2 ** 32));
    this.w(REG.queueDriverLow, avail.iova % 2 ** 32);
    this.w(REG.queueDriverHigh, Math.floor(avail.iova / 2 ** 32));
    this.w(REG.queueDeviceLow, used.iova % 2 ** 32);
    this.w(REG.queueDeviceHigh, Math.floor(used.iova / 2 ** 32));
    this.w(REG.queueReady, 1);
    this.free = Array.from({ length: size }, (_, i) => i);
    this.availIdx = 0;
    this.lastUsed = 0;
    this.chains.clear();
    this.w(REG.status, this.r(REG.status) | S_DRIVER_OK);
  }

  init(accept: bigint = F_VERSION_1 | F_ACCESS_PLATFORM, size = 16): void {
    if (!this.negotiate(accept)) throw new Error('device refused features');
    this.setupQueue(size);
  }

  writeDesc(tablePa: number, i: number, addr: number, len: number, flags: number, next: number): void {
    const a = tablePa + 16 * i;
    this.mem.write32(a, addr % 2 ** 32);
    this.mem.write32(a + 4, Math.floor(addr / 2 ** 32));
    this.mem.write32(a + 8, len >>> 0);
    this.mem.write16(a + 12, flags);
    this.mem.write16(a + 14, next);
  }

  /** Places a chain in the descriptor table (or one indirect table) and publishes it; returns its head. */
  add(segs: Seg[], opts: { indirect?: boolean } = {}): number {
    if (opts.indirect) {
      const table = this.buffer(16 * segs.length);
      segs.forEach((s, i) => this.writeDesc(table.pa, i, s.iova, s.len, (s.write ? D_WRITE : 0) | (i + 1 < segs.length ? D_NEXT : 0), i + 1));
      const d = this.free.shift();
      if (d === undefined) throw new Error('ring full');
      this.writeDesc(this.descPa, d, table.iova, 16 * segs.length, D_INDIRECT, 0);
      this.chains.set(d, [d]);
      this.publish(d);
      return d;
    }
    if (segs.length > this.free.length) throw new Error('ring full');
    const ids = segs.map(() => this.free.shift()!);
    segs.forEach((s, i) => this.writeDesc(this.descPa, ids[i]!, s.iova, s.len, (s.write ? D_WRITE : 0) | (i + 1 < segs.length ? D_NEXT : 0), ids[i + 1] ?? 0));
    this.chains.set(ids[0]!, ids);
    this.publish(ids[0]!);
    return ids[0]!;
  }

  /** Writes avail->ring[idx % size] = head, then avail->idx (raw, for malformed-ring tests too). */
  publish(head: number): void {
    this.mem.write16(this.availPa + 4 + 2 * (this.availIdx % this.qsize), head);
    this.availIdx = (this.availIdx + 1) & 0xffff;
    this.mem.write16(this.availPa + 2, this.availIdx);
  }

  kick(): void {
    this.w(REG.queueNotify, 0);
  }

  /** Used entries since the last call (descriptors returned to the free list). */
  takeUsed(): { id: number; len: number }[] {
    const out: { id: number; len: number }[] = [];
    const idx = this.mem.read16(this.usedPa + 2);
    while (this.lastUsed !== idx) {
      const e = this.usedPa + 4 + 8 * (this.lastUsed % this.qsize);
      const id = this.mem.read32(e);
      out.push({ id, len: this.mem.read32(e + 4) });
      for (const d of this.chains.get(id) ?? []) this.free.push(d);
      this.chains.delete(id);
      this.lastUsed = (this.lastUsed + 1) & 0xffff;
    }
    return out;
  }

  /** Reads InterruptStatus and acknowledges it (what an interrupt handler does). */
  ack(): number {
    const s = this.r(REG.interruptStatus);
    if (s !== 0) this.w(REG.interruptAck, s);
    return s;
  }

  config32(off: number): number {
    return this.r(REG.config + off);
  }
}

/** A virtio-blk driver on top: one request at a time, with reusable header/data/status buffers. */
export class TestBlkDriver {
  readonly hdr: Buffer_;
  readonly data: Buffer_;
  readonly status: Buffer_;

  constructor(
    readonly v: TestVirtioDriver,
    readonly maxData = 0x10000,
    readonly service: () => void = () => v.kick(),
  ) {
    this.hdr = v.buffer(16);
    this.data = v.buffer(maxData);
    this.status = v.buffer(1);
  }

  capacity(): number {
    return this.v.config32(0) + this.v.config32(4) * 2 ** 32;
  }

  private header(type: number, sector: number): void {
    const m = this.v.mem;
    m.write32(this.hdr.pa, type);
    m.write32(this.hdr.pa + 4, 0);
    m.write32(this.hdr.pa + 8, sector % 2 ** 32);
    m.write32(this.hdr.pa + 12, Math.floor(sector / 2 ** 32));
    m.write8(this.status.pa, 0xff);
  }

  private finish(head: number): { status: number; len: number } {
    this.service();
    const used = this.v.takeUsed();
    const e = used.find((u) => u.id === head);
    if (!e) throw new Error(`request ${head} not completed`);
    return { status: this.v.mem.read8(this.status.pa), len: e.len };
  }

  /** Splits the data buffer into `pieces` descriptors (multiple segments per request). */
  private dataSegs(len: number, write: boolean, pieces: number, dataIova = this.data.iova): Seg[] {
    const segs: Seg[] = [];
    const step = Math.max(512, Math.ceil(len / pieces / 512) * 512);
    for (let off = 0; off < len; off += step) segs.push({ iova: dataIova + off, len: Math.min(step, len - off), write });
    return segs;
  }

  read(sector: number, len: number, opts: { pieces?: number; indirect?: boolean; dataIova?: number } = {}): { status: number; len: number; bytes: Uint8Array } {
    this.header(BLK_IN, sector);
    const head = this.v.add(
      [{ iova: this.hdr.iova, len: 16, write: false }, ...this.dataSegs(len, true, opts.pieces ?? 1, opts.dataIova), { iova: this.status.iova, len: 1, write: true }],
      { indirect: opts.indirect ?? false },
    );
    const r = this.finish(head);
    const bytes = new Uint8Array(len);
    this.v.mem.readBytes(this.data.pa, bytes);
    return { ...r, bytes };
  }

  write(sector: number, bytes: Uint8Array, opts: { pieces?: number; indirect?: boolean; dataIova?: number } = {}): { status: number; len: number } {
    this.header(BLK_OUT, sector);
    this.v.mem.writeBytes(this.data.pa, bytes);
    const head = this.v.add(
      [{ iova: this.hdr.iova, len: 16, write: false }, ...this.dataSegs(bytes.length, false, opts.pieces ?? 1, opts.dataIova), { iova: this.status.iova, len: 1, write: true }],
      { indirect: opts.indirect ?? false },
    );
    return this.finish(head);
  }

  simple(type: number, dataLen = 0): { status: number; len: number; bytes: Uint8Array } {
    this.header(type, 0);
    const segs: Seg[] = [{ iova: this.hdr.iova, len: 16, write: false }];
    if (dataLen > 0) segs.push({ iova: this.data.iova, len: dataLen, write: true });
    segs.push({ iova: this.status.iova, len: 1, write: true });
    const r = this.finish(this.v.add(segs));
    const bytes = new Uint8Array(dataLen);
    this.v.mem.readBytes(this.data.pa, bytes);
    return { ...r, bytes };
  }
}


// ------------------------------------------------------------------ unit-test rig


export const RAM = 0x4000_0000;
export const VIRTIO_BASE = 0x0a00_0000;

export interface Rig {
  mem: GuestMemory;
  bus: MmioBus;
  port: HoleyPort;
  irq: CountingIrq;
  t: VirtioMmioTransport;
  drv: TestVirtioDriver;
}

/** A transport over `device` with an identity DMA port (with fault holes) onto 16 MiB of RAM. */
export function rig(device: VirtioDevice, opts: Omit<VirtioMmioOptions, 'dma' | 'irq'> = {}): Rig {
  const mem = new GuestMemory();
  mem.addRam(RAM, 0x100_0000);
  const bus = new MmioBus(mem);
  const port = new HoleyPort(physPort(mem));
  const irq = new CountingIrq();
  const t = new VirtioMmioTransport(device, { ...opts, dma: port, irq });
  bus.map(VIRTIO_BASE, t);
  const drv = new TestVirtioDriver(bus, mem, new PageAllocator(mem, RAM + 0x10_0000, 0xe0_0000), VIRTIO_BASE);
  return { mem, bus, port, irq, t, drv };
}
