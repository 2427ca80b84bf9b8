// A PCI Express root complex: one PCI segment, a bus range, its ECAM window (an MmioDevice), its
// root bus (root ports at devfn = device << 3, integrated endpoints), the memory windows through
// which the CPU reaches BARs, and the routing of every requester's DMA and MSI:
//
//   function -> (Bus Master Enable on it and every bridge above) -> RID from the bridges' bus
//   numbers (per MSI; per DMA port binding) -> stream ID and SMMU from `toSmmu` -> SMMU DMA port / translateMsi
//   -> MSI controller (late-connected MsiSink) with the DeviceID from `toMsi`.
//
// IOMMUs and the MSI controller are connected late (`attachIommu`, `connectMsi`), as in the
// original's MsiConnection/MsiTarget design; until then DMA to a mapped RID faults and MSIs are
// dropped with a diagnostic. Nothing a guest programs can make these paths throw.
// PCIe Base r5.0 §7.2.2 (ECAM), §2.2.6.2 (requester ID); IHI 0070 §3.2 (StreamID from RID).
import type { DmaFault, MmioDevice, MsiOutcome, MsiSink, PhysMemory, U64 } from '../memory/types.js';
import { read64As32, write64As32 } from '../memory/mmio-split.js';
import { formatBdf } from './id-map.js';
import { ECAM } from '../spec/pcie/config-header.js';
import { NO_BUS, PciBus } from './bus.js';
import { PcieDiagnostics } from './diagnostics.js';
import type { PcieDevice } from './endpoint.js';
import type { PciFunction } from './function.js';
import { ROUTE, type DmaRoute } from './function-dma-port.js';
import type { PcieDiagnosticKind } from './diagnostics.js';
import { IdRouting, type RootComplexIdMaps } from './id-routing.js';
import { PciePort, type PortOptions } from './port.js';
import { sizeMask } from '../spec/bits.js';
import type { IommuAttachment } from './types.js';

export interface RootComplexOptions {
  readonly name: string;
  readonly segment: number;
  /** Inclusive bus range; the root bus is `buses.start`. */
  readonly buses: { readonly start: number; readonly end: number };
  /** Memory that requesters not behind an SMMU reach directly (identity). */
  readonly memory: PhysMemory;
  /** The ID mappings (RcIdMaps from platform/derive-ids.ts fits). Default: no SMMU, default DeviceIDs. */
  readonly ids?: RootComplexIdMaps;
  /** Shared diagnostics log (default: a private one). */
  readonly diagnostics?: PcieDiagnostics;
}

export class RootComplex {
  readonly name: string;
  readonly segment: number;
  readonly busStart: number;
  readonly busEnd: number;
  readonly rootBus: PciBus;
  readonly routing: IdRouting;
  readonly diagnostics: PcieDiagnostics;
  /** ECAM window: (busEnd - busStart + 1) MiB. */
  readonly ecam: MmioDevice;
  private readonly memory: PhysMemory;
  private msiSink: MsiSink | null = null;

