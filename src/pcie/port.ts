// PCI Express ports: root ports, switch upstream ports and switch downstream ports. Each is a
// Type 1 function (bus numbers, memory windows, bridge control) with a PCI Express capability
// and an MSI capability (1 vector) for its own interrupts. Downstream-facing ports (root and
// switch downstream) have a slot: presence detect, Data Link Layer Link Active, and, when
// hot-plug capable, hot-plug events that raise the port's MSI on each FALSE->TRUE transition of
// (HPIE AND any enabled event) (PCIe Base r5.0 §6.7.3.4). The MSI goes out as the port's own
// requester (its RID, through the SMMU when covered), unlike the original which bypassed it.
// PCIe Base r5.0 §7.5.1.3 (Type 1 header), §7.5.3 (PCIe capability), §6.7 (hot-plug).
import { BRIDGE_CONTROL, BRIDGE_PREF_64, BRIDGE_WINDOW, CLASS_CODE, HDR1, HEADER_LAYOUT_TYPE1, STATUS_RW1C_MASK } from '../spec/pcie/config-header.js';
import {
  DEVICE_CAPS,
  DEVICE_CONTROL,
  DEVICE_STATUS_RW1C_MASK,
  LINK_CAPS,
  LINK_CAPS_2,
  LINK_CONTROL,
  LINK_CONTROL_2,
  LINK_SPEED_2_5GT,
  LINK_STATUS,
  PCIE_CAP,
  PORT_TYPE,
  ROOT_CONTROL_WRITABLE_MASK,
  ROOT_STATUS_RW1C_MASK,
  SLOT_CAPS,
  SLOT_CONTROL,
  SLOT_CONTROL_WRITABLE_MASK,
  SLOT_STATUS,
  SLOT_STATUS_RW1C_MASK,
} from '../spec/pcie/pcie-capability.js';
import { PciBus } from './bus.js';
import type { ConfigWriteObserver } from './config-space.js';
import { PciFunction } from './function.js';
import { fieldMask32, get32, set32 } from '../spec/bits.js';

export type PortKind = 'root' | 'upstream' | 'downstream';

export interface PortOptions {
  readonly kind: PortKind;
  /** Slot is hot-plug capable (root and downstream ports; default true). */
  readonly hotplug?: boolean;
  /** Physical slot number (Slot Capabilities PSN); default 0. */
  readonly slotNumber?: number;
  /** Link Capabilities port number; default 0. */
  readonly portNumber?: number;
  readonly vendorId?: number;
  /** Configuration-space Device ID. */
  readonly pciDeviceId?: number;
}

/** Something that can occupy a port's secondary bus: an endpoint device or a switch. */
export interface Pluggable {
  readonly name: string;
  /** Attaches its function(s) at device 0 of `bus`. */
  attachTo(bus: PciBus): void;
  detachFrom(bus: PciBus): void;
}

/** QEMU's generic PCIe root port / switch IDs are Red Hat 0x1b36; we use them as defaults. */
const DEFAULT_IDS: Record<PortKind, { vendorId: number; pciDeviceId: number }> = {
  root: { vendorId: 0x1b36, pciDeviceId: 0x000c },
  upstream: { vendorId: 0x1b36, pciDeviceId: 0x000d },
  downstream: { vendorId: 0x1b36, pciDeviceId: 0x000e },
};

const PORT_TYPE_OF: Record<PortKind, (typeof PORT_TYPE)[keyof typeof PORT_TYPE]> = {
  root: PORT_TYPE.ROOT_PORT,
  upstream: PORT_TYPE.UPSTREAM_SWITCH_PORT,
  downstream: PORT_TYPE.DOWNSTREAM_SWITCH_PORT,
};

export class PciePort extends PciFunction implements ConfigWriteObserver {
  readonly kind: PortKind;
  readonly hotplug: boolean;
  readonly hasSlot: boolean;
  /** The bus below this port. */
  readonly secondary: PciBus;
  /** What occupies the secondary bus (downstream-facing ports), or null. */
  child: Pluggable | null = null;
  readonly start: number;
  readonly end: number;
  private hotplugLine = false;
  private secondaryReset = false;

