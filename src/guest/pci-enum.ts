// The reference guest's PCI enumeration through ECAM, as firmware / Linux (pci_scan_bridge with
// assign-busses) does it: depth-first, devices in ascending order, each bridge's secondary bus =
// next free bus, subordinate = last bus found below it; BARs sized (all-ones write) and assigned
// from the root complex's 32-bit window; bridge memory windows programmed on 1 MiB boundaries;
// Memory Space + Bus Master enabled. Then MSI-X / MSI programming and hot-plug interrupt enabling
// as a driver would. PCIe Base r5.0 §7.2.2 (ECAM), §7.5.1 (headers), §7.7 (MSI/MSI-X), §6.7.
import { CAP_AREA_END, CAP_AREA_START, CAP_HEADER, CAP_ID, MSIX_CAP, MSIX_CONTROL, MSIX_ENTRY, MSIX_LOCATION, MSI_CAP, MSI_CONTROL } from '../spec/pcie/capabilities.js';
import { BAR, BAR_TYPE_64, BRIDGE_WINDOW, BRIDGE_WINDOW_GRANULE, COMMAND, ECAM, HDR, HDR0, HDR1, HEADER_LAYOUT_TYPE1, HEADER_TYPE } from '../spec/pcie/config-header.js';
import { PCIE_CAP, SLOT_CONTROL, SLOT_STATUS_RW1C_MASK } from '../spec/pcie/pcie-capability.js';
import { formatBdf, rid as makeRid } from '../pcie/id-map.js';
import type { CpuBus } from './cpu-bus.js';

export interface GuestRootComplex {
  readonly name: string;
  readonly segment: number;
  readonly ecamBase: number;
  readonly busStart: number;
  readonly busEnd: number;
  /** CPU window BARs are assigned from. */
  readonly mmio: { readonly base: number; readonly size: number } | null;
}

export interface FoundFunction {
  readonly rootComplex: string;
  readonly segment: number;
  readonly bus: number;
  readonly device: number;
  readonly fn: number;
  readonly rid: number;
  readonly bdf: string;
  readonly vendorId: number;
  /** Configuration-space Device ID. */
  readonly pciDeviceId: number;
  readonly bridge: boolean;
  readonly secondary: number | null;
  readonly subordinate: number | null;
  readonly bars: { index: number; base: number; size: number }[];
}

const f = (v: number, fl: { lsb: number; width: number }): number => (v >>> fl.lsb) & (fl.width >= 32 ? 0xffff_ffff : (1 << fl.width) - 1);

export class GuestPci {
  private cursor = 0;
  private nextBus = 0;
  found: FoundFunction[] = [];
  readonly messages: string[] = [];

  constructor(
    private readonly bus: CpuBus,
    readonly rc: GuestRootComplex,
  ) {}

  private addr(bus: number, devfn: number, off: number): number {
    return this.rc.ecamBase + (bus - this.rc.busStart) * ECAM.BYTES_PER_BUS + devfn * 0x1000 + off;
  }

  cfgRead(bus: number, devfn: number, off: number, size: 1 | 2 | 4): number {
    if (bus < this.rc.busStart || bus > this.rc.busEnd) return size === 4 ? 0xffff_ffff : (1 << (size * 8)) - 1;
    return this.bus.read(this.addr(bus, devfn, off), size) >>> 0;
  }

  cfgWrite(bus: number, devfn: number, off: number, size: 1 | 2 | 4, v: number): void {
    if (bus < this.rc.busStart || bus > this.rc.busEnd) return;
    this.bus.write(this.addr(bus, devfn, off), size, v >>> 0);
  }

  /** Offset of capability `id`, or -1 (bounded walk of the capability list). */
  findCap(bus: number, devfn: number, id: number): number {
    let p = this.cfgRead(bus, devfn, HDR.CAPABILITIES_PTR.offset, 1) & ~3;
    for (let n = 0; n < 48 && p >= CAP_AREA_START && p < CAP_AREA_END; n++) {
      const h = this.cfgRead(bus, devfn, p, 2);
      if (f(h, CAP_HEADER.ID) === id) return p;
      p = f(h, CAP_HEADER.NEXT) & ~3;
    }
    return -1;
  }

