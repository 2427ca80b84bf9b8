// A PCI function: its configuration space (common header registers, BARs, capability list), its
// bus-master state, its DMA ports and its MSI/MSI-X signalling. Identity (bus number, hence
// requester ID) is never stored: it is resolved from the bridges' bus-number registers (see bus.ts)
// at every MSI, and for DMA whenever a port binds after a routing change (function-dma-port.ts),
// so guest renumbering is followed.
// PCIe Base r5.0 §7.5.1 (header), §7.5.1.2.1 (BARs and sizing), §6.1.4 (MSI/MSI-X operation).
import type { DmaPort, MsiOutcome } from '../memory/types.js';
import { FunctionDmaPort } from './function-dma-port.js';
import {
  BAR,
  BAR_MIN_SIZE,
  BAR_TYPE_64,
  COMMAND,
  HDR,
  HDR0,
  HEADER_TYPE,
  STATUS_RW1C_MASK,
} from '../spec/pcie/config-header.js';
import { CAP_ID } from '../spec/pcie/capabilities.js';
import { PCIE_CAP, PCIE_CAPS, PCIE_CAP_VERSION, type PortTypeValue } from '../spec/pcie/pcie-capability.js';
import type { PciBus } from './bus.js';
import { ConfigSpace } from './config-space.js';
import { MsiCapability, type MsiOptions } from './msi-capability.js';
import { MsixCapability, type MsixOptions } from './msix-capability.js';
import { fieldMask32, get32, set32 } from '../spec/bits.js';
import type { FunctionIdentity, MsiSender, SignalOutcome } from './types.js';

export interface BarSpec {
  /** BAR index (a 64-bit BAR also uses index + 1). */
  readonly index: number;
  /** Size in bytes: a power of two >= 16. */
  readonly size: number;
  /** Default 'mem64'. */
  readonly kind?: 'mem32' | 'mem64';
  readonly prefetchable?: boolean;
}

export interface BarInfo {
  readonly index: number;
  readonly size: number;
  readonly is64: boolean;
  readonly prefetchable: boolean;
}

export interface FunctionHeader {
  readonly vendorId: number;
  /** Configuration-space Device ID (not the ITS DeviceID, which routing gives the function). */
  readonly pciDeviceId: number;
  /** 24-bit class code (base << 16 | sub << 8 | prog-if). */
  readonly classCode: number;
  readonly revision?: number;
}

export abstract class PciFunction implements MsiSender {
  readonly config = new ConfigSpace();
  /** The bus this function sits on, or null when detached. */
  bus: PciBus | null = null;
  /** Device and function number on that bus (device << 3 | function). */
  devfn = 0;
  readonly bars: (BarInfo | null)[];
  msi: MsiCapability | null = null;
  msix: MsixCapability | null = null;
  /** Offset of the PCI Express capability, or -1. */
  pcieCapOffset = -1;
  /** The untagged DMA port (resolves the requester at every access). */
  readonly dma: DmaPort;

  protected constructor(
    readonly name: string,
    header: FunctionHeader,
    layout: number,
    barCount: number,
  ) {
    const c = this.config;
    c.set(HDR.VENDOR_ID.offset, 2, header.vendorId & 0xffff);
    c.set(HDR.DEVICE_ID.offset, 2, header.pciDeviceId & 0xffff);
    c.set(HDR.REVISION_ID.offset, 1, (header.revision ?? 0) & 0xff);
    c.set(HDR.CLASS_PROG_IF.offset, 1, header.classCode & 0xff);
    c.set(HDR.CLASS_SUB.offset, 1, (header.classCode >>> 8) & 0xff);
    c.set(HDR.CLASS_BASE.offset, 1, (header.classCode >>> 16) & 0xff);
    c.set(HDR.HEADER_TYPE.offset, 1, set32(0, HEADER_TYPE.LAYOUT, layout));
    // I/O space is not implemented (no I/O BARs or windows): IO_SPACE stays read-only zero.
    c.setWriteMask(
      HDR.COMMAND.offset,
      2,
      fieldMask32(COMMAND.MEMORY_SPACE) | fieldMask32(COMMAND.BUS_MASTER) | fieldMask32(COMMAND.PARITY_ERROR_RESPONSE) | fieldMask32(COMMAND.SERR_ENABLE) | fieldMask32(COMMAND.INTX_DISABLE),
    );
    c.setW1cMask(HDR.STATUS.offset, 2, STATUS_RW1C_MASK);
    c.setWriteMask(HDR.CACHE_LINE_SIZE.offset, 1, 0xff);
    c.setWriteMask(HDR.INTERRUPT_LINE.offset, 1, 0xff);
    this.bars = new Array<BarInfo | null>(barCount).fill(null);
    this.dma = this.dmaPort(null);
  }