  constructor(name: string, opts: PortOptions) {
    const ids = DEFAULT_IDS[opts.kind];
    super(name, { vendorId: opts.vendorId ?? ids.vendorId, pciDeviceId: opts.pciDeviceId ?? ids.pciDeviceId, classCode: CLASS_CODE.PCI_BRIDGE }, HEADER_LAYOUT_TYPE1, HDR1.BAR_COUNT);
    this.kind = opts.kind;
    this.hasSlot = opts.kind !== 'upstream';
    this.hotplug = this.hasSlot && (opts.hotplug ?? true);
    this.secondary = new PciBus(null, this);
    const c = this.config;
    for (const r of [HDR1.PRIMARY_BUS, HDR1.SECONDARY_BUS, HDR1.SUBORDINATE_BUS]) c.setWriteMask(r.offset, 1, 0xff);
    c.setW1cMask(HDR1.SECONDARY_STATUS.offset, 2, STATUS_RW1C_MASK);
    const win = fieldMask32(BRIDGE_WINDOW.ADDRESS_31_20);
    c.setWriteMask(HDR1.MEMORY_BASE.offset, 2, win);
    c.setWriteMask(HDR1.MEMORY_LIMIT.offset, 2, win);
    c.setWriteMask(HDR1.PREF_MEMORY_BASE.offset, 2, win);
    c.setWriteMask(HDR1.PREF_MEMORY_LIMIT.offset, 2, win);
    c.set(HDR1.PREF_MEMORY_BASE.offset, 2, set32(0, BRIDGE_WINDOW.PREF_ADDRESSING, BRIDGE_PREF_64));
    c.set(HDR1.PREF_MEMORY_LIMIT.offset, 2, set32(0, BRIDGE_WINDOW.PREF_ADDRESSING, BRIDGE_PREF_64));
    c.setWriteMask(HDR1.PREF_BASE_UPPER.offset, 4, 0xffff_ffff);
    c.setWriteMask(HDR1.PREF_LIMIT_UPPER.offset, 4, 0xffff_ffff);
    c.setWriteMask(
      HDR1.BRIDGE_CONTROL.offset,
      2,
      fieldMask32(BRIDGE_CONTROL.PARITY_ERROR_RESPONSE) | fieldMask32(BRIDGE_CONTROL.SERR_ENABLE) | fieldMask32(BRIDGE_CONTROL.ISA_ENABLE) | fieldMask32(BRIDGE_CONTROL.SECONDARY_BUS_RESET),
    );

    // PCI Express capability.
    const p = this.addPcieCapability(PORT_TYPE_OF[opts.kind], this.hasSlot);
    this.start = p;
    this.end = p + PCIE_CAP.LENGTH;
    c.set(p + PCIE_CAP.DEVICE_CAPABILITIES, 4, fieldMask32(DEVICE_CAPS.ROLE_BASED_ERROR_REPORTING));
    c.set(p + PCIE_CAP.DEVICE_CONTROL, 2, set32(0, DEVICE_CONTROL.MAX_READ_REQUEST_SIZE, 2));
    c.setWriteMask(p + PCIE_CAP.DEVICE_CONTROL, 2, 0x79ff);
    c.setW1cMask(p + PCIE_CAP.DEVICE_STATUS, 2, DEVICE_STATUS_RW1C_MASK);
    let lcap = set32(0, LINK_CAPS.MAX_LINK_SPEED, LINK_SPEED_2_5GT);
    lcap = set32(lcap, LINK_CAPS.MAX_LINK_WIDTH, 1);
    lcap = set32(lcap, LINK_CAPS.PORT_NUMBER, opts.portNumber ?? 0);
    if (this.hasSlot) lcap = set32(lcap, LINK_CAPS.DLL_LINK_ACTIVE_REPORTING, 1);
    c.set(p + PCIE_CAP.LINK_CAPABILITIES, 4, lcap);
    c.setWriteMask(
      p + PCIE_CAP.LINK_CONTROL,
      2,
      fieldMask32(LINK_CONTROL.ASPM_CONTROL) | fieldMask32(LINK_CONTROL.COMMON_CLOCK) | fieldMask32(LINK_CONTROL.EXTENDED_SYNCH) | (this.hasSlot ? fieldMask32(LINK_CONTROL.LINK_DISABLE) : 0),
    );
    c.set(p + PCIE_CAP.LINK_STATUS, 2, set32(set32(0, LINK_STATUS.CURRENT_LINK_SPEED, LINK_SPEED_2_5GT), LINK_STATUS.NEGOTIATED_LINK_WIDTH, 1));
    c.set(p + PCIE_CAP.LINK_CAPABILITIES_2, 4, set32(0, LINK_CAPS_2.SUPPORTED_LINK_SPEEDS, 1 << (LINK_SPEED_2_5GT - 1)));
    c.set(p + PCIE_CAP.LINK_CONTROL_2, 2, set32(0, LINK_CONTROL_2.TARGET_LINK_SPEED, LINK_SPEED_2_5GT));
    c.setWriteMask(p + PCIE_CAP.LINK_CONTROL_2, 2, fieldMask32(LINK_CONTROL_2.TARGET_LINK_SPEED));
    if (this.hasSlot) {
      let scap = set32(0, SLOT_CAPS.NO_COMMAND_COMPLETED_SUPPORT, 1);
      scap = set32(scap, SLOT_CAPS.PHYSICAL_SLOT_NUMBER, opts.slotNumber ?? 0);
      if (this.hotplug) scap = set32(scap, SLOT_CAPS.HOT_PLUG_CAPABLE, 1);
      c.set(p + PCIE_CAP.SLOT_CAPABILITIES, 4, scap);
      c.setWriteMask(p + PCIE_CAP.SLOT_CONTROL, 2, SLOT_CONTROL_WRITABLE_MASK);
      c.setW1cMask(p + PCIE_CAP.SLOT_STATUS, 2, SLOT_STATUS_RW1C_MASK);
    }
    if (opts.kind === 'root') {
      c.setWriteMask(p + PCIE_CAP.ROOT_CONTROL, 2, ROOT_CONTROL_WRITABLE_MASK);
      c.setW1cMask(p + PCIE_CAP.ROOT_STATUS, 4, ROOT_STATUS_RW1C_MASK);
    }
    c.observe(this);
    const bc = HDR1.BRIDGE_CONTROL.offset;
    c.observe({ start: bc, end: bc + 2, afterWrite: () => this.bridgeControlWritten() });
    this.addMsi({ vectors: 1, addr64: true, perVectorMask: true });
    c.captureResetState();
  }

