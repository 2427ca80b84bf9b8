// Static bus numbering of a root complex's described topology, the way firmware and Linux
// (pci_scan_bridge) number buses: depth-first, devices on a bus in ascending device number, each
// bridge's secondary bus = next free bus, subordinate = last bus assigned below it. Gives every
// function its bus/device/function and requester ID (PCIe Base spec, Type 1 header bus numbers).
//
// Layout rules (the original's, OpenVMM): a root port sits at devfn = device << 3 on
// the root bus; an endpoint behind a port is device 0 on the port's secondary bus; a switch's
// upstream port is device 0 on the parent port's secondary bus and its downstream ports are
// functions 0..n-1 of device 0 on the switch's internal bus. An empty slot still gets a secondary
// bus and no extra hotplug reservation: with nothing numbered by firmware (a direct kernel boot),
// Linux 6.1's pci_scan_child_bus_extend() starts the root bus with 0 available buses and the
// default pci=hpbussize=1 reserves none either.

import type { EndpointDesc, PortDesc, RootComplexDesc, SwitchDesc } from './description.js';
import { formatBdf, rid } from '../pcie/id-map.js';

export type FunctionKind = 'root-port' | 'switch-upstream' | 'switch-downstream' | 'endpoint';

export interface EnumeratedFunction {
  /** Name of the described element (endpoint, port or switch). */
  readonly name: string;
  /** Slash-separated names from the root bus down, e.g. "rp0/sw0/dp1/nvme". */
  readonly path: string;
  readonly kind: FunctionKind;
  readonly bus: number;
  readonly device: number;
  readonly function: number;
  /** Requester ID: bus << 8 | device << 3 | function. */
  readonly rid: number;
  /** "ssss:bb:dd.f" */
  readonly bdf: string;
  /** Bridges only: secondary and subordinate bus numbers. */
  readonly secondary: number | null;
  readonly subordinate: number | null;
}

export interface EnumeratedRootComplex {
  readonly rootComplex: string;
  readonly segment: number;
  /** Functions in scan order. */
  readonly functions: readonly EnumeratedFunction[];
  /** Highest bus number used (the root bus when nothing is below it). May exceed buses.end: the
   * schema check reports that. */
  readonly lastBus: number;
}

export function enumerateRootComplex(rc: RootComplexDesc): EnumeratedRootComplex {
  const out: EnumeratedFunction[] = [];
  let next = rc.buses.start + 1;
  // Bus numbers are capped to 8 bits in RIDs; a topology running past 255 is reported via lastBus.
  const fn = (name: string, path: string, kind: FunctionKind, bus: number, device: number, f: number, sec: number | null = null, sub: number | null = null): EnumeratedFunction => {
    const r = rid(bus, device, f);
    const e: EnumeratedFunction = { name, path, kind, bus, device, function: f, rid: r, bdf: formatBdf(r, rc.segment), secondary: sec, subordinate: sub };
    out.push(e);
    return e;
  };
  const patch = (e: EnumeratedFunction, sub: number): void => {
    (e as { subordinate: number | null }).subordinate = sub;
  };

  const endpoint = (e: EndpointDesc, bus: number, device: number, parent: string): void => {
    for (let f = 0; f < e.functions; f++) fn(e.name, parent + e.name, 'endpoint', bus, device, f);
  };
  const port = (p: PortDesc, kind: FunctionKind, bus: number, device: number, f: number, parent: string): void => {
    const sec = next++;
    const path = parent + p.name;
    const e = fn(p.name, path, kind, bus, device, f, sec, sec);
    if (p.child?.kind === 'endpoint') endpoint(p.child, sec, 0, path + '/');
    else if (p.child?.kind === 'switch') sw(p.child, sec, path + '/');
    patch(e, next - 1);
  };
  const sw = (s: SwitchDesc, bus: number, parent: string): void => {
    const internal = next++;
    const path = parent + s.name;
    const up = fn(s.name, path, 'switch-upstream', bus, 0, 0, internal, internal);
    s.downstreamPorts.forEach((d, i) => port(d, 'switch-downstream', internal, 0, i, path + '/'));
    patch(up, next - 1);
  };

  const root = rc.buses.start;
  const items: { device: number; run: () => void }[] = [
    ...rc.endpoints.map((e) => ({ device: e.device, run: () => endpoint(e, root, e.device, '') })),
    ...rc.ports.map((p) => ({ device: p.device, run: () => port(p, 'root-port', root, p.device, 0, '') })),
  ];
  items.sort((a, b) => a.device - b.device);
  for (const it of items) it.run();
  return { rootComplex: rc.name, segment: rc.segment, functions: out, lastBus: next - 1 };
}