  // ------------------------------------------------------------ construction helpers

  protected addBar(spec: BarSpec): void {
    const { index, size } = spec;
    const is64 = (spec.kind ?? 'mem64') === 'mem64';
    if (!(Number.isInteger(index) && index >= 0 && index + (is64 ? 1 : 0) < this.bars.length)) throw new RangeError(`${this.name}: bad BAR index ${index}`);
    if (!(Number.isSafeInteger(size) && size >= BAR_MIN_SIZE && Number.isInteger(Math.log2(size))))
      throw new RangeError(`${this.name}: BAR ${index} size ${size} is not a power of two >= 16`);
    if (!is64 && size > 2 ** 31) throw new RangeError(`${this.name}: 32-bit BAR ${index} larger than 2 GiB`);
    if (this.bars[index] || (is64 && this.bars[index + 1])) throw new RangeError(`${this.name}: BAR ${index} defined twice`);
    const info: BarInfo = { index, size, is64, prefetchable: spec.prefetchable ?? false };
    this.bars[index] = info;
    const off = HDR0.BAR0.offset + 4 * index; // BAR0 is at 0x10 in both header layouts
    let flags = 0;
    if (is64) flags = set32(flags, BAR.TYPE, BAR_TYPE_64);
    if (info.prefetchable) flags = set32(flags, BAR.PREFETCHABLE, 1);
    this.config.set(off, 4, flags);
    // Sizing (§7.5.1.2.1): the address bits below the size are read-only zero.
    const loMask = size >= 2 ** 32 ? 0 : (~(size - 1) & fieldMask32(BAR.ADDRESS)) >>> 0;
    this.config.setWriteMask(off, 4, loMask);
    if (is64) this.config.setWriteMask(off + 4, 4, size > 2 ** 32 ? (~(size / 2 ** 32 - 1)) >>> 0 : 0xffff_ffff);
  }

  protected addMsi(opts: MsiOptions): void {
    this.msi = new MsiCapability(this.config, opts, this);
  }

  protected addMsix(opts: MsixOptions): void {
    for (const [bar, off, len] of [
      [opts.tableBar, opts.tableOffset, opts.vectors * 16],
      [opts.pbaBar ?? opts.tableBar, opts.pbaOffset, Math.ceil(opts.vectors / 64) * 8],
    ] as const) {
      const b = this.bars[bar];
      if (!b || off + len > b.size) throw new RangeError(`${this.name}: MSI-X structure at BAR ${bar} + ${off} does not fit a BAR`);
    }
    this.msix = new MsixCapability(this.config, opts, this);
  }

  /** Adds the PCI Express capability (version 2) with the given device/port type. */
  protected addPcieCapability(portType: PortTypeValue, slotImplemented: boolean): number {
    const off = this.config.addCapability(CAP_ID.PCI_EXPRESS, PCIE_CAP.LENGTH);
    let caps = set32(0, PCIE_CAPS.VERSION, PCIE_CAP_VERSION);
    caps = set32(caps, PCIE_CAPS.PORT_TYPE, portType);
    if (slotImplemented) caps = set32(caps, PCIE_CAPS.SLOT_IMPLEMENTED, 1);
    this.config.set(off + PCIE_CAP.CAPABILITIES, 2, caps);
    this.pcieCapOffset = off;
    return off;
  }

  /** Changes the device/port type (an endpoint is an RCiEP on a root bus, an endpoint below a port). */
  setPortType(portType: PortTypeValue): void {
    if (this.pcieCapOffset < 0) return;
    const o = this.pcieCapOffset + PCIE_CAP.CAPABILITIES;
    this.config.set(o, 2, set32(this.config.get(o, 2), PCIE_CAPS.PORT_TYPE, portType));
  }

  setMultiFunction(on: boolean): void {
    this.config.setBits(HDR.HEADER_TYPE.offset, 1, fieldMask32(HEADER_TYPE.MULTI_FUNCTION), on);
  }

  // ------------------------------------------------------------ state

  get command(): number {
    return this.config.get(HDR.COMMAND.offset, 2);
  }

  get busMaster(): boolean {
    return get32(this.command, COMMAND.BUS_MASTER) !== 0;
  }

  get memoryEnabled(): boolean {
    return get32(this.command, COMMAND.MEMORY_SPACE) !== 0;
  }