  constructor(opts: RootComplexOptions) {
    const { start, end } = opts.buses;
    if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start <= end && end <= 255)) throw new RangeError(`${opts.name}: bad bus range ${start}..${end}`);
    if (!(Number.isInteger(opts.segment) && opts.segment >= 0 && opts.segment <= 0xffff)) throw new RangeError(`${opts.name}: bad segment ${opts.segment}`);
    this.name = opts.name;
    this.segment = opts.segment;
    this.busStart = start;
    this.busEnd = end;
    this.memory = opts.memory;
    this.routing = new IdRouting(opts.segment, opts.ids ?? { toSmmu: [] });
    this.diagnostics = opts.diagnostics ?? new PcieDiagnostics();
    this.rootBus = new PciBus(this, null);
    this.ecam = new EcamWindow(this);
  }

  // ------------------------------------------------------------ topology (host side)

  /** Adds a root port at device `device` (devfn = device << 3) of the root bus. */
  addRootPort(name: string, device: number, opts: Omit<PortOptions, 'kind'> = {}): PciePort {
    const p = new PciePort(name, { ...opts, kind: 'root', slotNumber: opts.slotNumber ?? device + 1, portNumber: opts.portNumber ?? device });
    if (!(Number.isInteger(device) && device >= 0 && device < 32)) throw new RangeError(`${name}: device number ${device} not in 0..31`);
    this.rootBus.attach(p, device << 3);
    return p;
  }

  /** Puts an endpoint device directly on the root bus (integrated endpoint) at `device`. */
  addIntegratedDevice(dev: PcieDevice, device: number): void {
    dev.attachIntegrated(this.rootBus, device);
  }

  /** Conventional reset of every function (platform reset): registers, MSI/MSI-X state, bus numbers. */
  reset(): void {
    for (const f of this.functions()) f.reset();
  }

  /** Every function of the topology (depth-first). */
  functions(): PciFunction[] {
    return [...this.rootBus.walk()];
  }

  /** The function at (bus, devfn) as configuration requests reach it now, or null. */
  findFunction(bus: number, devfn: number): PciFunction | null {
    if (bus < this.busStart || bus > this.busEnd) return null;
    return this.rootBus.find(this.busStart, this.busEnd, bus, devfn);
  }

  // ------------------------------------------------------------ late binding

  /**
   * Connects (or, with null, disconnects) the SMMU named `name` in the mappings. Returns false
   * when no mapping of this root complex names it (nothing to connect).
   */
  attachIommu(name: string, iommu: IommuAttachment | null): boolean {
    return this.routing.attachIommu(name, iommu) > 0;
  }

  /** Connects (or disconnects) where MSI writes go after any SMMU translation. */
  connectMsi(sink: MsiSink | null): void {
    this.msiSink = sink;
  }

  // ------------------------------------------------------------ routing (DMA: when a port binds; MSI: per access, no allocation on success)

  /**
   * Resolves where DMA by `fn` (substream `ssid`) goes now, into `out`. Called by the function's
   * bound DMA port (`function-dma-port.ts`) when it is first used and after a routing change.
   */
  routeDma(fn: PciFunction, ssid: number | null, out: DmaRoute): void {
    out.diagnostics = this.diagnostics;
    out.segment = this.segment;
    out.port = null;
    out.memory = null;
    out.kind = ROUTE.REFUSED;
    out.rid = -1;
    if (!fn.busMaster) return refuse(out, 'dma-bus-master-disabled', 'bus-master-disabled');
    const bus = fn.bus;
    const b = bus === null ? NO_BUS : bus.resolve();
    if (b < 0) return refuse(out, 'dma-no-requester-id', 'no-requester-id');
    const rid = (b << 8) | fn.devfn;
    out.rid = rid;
    if (bus!.pathBlocked) return refuse(out, 'dma-bus-master-disabled', 'bus-master-disabled');
    const r = this.routing;
    const i = r.streamIndex(rid);
    if (i >= 0) {
      const iommu = r.iommu(i);
      if (iommu === null) return refuse(out, 'dma-iommu-missing', 'iommu-missing');
      out.port = iommu.dma(r.streamId(i, rid), ssid);
      out.kind = ROUTE.IOMMU;
      return;
    }
    out.memory = this.memory;
    out.kind = ROUTE.MEMORY;
  }

  /** One MSI write by `fn` (called by its MSI/MSI-X capability or hot-plug logic). */
  msiFrom(fn: PciFunction, address: number, data: number): MsiOutcome {
    const d = this.diagnostics;
    if (!fn.busMaster) return this.msiFail(fn, 'msi-bus-master-disabled', -1, address, data, '');
    const bus = fn.bus;
    const b = bus === null ? NO_BUS : bus.resolve();
    if (b < 0) return this.msiFail(fn, 'msi-no-requester-id', -1, address, data, '');
    const rid = (b << 8) | fn.devfn;
    if (bus!.pathBlocked) return this.msiFail(fn, 'msi-bus-master-disabled', rid, address, data, 'upstream bridge');
    const sink = this.msiSink;
    if (sink === null) return this.msiFail(fn, 'msi-disconnected', rid, address, data, '');
    const r = this.routing;
    const devid = r.deviceId(rid);
    const i = r.streamIndex(rid);
    let out: MsiOutcome;
    if (i >= 0) {
      const iommu = r.iommu(i);
      if (iommu === null) return this.msiFail(fn, 'msi-iommu-missing', rid, address, data, r.smmuName(i));
      out = iommu.translateMsi(r.streamId(i, rid), address, data, devid, sink);
    } else {
      out = sink.msiWrite(address, data, devid);
    }
    if (out === 'dropped') d.record('msi-dropped', fn.name, this.segment, rid, address, data, devid === null ? 'no device ID' : '');
    else if (out === 'aborted') d.record('msi-aborted', fn.name, this.segment, rid, address, data, '');
    else if (out === 'memory') d.record('msi-to-memory', fn.name, this.segment, rid, address, data, '');
    return out;
  }

  private msiFail(fn: PciFunction, kind: 'msi-bus-master-disabled' | 'msi-no-requester-id' | 'msi-disconnected' | 'msi-iommu-missing', rid: number, address: number, data: number, reason: string): 'dropped' {
    this.diagnostics.record(kind, fn.name, this.segment, rid, address, data, reason);
    return 'dropped';
  }

  /** What a requester ID of this root complex maps to (the same lookups as the routing). */
  describeRid(rid: number): { segment: number; rid: number; bdf: string; smmu: string | null; streamId: number | null; deviceId: number | null } {
    const r = this.routing;
    const i = r.streamIndex(rid);
    return {
      segment: this.segment,
      rid,
      bdf: formatBdf(rid, this.segment),
      smmu: i >= 0 ? r.smmuName(i) : null,
      streamId: i >= 0 ? r.streamId(i, rid) : null,
      deviceId: r.deviceId(rid),
    };
  }

  // ------------------------------------------------------------ CPU access to BARs

  private readonly hit = { offset: 0 };

  /** The function and BAR decoding memory address `address` now (memory enables and bridge windows), or null. */
  decodeMemory(address: number): { fn: PciFunction; bar: number; offset: number } | null {
    const f = this.decode(address);
    return f === null ? null : { fn: f, bar: this.hitBar, offset: this.hit.offset };
  }

  private hitBar = -1;

  private decode(address: number): PciFunction | null {
    let bus: PciBus = this.rootBus;
    for (let depth = 0; depth < 257; depth++) {
      let next: PciBus | null = null;
      for (const f of bus.slots) {
        if (f === null) continue;
        const bar = f.decodeBar(address, this.hit);
        if (bar >= 0) {
          this.hitBar = bar;
          return f;
        }
        if (f instanceof PciePort && next === null && f.forwardsMemory(address)) next = f.secondary;
      }
      if (next === null) return null;
      bus = next;
    }
    return null;
  }

  /** CPU read of a BAR-mapped address; all-ones when nothing claims it (Unsupported Request). */
  mmioRead(address: number, size: 1 | 2 | 4): number {
    const f = this.decode(address);
    if (f === null) return sizeMask(size);
    return f.barRead(this.hitBar, this.hit.offset, size);
  }

  /** CPU write of a BAR-mapped address; dropped when nothing claims it. */
  mmioWrite(address: number, size: 1 | 2 | 4, value: number): void {
    const f = this.decode(address);
    if (f !== null) f.barWrite(this.hitBar, this.hit.offset, size, value);
  }

  /** An MmioDevice for the memory window [base, base + size) (e.g. the 32-bit or 64-bit MMIO window). */
  mmioWindow(base: number, size: number, name = `${this.name}-mmio`): MmioDevice {
    return new MemoryWindow(this, base, size, name);
  }
}

