// A snapshot of a root complex's topology as a tree, with every function's current identity
// (RID, stream ID, DeviceID), for reports (`vsmmu run`), tools and tests. Host-side; allocates.
import { PciePort } from './port.js';
import type { PciBus } from './bus.js';
import type { RootComplex } from './root-complex.js';
import type { FunctionIdentity } from './types.js';

export type TopologyNodeKind = 'root-port' | 'switch-upstream' | 'switch-downstream' | 'endpoint';

export interface TopologyNode extends FunctionIdentity {
  readonly kind: TopologyNodeKind;
  /** Ports: whether something occupies the slot (downstream-facing ports only). */
  readonly occupied: boolean | null;
  /** Functions on the port's secondary bus. */
  readonly children: readonly TopologyNode[];
}

export interface TopologyTree {
  readonly rootComplex: string;
  readonly segment: number;
  readonly buses: { readonly start: number; readonly end: number };
  readonly functions: readonly TopologyNode[];
}

function nodesOf(bus: PciBus): TopologyNode[] {
  const out: TopologyNode[] = [];
  for (const f of bus.slots) {
    if (f === null) continue;
    if (f instanceof PciePort) {
      const kind: TopologyNodeKind = f.kind === 'root' ? 'root-port' : f.kind === 'upstream' ? 'switch-upstream' : 'switch-downstream';
      out.push({ ...f.identity(), kind, occupied: f.hasSlot ? f.child !== null : null, children: nodesOf(f.secondary) });
    } else {
      out.push({ ...f.identity(), kind: 'endpoint', occupied: null, children: [] });
    }
  }
  return out;
}

export function topologyTree(rc: RootComplex): TopologyTree {
  return { rootComplex: rc.name, segment: rc.segment, buses: { start: rc.busStart, end: rc.busEnd }, functions: nodesOf(rc.rootBus) };
}

/** Text rendering, one function per line, indented by depth. */
export function formatTopology(t: TopologyTree): string[] {
  const hexId = (v: number | null): string => (v === null ? '-' : `0x${v.toString(16)}`);
  const lines = [`${t.rootComplex} (segment ${t.segment}, buses ${t.buses.start}-${t.buses.end})`];
  const walk = (nodes: readonly TopologyNode[], depth: number): void => {
    for (const n of nodes) {
      const where = n.bdf ?? 'unassigned';
      const ids = `rid ${hexId(n.rid)} sid ${n.smmu ? `${n.smmu}:${hexId(n.streamId)}` : '-'} devid ${hexId(n.deviceId)}`;
      const slot = n.occupied === null ? '' : n.occupied ? '' : ' [empty slot]';
      lines.push(`${'  '.repeat(depth + 1)}${where} ${n.name} (${n.kind}) ${ids}${slot}`);
      walk(n.children, depth + 1);
    }
  };
  walk(t.functions, 0);
  return lines;
}