  // ------------------------------------------------------------ bus numbers and windows

  get primaryBus(): number {
    return this.config.get(HDR1.PRIMARY_BUS.offset, 1);
  }

  get secondaryBus(): number {
    return this.config.get(HDR1.SECONDARY_BUS.offset, 1);
  }

  get subordinateBus(): number {
    return this.config.get(HDR1.SUBORDINATE_BUS.offset, 1);
  }

  /** True when the port forwards a memory request for `address` downstream (§7.5.1.3.8-9). */
  forwardsMemory(address: number): boolean {
    if (!this.memoryEnabled) return false;
    const c = this.config;
    const gran = 0x10_0000;
    const mb = get32(c.get(HDR1.MEMORY_BASE.offset, 2), BRIDGE_WINDOW.ADDRESS_31_20) * gran;
    const ml = get32(c.get(HDR1.MEMORY_LIMIT.offset, 2), BRIDGE_WINDOW.ADDRESS_31_20) * gran + (gran - 1);
    if (mb <= ml && address >= mb && address <= ml) return true;
    const pb = c.get(HDR1.PREF_BASE_UPPER.offset, 4) * 0x1_0000_0000 + get32(c.get(HDR1.PREF_MEMORY_BASE.offset, 2), BRIDGE_WINDOW.ADDRESS_31_20) * gran;
    const pl = c.get(HDR1.PREF_LIMIT_UPPER.offset, 4) * 0x1_0000_0000 + get32(c.get(HDR1.PREF_MEMORY_LIMIT.offset, 2), BRIDGE_WINDOW.ADDRESS_31_20) * gran + (gran - 1);
    return pb <= pl && address >= pb && address <= pl;
  }

  // ------------------------------------------------------------ slot and hot-plug

  private get slotStatusOffset(): number {
    return this.start + PCIE_CAP.SLOT_STATUS;
  }

  /** Slot Status register value. */
  get slotStatus(): number {
    return this.config.get(this.slotStatusOffset, 2);
  }

  get slotControl(): number {
    return this.config.get(this.start + PCIE_CAP.SLOT_CONTROL, 2);
  }

