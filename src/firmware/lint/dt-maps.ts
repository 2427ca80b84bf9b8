// Reads PCI host bridges and their RID translations out of a device tree, with Linux 6.1's
// of_map_id semantics (Linux 6.1): the RID is masked with *-map-mask, a tuple
// <rid-base phandle out-base length> matches rid-base <= masked < rid-base + length (length is a
// COUNT, no minus one), first match wins; without msi-map the MSI parent's DeviceID is the RID.
import { intervalIndex } from '../../util/interval-index.js';
import { propCells, propStrings, walk, type Fdt, type FdtNode } from '../fdt/index.js';

export interface DtTarget {
  readonly path: string;
  readonly compatible: readonly string[];
  /** First `reg` address (assuming #address-cells = 2 as in our and QEMU's trees), or null. */
  readonly base: number | null;
}

export interface DtMapEntry {
  readonly ridBase: number;
  readonly phandle: number;
  readonly outBase: number;
  readonly length: number;
  readonly target: DtTarget | null;
}

export interface DtHostBridge {
  readonly path: string;
  readonly segment: number | null;
  readonly busStart: number;
  readonly busEnd: number;
  readonly iommuMap: readonly DtMapEntry[] | null;
  readonly iommuMapMask: number;
  readonly msiMap: readonly DtMapEntry[] | null;
  readonly msiMapMask: number;
  readonly msiParent: DtTarget | null;
  /** Problems with the properties (bad lengths, dangling phandles). */
  readonly problems: readonly string[];
}

function regBase(n: FdtNode): number | null {
  const reg = propCells(n, 'reg');
  if (!reg || reg.length < 2) return null;
  return reg[0]! * 0x1_0000_0000 + reg[1]!;
}

/** Every node with a phandle, indexed once per tree (the first node wins, as Linux's lookup does). */
function phandleIndex(all: readonly { path: string; node: FdtNode }[]): Map<number, DtTarget> {
  const index = new Map<number, DtTarget>();
  for (const { path, node } of all) {
    const ph = propCells(node, 'phandle')?.[0];
    if (ph === undefined || index.has(ph)) continue;
    index.set(ph, { path, compatible: propStrings(node, 'compatible') ?? [], base: regBase(node) });
  }
  return index;
}

function readMap(phandles: Map<number, DtTarget>, n: FdtNode, prop: string, problems: string[]): DtMapEntry[] | null {
  const raw = n.props.find((p) => p.name === prop)?.value;
  if (!raw) return null;
  if (raw.length % 16 !== 0) {
    problems.push(`${prop} is ${raw.length} bytes, not a multiple of 16 (Linux: "Bad ${prop} length")`);
    return [];
  }
  const c = propCells(n, prop) ?? [];
  const out: DtMapEntry[] = [];
  for (let i = 0; i + 3 < c.length; i += 4) {
    const e = { ridBase: c[i]!, phandle: c[i + 1]!, outBase: c[i + 2]!, length: c[i + 3]!, target: phandles.get(c[i + 1]!) ?? null };
    if (!e.target) problems.push(`${prop} entry ${i / 4} references phandle ${e.phandle}, which no node has`);
    out.push(e);
  }
  return out;
}

/** Every PCI host bridge of the tree; `work.steps` counts the nodes and map entries visited. */
export function dtHostBridges(fdt: Fdt, work: { steps: number } = { steps: 0 }): DtHostBridge[] {
  const out: DtHostBridge[] = [];
  const all = walk(fdt.root);
  work.steps += all.length;
  let phandles: Map<number, DtTarget> | null = null;
  for (const { path, node } of all) {
    const compat = propStrings(node, 'compatible') ?? [];
    if (!compat.includes('pci-host-ecam-generic') && !compat.includes('pci-host-cam-generic')) continue;
    const problems: string[] = [];
    const bus = propCells(node, 'bus-range');
    const seg = propCells(node, 'linux,pci-domain');
    const mp = propCells(node, 'msi-parent');
    const iommuMask = propCells(node, 'iommu-map-mask');
    const msiMask = propCells(node, 'msi-map-mask');
    if (phandles === null) {
      phandles = phandleIndex(all);
      work.steps += all.length;
    }
    const iommuMap = readMap(phandles, node, 'iommu-map', problems);
    const msiMap = readMap(phandles, node, 'msi-map', problems);
    work.steps += (iommuMap?.length ?? 0) + (msiMap?.length ?? 0);
    for (const [prop, m, mask] of [['iommu-map', iommuMap, iommuMask], ['msi-map', msiMap, msiMask]] as const) {
      const k = mask?.[0] ?? 0xffff_ffff;
      for (const e of m ?? []) if ((e.ridBase & ~k) >>> 0 !== 0) problems.push(`${prop} rid-base ${e.ridBase} has bits outside the mask (Linux: "Invalid ${prop} translation")`);
    }
    out.push({
      path,
      segment: seg?.[0] ?? null,
      busStart: Math.min(bus?.[0] ?? 0, 255),
      busEnd: Math.min(bus?.[1] ?? 255, 255),
      iommuMap,
      iommuMapMask: iommuMask?.[0] ?? 0xffff_ffff,
      msiMap,
      msiMapMask: msiMask?.[0] ?? 0xffff_ffff,
      msiParent: mp && mp.length > 0 ? (phandles.get(mp[0]!) ?? null) : null,
      problems,
    });
  }
  return out;
}

