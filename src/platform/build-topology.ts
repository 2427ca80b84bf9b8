// Instantiates a root complex's PCIe topology from the platform description (description.ts):
// root ports at devfn = device << 3, integrated endpoints, switches and endpoints below ports, all
// cold-plugged, with the root complex's ID mappings from derive-ids.ts (RcIdMaps), so the
// runtime routing uses exactly the mappings the firmware tables are generated from. Device models
// for endpoints come from a factory (default: a generic function with one MSI vector).
import type { PhysMemory } from '../memory/types.js';
import type { PcieDiagnostics } from '../pcie/diagnostics.js';
import { EndpointFunction, PcieDevice, type EndpointFunctionOptions } from '../pcie/endpoint.js';
import type { RootComplexIdMaps } from '../pcie/id-routing.js';
import type { PciePort } from '../pcie/port.js';
import { RootComplex } from '../pcie/root-complex.js';
import { PcieSwitch } from '../pcie/switch.js';
import { CLASS_CODE } from '../spec/pcie/config-header.js';
import type { EndpointDesc, RootComplexDesc, SwitchDesc } from './description.js';

/** Makes function `fn` of described endpoint `e` ("path" is slash-separated names from the root bus). */
export type EndpointFactory = (e: EndpointDesc, fn: number, path: string) => EndpointFunction | EndpointFunctionOptions;

/** Default endpoint: Red Hat "PCI test device" IDs, class "other", one 16 KiB BAR, 1 MSI vector. */
export const genericEndpoint: EndpointFactory = () => ({
  vendorId: 0x1b36,
  pciDeviceId: 0x0005,
  classCode: CLASS_CODE.OTHER,
  bars: [{ index: 0, size: 0x4000 }],
  msi: { vectors: 1 },
});

export interface BuiltTopology {
  readonly rc: RootComplex;
  /** Every port (root, switch upstream "<switch>.up" and downstream) by description name. */
  readonly ports: ReadonlyMap<string, PciePort>;
  readonly switches: ReadonlyMap<string, PcieSwitch>;
  readonly devices: ReadonlyMap<string, PcieDevice>;
}

export interface BuildOptions {
  readonly memory: PhysMemory;
  readonly diagnostics?: PcieDiagnostics;
  readonly endpoint?: EndpointFactory;
}

export function buildRootComplex(desc: RootComplexDesc, ids: RootComplexIdMaps, opts: BuildOptions): BuiltTopology {
  const rc = new RootComplex({
    name: desc.name,
    segment: desc.segment,
    buses: desc.buses,
    memory: opts.memory,
    ids,
    ...(opts.diagnostics ? { diagnostics: opts.diagnostics } : {}),
  });
  const ports = new Map<string, PciePort>();
  const switches = new Map<string, PcieSwitch>();
  const devices = new Map<string, PcieDevice>();
  const factory = opts.endpoint ?? genericEndpoint;
  const add = (child: EndpointDesc | SwitchDesc, path: string): PcieDevice | PcieSwitch => {
    const built = buildChild(child, path, factory);
    if (built instanceof PcieSwitch) {
      switches.set(child.name, built);
      ports.set(built.upstream.name, built.upstream);
      (child as SwitchDesc).downstreamPorts.forEach((d, i) => {
        const dp = built.downstream[i]!;
        ports.set(d.name, dp);
        if (d.child) dp.plug(add(d.child, `${path}/${d.name}/${d.child.name}`), 'cold');
      });
    } else devices.set(child.name, built);
    return built;
  };
  for (const e of desc.endpoints) rc.addIntegratedDevice(add(e, e.name) as PcieDevice, e.device);
  for (const p of desc.ports) {
    const port = rc.addRootPort(p.name, p.device, { hotplug: p.hotplug });
    ports.set(p.name, port);
    if (p.child) port.plug(add(p.child, `${p.name}/${p.child.name}`), 'cold');
  }
  return { rc, ports, switches, devices };
}

/**
 * Builds what a described port child is: an endpoint device or a switch (its downstream ports
 * empty; callers plug their children). Use it to create devices for hot-plug.
 */
export function buildChild(child: EndpointDesc | SwitchDesc, path: string, factory: EndpointFactory = genericEndpoint): PcieDevice | PcieSwitch {
  if (child.kind === 'endpoint') {
    const fns = Array.from({ length: child.functions }, (_, i) => {
      const f = factory(child, i, path);
      return f instanceof EndpointFunction ? f : new EndpointFunction(child.functions > 1 ? `${child.name}.${i}` : child.name, f);
    });
    return new PcieDevice(child.name, fns);
  }
  const ports = child.downstreamPorts;
  return new PcieSwitch(child.name, { downstreamPorts: ports.length, hotplug: ports.map((p) => p.hotplug), portNames: ports.map((p) => p.name) });
}
