// Endpoint functions (Type 0 header) and multi-function endpoint devices (1..8 functions).
// A device model supplies identity, BARs, MSI/MSI-X and a BarHandler; the function supplies
// config space, DMA ports (`dma`, `dmaPort(ssid)`) and `signal(vector)`.
// PCIe Base r5.0 §7.5.1.2 (Type 0 header), §7.5.3 (PCIe capability, endpoint / RCiEP).
import { HDR0, HEADER_LAYOUT_TYPE0 } from '../spec/pcie/config-header.js';
import {
  DEVICE_CAPS,
  DEVICE_CONTROL,
  DEVICE_STATUS_RW1C_MASK,
  LINK_CAPS,
  LINK_CAPS_2,
  LINK_SPEED_2_5GT,
  LINK_STATUS,
  PCIE_CAP,
  PORT_TYPE,
} from '../spec/pcie/pcie-capability.js';
import type { PciBus } from './bus.js';
import { PciFunction, type BarSpec, type FunctionHeader } from './function.js';
import type { MsiOptions } from './msi-capability.js';
import type { MsixOptions } from './msix-capability.js';
import type { Pluggable } from './port.js';
import { fieldMask32, set32 } from '../spec/bits.js';
import type { BarHandler } from './types.js';

export interface EndpointFunctionOptions extends FunctionHeader {
  readonly subsystemVendorId?: number;
  readonly subsystemId?: number;
  readonly bars?: readonly BarSpec[];
  readonly msi?: MsiOptions;
  readonly msix?: MsixOptions;
  /** Device registers in the BARs (outside the MSI-X table and PBA). */
  readonly handler?: BarHandler;
}

export class EndpointFunction extends PciFunction {
  private handler: BarHandler | null;

  constructor(name: string, opts: EndpointFunctionOptions) {
    super(name, opts, HEADER_LAYOUT_TYPE0, HDR0.BAR_COUNT);
    const c = this.config;
    c.set(HDR0.SUBSYSTEM_VENDOR_ID.offset, 2, (opts.subsystemVendorId ?? opts.vendorId) & 0xffff);
    c.set(HDR0.SUBSYSTEM_ID.offset, 2, (opts.subsystemId ?? 0) & 0xffff);
    for (const b of opts.bars ?? []) this.addBar(b);
    const p = this.addPcieCapability(PORT_TYPE.ENDPOINT, false);
    c.set(p + PCIE_CAP.DEVICE_CAPABILITIES, 4, fieldMask32(DEVICE_CAPS.ROLE_BASED_ERROR_REPORTING));
    c.set(p + PCIE_CAP.DEVICE_CONTROL, 2, set32(0, DEVICE_CONTROL.MAX_READ_REQUEST_SIZE, 2));
    c.setWriteMask(p + PCIE_CAP.DEVICE_CONTROL, 2, 0x79ff);
    c.setW1cMask(p + PCIE_CAP.DEVICE_STATUS, 2, DEVICE_STATUS_RW1C_MASK);
    c.set(p + PCIE_CAP.LINK_CAPABILITIES, 4, set32(set32(0, LINK_CAPS.MAX_LINK_SPEED, LINK_SPEED_2_5GT), LINK_CAPS.MAX_LINK_WIDTH, 1));
    c.set(p + PCIE_CAP.LINK_STATUS, 2, set32(set32(0, LINK_STATUS.CURRENT_LINK_SPEED, LINK_SPEED_2_5GT), LINK_STATUS.NEGOTIATED_LINK_WIDTH, 1));
    c.set(p + PCIE_CAP.LINK_CAPABILITIES_2, 4, set32(0, LINK_CAPS_2.SUPPORTED_LINK_SPEEDS, 1 << (LINK_SPEED_2_5GT - 1)));
    if (opts.msix) this.addMsix(opts.msix);
    if (opts.msi) this.addMsi(opts.msi);
    this.handler = opts.handler ?? null;
    c.captureResetState();
  }

  /** The model's BAR handler (a VMM drives its deferred work when it is Serviceable). */
  get barHandler(): BarHandler | null {
    return this.handler;
  }

  /** Sets (or replaces) the model's BAR handler after construction. */
  setHandler(h: BarHandler | null): void {
    this.handler = h;
  }

  protected override onBarRead(bar: number, offset: number, size: 1 | 2 | 4): number {
    return this.handler !== null ? this.handler.read(bar, offset, size) : 0;
  }

  protected override onBarWrite(bar: number, offset: number, size: 1 | 2 | 4, value: number): void {
    this.handler?.write(bar, offset, size, value);
  }
}

/** An endpoint device: functions 0..n-1 at device 0 below a port, or at a device number on a root bus. */
export class PcieDevice implements Pluggable {
  readonly functions: readonly EndpointFunction[];

  constructor(
    readonly name: string,
    functions: readonly (EndpointFunction | EndpointFunctionOptions)[],
  ) {
    if (functions.length < 1 || functions.length > 8) throw new RangeError(`${name}: a device has 1..8 functions, not ${functions.length}`);
    this.functions = functions.map((f, i) => (f instanceof EndpointFunction ? f : new EndpointFunction(functions.length > 1 ? `${name}.${i}` : name, f)));
    this.functions[0]!.setMultiFunction(this.functions.length > 1);
    this.functions[0]!.config.captureResetState();
  }

  /** Below a port: device 0, function i; an endpoint there is a PCI Express Endpoint. */
  attachTo(bus: PciBus): void {
    this.attachAt(bus, 0, PORT_TYPE.ENDPOINT);
  }

  /** On a root bus at `device`: a Root Complex Integrated Endpoint. */
  attachIntegrated(bus: PciBus, device: number): void {
    this.attachAt(bus, device, PORT_TYPE.ROOT_COMPLEX_INTEGRATED_ENDPOINT);
  }

  private attachAt(bus: PciBus, device: number, type: typeof PORT_TYPE.ENDPOINT | typeof PORT_TYPE.ROOT_COMPLEX_INTEGRATED_ENDPOINT): void {
    if (!(Number.isInteger(device) && device >= 0 && device < 32)) throw new RangeError(`${this.name}: device number ${device} not in 0..31`);
    this.functions.forEach((f, i) => {
      f.setPortType(type);
      f.config.captureResetState();
      bus.attach(f, (device << 3) | i);
    });
  }

  detachFrom(bus: PciBus): void {
    for (const f of this.functions) bus.detach(f);
  }
}