  get linkActive(): boolean {
    return get32(this.config.get(this.start + PCIE_CAP.LINK_STATUS, 2), LINK_STATUS.DLL_LINK_ACTIVE) !== 0;
  }

  /**
   * Puts `child` below this port. 'cold' (before the guest runs): presence and link are simply up.
   * 'hot': Presence Detect Changed and Data Link Layer State Changed are set as well, which
   * raises the port's hot-plug interrupt when the guest enabled it.
   */
  plug(child: Pluggable, mode: 'cold' | 'hot' = 'hot'): void {
    if (!this.hasSlot) throw new RangeError(`${this.name} is an upstream port; it has no slot`);
    if (this.child !== null) throw new RangeError(`${this.name} is occupied by ${this.child.name}`);
    if (mode === 'hot' && !this.hotplug) throw new RangeError(`${this.name} is not hot-plug capable`);
    child.attachTo(this.secondary);
    this.child = child;
    this.setPresence(true, mode === 'hot');
  }

  /** Removes what occupies the port (surprise removal semantics: state changes, then events). */
  unplug(): Pluggable | null {
    const child = this.child;
    if (child === null) return null;
    if (!this.hotplug) throw new RangeError(`${this.name} is not hot-plug capable`);
    child.detachFrom(this.secondary);
    this.child = null;
    this.setPresence(false, true);
    return child;
  }

  private setPresence(present: boolean, events: boolean): void {
    const c = this.config;
    c.setBits(this.slotStatusOffset, 2, fieldMask32(SLOT_STATUS.PRESENCE_DETECT_STATE), present);
    c.setBits(this.start + PCIE_CAP.LINK_STATUS, 2, fieldMask32(LINK_STATUS.DLL_LINK_ACTIVE), present);
    if (events) c.setBits(this.slotStatusOffset, 2, fieldMask32(SLOT_STATUS.PRESENCE_DETECT_CHANGED) | fieldMask32(SLOT_STATUS.DLL_STATE_CHANGED), true);
    this.evaluateHotplugInterrupt();
  }

  /** §6.7.3.4: one MSI per FALSE->TRUE transition of HPIE AND (any enabled, set event bit). */
  private evaluateHotplugInterrupt(): void {
    if (!this.hotplug) return;
    const ctl = this.slotControl;
    const st = this.slotStatus;
    // Events ABP, PFD, MRLSC, PDC, CC share bit positions with their enables in Slot Control.
    const low = st & ctl & 0x1f;
    const dll = get32(st, SLOT_STATUS.DLL_STATE_CHANGED) !== 0 && get32(ctl, SLOT_CONTROL.DLL_STATE_CHANGED_ENABLE) !== 0;
    const line = get32(ctl, SLOT_CONTROL.HOT_PLUG_INTERRUPT_ENABLE) !== 0 && (low !== 0 || dll);
    const rising = line && !this.hotplugLine;
    this.hotplugLine = line;
    if (rising) this.signal(0);
  }

  afterWrite(offset: number, size: number): void {
    const s = this.start + PCIE_CAP.SLOT_CONTROL;
    if (this.hasSlot && offset < s + 4 && offset + size > s) this.evaluateHotplugInterrupt();
  }

  /** Secondary Bus Reset (§7.5.1.3.13): setting it resets every function below the port. */
  private bridgeControlWritten(): void {
    const on = get32(this.config.get(HDR1.BRIDGE_CONTROL.offset, 2), BRIDGE_CONTROL.SECONDARY_BUS_RESET) !== 0;
    if (on && !this.secondaryReset) for (const f of [...this.secondary.walk()]) f.reset();
    this.secondaryReset = on;
  }

  /** Edge-detector state (host-side save/restore). */
  get latches(): { hotplugLine: boolean; secondaryReset: boolean } {
    return { hotplugLine: this.hotplugLine, secondaryReset: this.secondaryReset };
  }

  set latches(l: { hotplugLine: boolean; secondaryReset: boolean }) {
    this.hotplugLine = l.hotplugLine;
    this.secondaryReset = l.secondaryReset;
  }

  override reset(): void {
    super.reset();
    this.hotplugLine = false;
    this.secondaryReset = false;
    if (this.hasSlot) this.setPresence(this.child !== null, false);
  }
}