  get device(): number {
    return this.devfn >>> 3;
  }

  get fn(): number {
    return this.devfn & 7;
  }

  /** Current base address of memory BAR `index` (what the guest programmed), or -1. */
  barBase(index: number): number {
    const b = this.bars[index];
    if (!b) return -1;
    const off = HDR0.BAR0.offset + 4 * index;
    const lo = this.config.get(off, 4) & fieldMask32(BAR.ADDRESS);
    const hi = b.is64 ? this.config.get(off + 4, 4) : 0;
    return hi * 0x1_0000_0000 + (lo >>> 0);
  }

  /** BAR index decoding `address` (memory space enabled), and the offset in `out`; -1 when none. */
  decodeBar(address: number, out: { offset: number }): number {
    if (!this.memoryEnabled) return -1;
    for (let i = 0; i < this.bars.length; i++) {
      const b = this.bars[i];
      if (!b) continue;
      const base = this.barBase(i);
      if (address >= base && address < base + b.size) {
        out.offset = address - base;
        return i;
      }
    }
    return -1;
  }

  /** Guest access to a memory BAR (the MSI-X table and PBA first, then the model's handler). */
  barRead(bar: number, offset: number, size: 1 | 2 | 4): number {
    const x = this.msix;
    if (x !== null && x.claims(bar, offset)) return x.read(bar, offset, size);
    return this.onBarRead(bar, offset, size);
  }

  barWrite(bar: number, offset: number, size: 1 | 2 | 4, value: number): void {
    const x = this.msix;
    if (x !== null && x.claims(bar, offset)) {
      x.write(bar, offset, size, value);
      return;
    }
    this.onBarWrite(bar, offset, size, value);
  }

  /** Device-specific BAR registers; RAZ/WI by default. */
  protected onBarRead(_bar: number, _offset: number, _size: 1 | 2 | 4): number {
    return 0;
  }

  protected onBarWrite(_bar: number, _offset: number, _size: 1 | 2 | 4, _value: number): void {}

  // ------------------------------------------------------------ requests

  /**
   * A DMA port for substream `ssid` (null: untagged), bound to the function's route: resolved on
   * first use and again only after a routing change. Create once and reuse.
   */
  dmaPort(ssid: number | null): DmaPort {
    return new FunctionDmaPort(this, ssid);
  }

  /** Sends one MSI write (address, data) as this function: bus master, identity, SMMU, controller. */
  sendMsi(address: number, data: number): MsiOutcome {
    const rc = this.bus?.rc ?? null;
    if (rc === null) return 'dropped';
    return rc.msiFrom(this, address, data);
  }

  /**
   * Signals interrupt vector `vector` the way the function's enabled mechanism says: MSI-X when
   * enabled, else MSI, else nothing (INTx is not modelled; recorded as a diagnostic).
   */
  signal(vector: number): SignalOutcome {
    const x = this.msix;
    if (x !== null && x.enabled) {
      if (!(vector >= 0 && vector < x.vectors)) return this.note('msi-vector-out-of-range', vector);
      return x.notify(vector);
    }
    const m = this.msi;
    if (m !== null && m.enabled) {
      if (!(vector >= 0 && vector < m.vectors)) return this.note('msi-vector-out-of-range', vector);
      return m.notify(vector);
    }
    return this.note('msi-not-enabled', vector);
  }

  private note(kind: 'msi-vector-out-of-range' | 'msi-not-enabled', vector: number): 'dropped' {
    const rc = this.bus?.rc ?? null;
    rc?.diagnostics.record(kind, this.name, rc.segment, -1, 0, vector);
    return 'dropped';
  }

  /** Requester ID now, or -1 while no bus number is assigned on the path (or detached). */
  requesterId(): number {
    const b = this.bus;
    if (b === null) return -1;
    const n = b.resolve();
    return n < 0 ? -1 : (n << 8) | this.devfn;
  }

  /** Where this function sits and what its requests become, right now. */
  identity(): FunctionIdentity {
    const rc = this.bus?.rc ?? null;
    const rid = this.requesterId();
    const base = { name: this.name, device: this.device, function: this.fn, busMaster: this.busMaster };
    if (rc === null || rid < 0) return { ...base, segment: rc?.segment ?? null, bus: null, rid: null, bdf: null, smmu: null, streamId: null, deviceId: null };
    return { ...base, ...rc.describeRid(rid), bus: rid >>> 8 };
  }

  /** Conventional reset of the function's registers and capability state. */
  reset(): void {
    this.config.reset();
    this.msi?.reset();
    this.msix?.reset();
  }
}