  /**
   * Clears every bridge's bus numbers (deepest first), so a fresh enumeration cannot collide with
   * the old numbering (Linux "pci=assign-busses" style renumbering).
   */
  private clearBusNumbers(): void {
    for (const fn of [...this.found].reverse()) {
      if (!fn.bridge) continue;
      const devfn = (fn.device << 3) | fn.fn;
      this.cfgWrite(fn.bus, devfn, HDR1.SUBORDINATE_BUS.offset, 1, 0);
      this.cfgWrite(fn.bus, devfn, HDR1.SECONDARY_BUS.offset, 1, 0);
      this.cfgWrite(fn.bus, devfn, HDR1.PRIMARY_BUS.offset, 1, 0);
    }
  }

  /**
   * Enumerates the hierarchy. `busGap` leaves that many unused bus numbers before the first
   * secondary bus (what a renumbering after hot-plug reservation looks like to devices: new RIDs).
   */
  enumerate(busGap = 0): FoundFunction[] {
    this.clearBusNumbers();
    this.found = [];
    this.cursor = this.rc.mmio?.base ?? 0;
    this.nextBus = this.rc.busStart + 1 + busGap;
    this.scanBus(this.rc.busStart, this.rc.busEnd);
    return this.found;
  }

  private scanBus(busNum: number, limit: number): number {
    let last = busNum;
    for (let dev = 0; dev < 32; dev++) {
      const v0 = this.cfgRead(busNum, dev << 3, HDR.VENDOR_ID.offset, 2);
      if (v0 === 0xffff) continue;
      const multi = f(this.cfgRead(busNum, dev << 3, HDR.HEADER_TYPE.offset, 1), HEADER_TYPE.MULTI_FUNCTION) === 1;
      for (let fn = 0; fn < (multi ? 8 : 1); fn++) {
        const devfn = (dev << 3) | fn;
        const vendor = this.cfgRead(busNum, devfn, HDR.VENDOR_ID.offset, 2);
        if (vendor === 0xffff) continue;
        const pciDeviceId = this.cfgRead(busNum, devfn, HDR.DEVICE_ID.offset, 2);
        const layout = f(this.cfgRead(busNum, devfn, HDR.HEADER_TYPE.offset, 1), HEADER_TYPE.LAYOUT);
        const base = { rootComplex: this.rc.name, segment: this.rc.segment, bus: busNum, device: dev, fn, rid: makeRid(busNum, dev, fn), bdf: formatBdf(makeRid(busNum, dev, fn), this.rc.segment), vendorId: vendor, pciDeviceId };
        if (layout === HEADER_LAYOUT_TYPE1) {
          const sec = this.nextBus++;
          if (sec > limit) {
            this.messages.push(`${base.bdf}: no bus number left for the secondary bus`);
            continue;
          }
          this.cfgWrite(busNum, devfn, HDR1.PRIMARY_BUS.offset, 1, busNum);
          this.cfgWrite(busNum, devfn, HDR1.SECONDARY_BUS.offset, 1, sec);
          this.cfgWrite(busNum, devfn, HDR1.SUBORDINATE_BUS.offset, 1, limit);
          const entry: FoundFunction = { ...base, bridge: true, secondary: sec, subordinate: limit, bars: [] };
          this.found.push(entry);
          this.cursor = Math.ceil(this.cursor / BRIDGE_WINDOW_GRANULE) * BRIDGE_WINDOW_GRANULE;
          const winBase = this.cursor;
          const sub = this.scanBus(sec, limit);
          this.cfgWrite(busNum, devfn, HDR1.SUBORDINATE_BUS.offset, 1, sub);
          (entry as { subordinate: number }).subordinate = sub;
          this.cursor = Math.ceil(this.cursor / BRIDGE_WINDOW_GRANULE) * BRIDGE_WINDOW_GRANULE;
          this.programWindow(busNum, devfn, winBase, this.cursor);
          this.enable(busNum, devfn);
          last = Math.max(last, sub);
        } else {
          const bars = this.assignBars(busNum, devfn);
          this.found.push({ ...base, bridge: false, secondary: null, subordinate: null, bars });
          this.enable(busNum, devfn);
        }
      }
    }
    return Math.max(last, this.nextBus - 1);
  }

