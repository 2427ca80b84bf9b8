// A PCI Express switch: an upstream port (device 0 on the secondary bus of the port it plugs into)
// whose internal bus carries the downstream ports as functions 0..n-1 of device 0 (the original's
// layout; the upstream port's internal bus is not a PCIe link, so Linux scans it fully). Devices
// behind its downstream ports are routed like any other requester, so they are translated by the
// SMMU from cold plug on (the original missed them). PCIe Base r5.0 §1.3.3 (switch), §7.5.3.
import type { PciBus } from './bus.js';
import { PciePort, type Pluggable } from './port.js';

export interface SwitchOptions {
  /** Number of downstream ports, 1..8. */
  readonly downstreamPorts: number;
  /** Downstream ports are hot-plug capable (default true); one flag for all or one per port. */
  readonly hotplug?: boolean | readonly boolean[];
  /** Names of the downstream ports (default "<switch>.dp<i>"). */
  readonly portNames?: readonly string[];
  /** Physical slot number of downstream port 0; port i gets slotBase + i (default 0). */
  readonly slotBase?: number;
}

export class PcieSwitch implements Pluggable {
  readonly upstream: PciePort;
  readonly downstream: readonly PciePort[];

  constructor(
    readonly name: string,
    opts: SwitchOptions,
  ) {
    const n = opts.downstreamPorts;
    if (!(Number.isInteger(n) && n >= 1 && n <= 8)) throw new RangeError(`${name}: a switch has 1..8 downstream ports, not ${n}`);
    this.upstream = new PciePort(`${name}.up`, { kind: 'upstream' });
    const ports: PciePort[] = [];
    for (let i = 0; i < n; i++) {
      const hp = opts.hotplug;
      const hotplug = typeof hp === 'boolean' ? hp : (hp?.[i] ?? true);
      const p = new PciePort(opts.portNames?.[i] ?? `${name}.dp${i}`, { kind: 'downstream', hotplug, slotNumber: (opts.slotBase ?? 0) + i, portNumber: i + 1 });
      ports.push(p);
      this.upstream.secondary.attach(p, i);
    }
    if (n > 1) {
      ports[0]!.setMultiFunction(true);
      ports[0]!.config.captureResetState();
    }
    this.downstream = ports;
  }

  attachTo(bus: PciBus): void {
    bus.attach(this.upstream, 0);
  }

  detachFrom(bus: PciBus): void {
    bus.detach(this.upstream);
  }
}