/** The ECAM window of a root complex (§7.2.2): offset = (bus - start) << 20 | devfn << 12 | reg. */
class EcamWindow implements MmioDevice {
  readonly name: string;
  readonly mmioSize: number;

  constructor(private readonly rc: RootComplex) {
    this.name = `${rc.name}-ecam`;
    this.mmioSize = (rc.busEnd - rc.busStart + 1) * ECAM.BYTES_PER_BUS;
  }

  private target(offset: number, size: number): PciFunction | null {
    if (!(Number.isInteger(offset) && offset >= 0 && offset + size <= this.mmioSize)) return null;
    const reg = offset & ECAM.REGISTER_MASK;
    if (reg + size > ECAM.REGISTER_MASK + 1) return null;
    const bus = this.rc.busStart + Math.floor(offset / ECAM.BYTES_PER_BUS);
    const devfn = (offset >>> ECAM.DEVFN_SHIFT) & 0xff;
    return this.rc.findFunction(bus, devfn);
  }

  read(offset: number, size: 1 | 2 | 4): number {
    const f = this.target(offset, size);
    return f === null ? sizeMask(size) : f.config.guestRead(offset & ECAM.REGISTER_MASK, size);
  }

  write(offset: number, size: 1 | 2 | 4, value: number): void {
    const f = this.target(offset, size);
    if (f !== null) f.config.guestWrite(offset & ECAM.REGISTER_MASK, size, value >>> 0);
  }

  read64(offset: number, out: U64): void {
    read64As32(this, offset, out);
  }

  write64(offset: number, lo: number, hi: number): void {
    write64As32(this, offset, lo, hi);
  }
}

/** A CPU memory window forwarding to the BARs below a root complex. */
class MemoryWindow implements MmioDevice {
  constructor(
    private readonly rc: RootComplex,
    private readonly base: number,
    readonly mmioSize: number,
    readonly name: string,
  ) {}

  read(offset: number, size: 1 | 2 | 4): number {
    return this.rc.mmioRead(this.base + offset, size);
  }

  write(offset: number, size: 1 | 2 | 4, value: number): void {
    this.rc.mmioWrite(this.base + offset, size, value);
  }

  read64(offset: number, out: U64): void {
    read64As32(this, offset, out);
  }

  write64(offset: number, lo: number, hi: number): void {
    write64As32(this, offset, lo, hi);
  }
}

function refuse(out: DmaRoute, kind: PcieDiagnosticKind, reason: string): void {
  out.kind = ROUTE.REFUSED;
  out.failKind = kind;
  out.failReason = reason;
}