  private programWindow(bus: number, devfn: number, start: number, end: number): void {
    // The window registers hold address bits [31:20] (1 MiB granule).
    const enc = (a: number): number => ((Math.floor(a / BRIDGE_WINDOW_GRANULE) & 0xfff) << BRIDGE_WINDOW.ADDRESS_31_20.lsb) >>> 0;
    if (end > start) {
      this.cfgWrite(bus, devfn, HDR1.MEMORY_BASE.offset, 2, enc(start));
      this.cfgWrite(bus, devfn, HDR1.MEMORY_LIMIT.offset, 2, enc(end - 1));
    } else {
      // Empty window: base above limit.
      this.cfgWrite(bus, devfn, HDR1.MEMORY_BASE.offset, 2, enc(0xfff0_0000));
      this.cfgWrite(bus, devfn, HDR1.MEMORY_LIMIT.offset, 2, 0);
    }
    // No prefetchable window.
    this.cfgWrite(bus, devfn, HDR1.PREF_MEMORY_BASE.offset, 2, enc(0xfff0_0000));
    this.cfgWrite(bus, devfn, HDR1.PREF_MEMORY_LIMIT.offset, 2, 0);
    this.cfgWrite(bus, devfn, HDR1.PREF_BASE_UPPER.offset, 4, 0);
    this.cfgWrite(bus, devfn, HDR1.PREF_LIMIT_UPPER.offset, 4, 0);
  }

  private enable(bus: number, devfn: number): void {
    const c = this.cfgRead(bus, devfn, HDR.COMMAND.offset, 2);
    this.cfgWrite(bus, devfn, HDR.COMMAND.offset, 2, c | (1 << COMMAND.MEMORY_SPACE.lsb) | (1 << COMMAND.BUS_MASTER.lsb));
  }

  private assignBars(bus: number, devfn: number): { index: number; base: number; size: number }[] {
    const out: { index: number; base: number; size: number }[] = [];
    for (let i = 0; i < HDR0.BAR_COUNT; i++) {
      const off = HDR0.BAR0.offset + 4 * i;
      const orig = this.cfgRead(bus, devfn, off, 4);
      this.cfgWrite(bus, devfn, off, 4, 0xffff_ffff);
      const lo = this.cfgRead(bus, devfn, off, 4);
      if (lo === 0 || f(lo, BAR.SPACE) === 1) {
        this.cfgWrite(bus, devfn, off, 4, orig);
        continue;
      }
      const is64 = f(lo, BAR.TYPE) === BAR_TYPE_64;
      let size = ((~(lo & ~0xf) >>> 0) + 1) >>> 0;
      if (is64) {
        this.cfgWrite(bus, devfn, off + 4, 4, 0xffff_ffff);
        const hi = this.cfgRead(bus, devfn, off + 4, 4);
        if ((lo & ~0xf) === 0) size = ((~hi >>> 0) + 1) * 0x1_0000_0000;
      }
      if (size === 0) size = 0x1_0000_0000;
      const base = Math.ceil(this.cursor / size) * size;
      const win = this.rc.mmio;
      if (win === null || base + size > win.base + win.size || base + size > 0x1_0000_0000) {
        this.messages.push(`${formatBdf(makeRid(bus, devfn >> 3, devfn & 7), this.rc.segment)}: no space for BAR ${i} (${size} bytes)`);
        this.cfgWrite(bus, devfn, off, 4, 0);
        if (is64) this.cfgWrite(bus, devfn, off + 4, 4, 0);
        if (is64) i++;
        continue;
      }
      this.cursor = base + size;
      this.cfgWrite(bus, devfn, off, 4, base >>> 0);
      if (is64) this.cfgWrite(bus, devfn, off + 4, 4, 0);
      out.push({ index: i, base, size });
      if (is64) i++;
    }
    return out;
  }

  /** The function currently at `bdf` position, from the last enumeration. */
  lookup(bus: number, device: number, fn: number): FoundFunction | null {
    return this.found.find((x) => x.bus === bus && x.device === device && x.fn === fn) ?? null;
  }