/** of_map_id: the first entry containing the masked RID, or null (no translation). */
export function dtMapRid(map: readonly DtMapEntry[], mask: number, rid: number): { target: DtTarget | null; id: number } | null {
  const masked = (rid & mask) >>> 0;
  for (const e of map) {
    if (masked < e.ridBase || masked - e.ridBase >= e.length) continue;
    return { target: e.target, id: (masked - e.ridBase + e.outBase) >>> 0 };
  }
  return null;
}

export const isItsNode = (t: DtTarget | null): boolean => !!t && t.compatible.includes('arm,gic-v3-its');

/**
 * A map resolved for lookups by bisection: elementary intervals of the masked-RID space, each
 * with the entry of_map_id picks there (the first entry, in property order, that contains it).
 * Built in O(n log n) for n entries by a sweep over the entry boundaries.
 */
export interface DtMapTable {
  /** Interval i covers starts[i] .. starts[i+1]-1 (the last one up to 2^32 - 1). */
  readonly starts: readonly number[];
  readonly entries: readonly (DtMapEntry | null)[];
}

export function dtMapTable(map: readonly DtMapEntry[]): DtMapTable {
  const bounds = new Set<number>([0]);
  for (const e of map) {
    if (e.length === 0) continue;
    bounds.add(e.ridBase);
    if (e.ridBase + e.length <= 0xffff_ffff) bounds.add(e.ridBase + e.length);
  }
  const starts = [...bounds].sort((a, b) => a - b);
  const byBase = map.map((e, i) => ({ e, i })).filter(({ e }) => e.length > 0).sort((a, b) => a.e.ridBase - b.e.ridBase);
  // Min-heap of active entries by property order; entries that ended are dropped lazily.
  const heap: { e: DtMapEntry; i: number }[] = [];
  const less = (a: number, b: number): boolean => heap[a]!.i < heap[b]!.i;
  const swap = (a: number, b: number): void => {
    const t = heap[a]!;
    heap[a] = heap[b]!;
    heap[b] = t;
  };
  const push = (x: { e: DtMapEntry; i: number }): void => {
    heap.push(x);
    for (let k = heap.length - 1; k > 0; ) {
      const p = (k - 1) >> 1;
      if (!less(k, p)) break;
      swap(k, p);
      k = p;
    }
  };
  const pop = (): void => {
    const last = heap.pop()!;
    if (heap.length === 0) return;
    heap[0] = last;
    for (let k = 0; ; ) {
      const l = 2 * k + 1;
      const r = l + 1;
      let m = k;
      if (l < heap.length && less(l, m)) m = l;
      if (r < heap.length && less(r, m)) m = r;
      if (m === k) break;
      swap(k, m);
      k = m;
    }
  };
  const entries: (DtMapEntry | null)[] = [];
  let next = 0;
  for (const s of starts) {
    while (next < byBase.length && byBase[next]!.e.ridBase <= s) push(byBase[next++]!);
    while (heap.length > 0 && heap[0]!.e.ridBase + heap[0]!.e.length <= s) pop();
    entries.push(heap.length > 0 ? heap[0]!.e : null);
  }
  return { starts, entries };
}

/** The interval of `t` containing `masked`. */
export function dtMapTableIndex(t: DtMapTable, masked: number): number {
  return intervalIndex(t.starts, masked);
}