  /**
   * Programs MSI-X entries (address, data) and enables MSI-X (table in a BAR, written through
   * the CPU window). Returns false when the function has no MSI-X or the table BAR is unassigned.
   */
  setupMsix(fn: FoundFunction, vectors: readonly { address: number; data: number }[]): boolean {
    const devfn = (fn.device << 3) | fn.fn;
    const cap = this.findCap(fn.bus, devfn, CAP_ID.MSIX);
    if (cap < 0) return false;
    const tbl = this.cfgRead(fn.bus, devfn, cap + MSIX_CAP.TABLE, 4);
    const bir = f(tbl, MSIX_LOCATION.BIR);
    const offset = tbl & (((1 << MSIX_LOCATION.OFFSET.width) - 1) << MSIX_LOCATION.OFFSET.lsb);
    const bar = fn.bars.find((b) => b.index === bir);
    if (!bar) return false;
    const ctl = this.cfgRead(fn.bus, devfn, cap + MSIX_CAP.MESSAGE_CONTROL, 2);
    const n = Math.min(vectors.length, f(ctl, MSIX_CONTROL.TABLE_SIZE) + 1);
    // Function mask while programming, then enable.
    this.cfgWrite(fn.bus, devfn, cap + MSIX_CAP.MESSAGE_CONTROL, 2, ctl | (1 << MSIX_CONTROL.FUNCTION_MASK.lsb));
    for (let v = 0; v < n; v++) {
      const e = bar.base + (offset >>> 0) + v * MSIX_ENTRY.BYTES;
      const m = vectors[v]!;
      this.bus.write(e + MSIX_ENTRY.ADDRESS_LO, 4, m.address >>> 0);
      this.bus.write(e + MSIX_ENTRY.ADDRESS_HI, 4, Math.floor(m.address / 0x1_0000_0000) >>> 0);
      this.bus.write(e + MSIX_ENTRY.DATA, 4, m.data >>> 0);
      this.bus.write(e + MSIX_ENTRY.VECTOR_CONTROL, 4, 0);
    }
    this.cfgWrite(fn.bus, devfn, cap + MSIX_CAP.MESSAGE_CONTROL, 2, (ctl | (1 << MSIX_CONTROL.ENABLE.lsb)) & ~(1 << MSIX_CONTROL.FUNCTION_MASK.lsb));
    return true;
  }

  /** Programs a single-vector MSI (address, data) and enables it. False without an MSI capability. */
  setupMsi(fn: FoundFunction, address: number, data: number): boolean {
    const devfn = (fn.device << 3) | fn.fn;
    const cap = this.findCap(fn.bus, devfn, CAP_ID.MSI);
    if (cap < 0) return false;
    const ctl = this.cfgRead(fn.bus, devfn, cap + MSI_CAP.MESSAGE_CONTROL, 2);
    const is64 = f(ctl, MSI_CONTROL.ADDR64_CAPABLE) === 1;
    this.cfgWrite(fn.bus, devfn, cap + MSI_CAP.ADDRESS_LO, 4, address >>> 0);
    if (is64) this.cfgWrite(fn.bus, devfn, cap + MSI_CAP.ADDRESS_HI, 4, Math.floor(address / 0x1_0000_0000) >>> 0);
    this.cfgWrite(fn.bus, devfn, cap + (is64 ? MSI_CAP.DATA_64 : MSI_CAP.DATA_32), 2, data & 0xffff);
    this.cfgWrite(fn.bus, devfn, cap + MSI_CAP.MESSAGE_CONTROL, 2, (ctl & ~(7 << MSI_CONTROL.MULTIPLE_MESSAGE_ENABLE.lsb)) | (1 << MSI_CONTROL.ENABLE.lsb));
    return true;
  }

  /** pciehp: enable Presence Detect Changed, DLL State Changed and Hot-Plug interrupts on a port. */
  enableHotplug(port: FoundFunction): boolean {
    const devfn = (port.device << 3) | port.fn;
    const cap = this.findCap(port.bus, devfn, CAP_ID.PCI_EXPRESS);
    if (cap < 0) return false;
    this.cfgWrite(port.bus, devfn, cap + PCIE_CAP.SLOT_STATUS, 2, SLOT_STATUS_RW1C_MASK);
    const ctl = this.cfgRead(port.bus, devfn, cap + PCIE_CAP.SLOT_CONTROL, 2);
    const bits = (1 << SLOT_CONTROL.PRESENCE_DETECT_CHANGED_ENABLE.lsb) | (1 << SLOT_CONTROL.DLL_STATE_CHANGED_ENABLE.lsb) | (1 << SLOT_CONTROL.HOT_PLUG_INTERRUPT_ENABLE.lsb);
    this.cfgWrite(port.bus, devfn, cap + PCIE_CAP.SLOT_CONTROL, 2, ctl | bits);
    return true;
  }

  /** Reads and clears a port's Slot Status (what pciehp's interrupt handler does). */
  ackSlotStatus(port: FoundFunction): number {
    const devfn = (port.device << 3) | port.fn;
    const cap = this.findCap(port.bus, devfn, CAP_ID.PCI_EXPRESS);
    if (cap < 0) return 0;
    const st = this.cfgRead(port.bus, devfn, cap + PCIE_CAP.SLOT_STATUS, 2);
    this.cfgWrite(port.bus, devfn, cap + PCIE_CAP.SLOT_STATUS, 2, st & SLOT_STATUS_RW1C_MASK);
    return st;
  }
}
