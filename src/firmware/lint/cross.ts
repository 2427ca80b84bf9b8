// Cross-checks between files of the same platform: IORT vs MADT (ITS identifiers) and IORT vs
// device tree (per requester ID: the SMMU and stream ID from iommu-map, the ITS DeviceID from
// msi-map / msi-parent, against what Linux resolves from the IORT root complex of the same PCI
// segment). Mismatches are reported as runs of consecutive RIDs.
import { hex } from '../../util/hex.js';
import type { IortNode, IortTable } from '../acpi/iort-types.js';
import { MSI_TYPES, SMMU_TYPES } from '../acpi/iort-resolve.js';
import { IortRangeResolver, type IortRangePiece } from '../acpi/iort-ranges.js';
import type { MadtTable } from '../acpi/madt.js';
import type { Fdt } from '../fdt/index.js';
import { dtHostBridges, dtMapTable, dtMapTableIndex, isItsNode, type DtHostBridge, type DtMapEntry } from './dt-maps.js';
import type { Finding } from './types.js';

export function crossIortMadt(iort: IortTable, madt: MadtTable, iortFile: string, madtFile: string): Finding[] {
  const out: Finding[] = [];
  const madtIds = new Set(madt.entries.flatMap((e) => (e.kind === 'gic-its' ? [e.translationId] : [])));
  for (const n of iort.nodes) {
    if (n.kind !== 'its-group') continue;
    for (const id of n.itsIds) {
      if (!madtIds.has(id)) {
        out.push({ rule: 'its-id-mismatch', severity: 'error', file: iortFile, at: hex(n.offset), message: `ITS group @${hex(n.offset)} names ITS ${id}, but ${madtFile} has no GIC ITS structure with that translation ID` });
      }
    }
  }
  return out;
}

const MAX_RUNS = 8;
const TWO32 = 0x1_0000_0000;
const mod32 = (v: number): number => ((v % TWO32) + TWO32) % TWO32;

/**
 * One component of where a requester ID goes (the SMMU and stream ID, or the ITS and DeviceID),
 * as pieces over RIDs: `tag` names the target (an SMMU base, -1 for an SMMU the file does not
 * describe, 1 for an ITS; null for none), the ID is `val + (rid - lo)` modulo 2^32 when `lin`,
 * else `val` for every RID of the piece.
 */
interface Piece {
  readonly lo: number;
  readonly hi: number;
  readonly tag: number | null;
  readonly lin: boolean;
  readonly val: number;
}

const idAt = (p: Piece, rid: number): number => (p.lin ? mod32(p.val + (rid - p.lo)) : p.val);

interface Sides {
  readonly smmu: Piece[];
  readonly dev: Piece[];
}

/** The pieces of a device-tree map over lo..hi; `pick` turns the matching entry into a tag, or null. */
function dtPieces(map: readonly DtMapEntry[] | null, mask: number, lo: number, hi: number, pick: (e: DtMapEntry) => number | null): Piece[] {
  if (!map) return [{ lo, hi, tag: null, lin: false, val: 0 }];
  const table = dtMapTable(map);
  const out: Piece[] = [];
  const piece = (a: number, b: number, masked: number): void => {
    const e = table.entries[dtMapTableIndex(table, masked)] ?? null;
    const tag = e ? pick(e) : null;
    out.push(tag === null || !e ? { lo: a, hi: b, tag: null, lin: false, val: 0 } : { lo: a, hi: b, tag, lin: true, val: mod32(masked - e.ridBase + e.outBase) });
  };
  if ((mask & 0xffff) === 0xffff) {
    // RIDs are 16-bit: the mask leaves them unchanged, so the table's intervals are RID pieces.
    for (let i = dtMapTableIndex(table, lo); i < table.starts.length && table.starts[i]! <= hi; i++) {
      const a = Math.max(lo, table.starts[i]!);
      const b = Math.min(hi, i + 1 < table.starts.length ? table.starts[i + 1]! - 1 : hi);
      piece(a, b, a);
    }
  } else {
    // A narrowing mask folds RIDs together: one piece per RID (at most 65,536, each a bisection).
    for (let rid = lo; rid <= hi; rid++) piece(rid, rid, (rid & mask) >>> 0);
  }
  return out;
}

function dtSides(b: DtHostBridge, lo: number, hi: number): Sides {
  const smmu = dtPieces(b.iommuMap, b.iommuMapMask, lo, hi, (e) => e.target?.base ?? -1);
  let dev: Piece[];
  if (b.msiMap) dev = dtPieces(b.msiMap, b.msiMapMask, lo, hi, (e) => (isItsNode(e.target) ? 1 : null));
  else if (isItsNode(b.msiParent)) dev = [{ lo, hi, tag: 1, lin: true, val: lo }]; // no msi-map: the DeviceID is the RID
  else dev = [{ lo, hi, tag: null, lin: false, val: 0 }];
  return { smmu, dev };
}

function iortSides(r: IortRangeResolver, rc: IortNode, lo: number, hi: number): Sides {
  const conv = (ps: IortRangePiece[], tag: (n: IortNode) => number): Piece[] =>
    ps.map((p) => (p.node === null ? { lo: p.lo, hi: p.hi, tag: null, lin: false, val: 0 } : { lo: p.lo, hi: p.hi, tag: tag(p.node), lin: p.linear, val: p.id }));
  return {
    smmu: conv(r.mapRange(rc, lo, hi, SMMU_TYPES), (n) => (n.kind === 'smmuv3' ? Number(n.baseAddress) : -1)),
    dev: conv(r.mapRange(rc, lo, hi, MSI_TYPES), () => 1),
  };
}

/** Where two pieces agree on a..b: everywhere, nowhere, or at one RID. */
function agreement(x: Piece, y: Piece, a: number, b: number): 'all' | 'none' | number {
  if (x.tag !== y.tag) return 'none';
  if (x.tag === null) return 'all';
  if (x.lin && y.lin) return mod32(x.val - x.lo - (y.val - y.lo)) === 0 ? 'all' : 'none';
  if (!x.lin && !y.lin) return x.val === y.val ? 'all' : 'none';
  const [l, c] = x.lin ? [x, y] : [y, x];
  const r = a + mod32(c.val - idAt(l, a)); // the one RID (within 2^32) where the linear one meets the constant
  return r <= b ? r : 'none';
}

const fmt = (smmu: Piece, dev: Piece, rid: number): string =>
  `${smmu.tag === null ? 'no SMMU' : `SMMU ${smmu.tag < 0 ? '?' : hex(smmu.tag)} SID ${hex(idAt(smmu, rid))}`}, ${dev.tag !== null ? `ITS DeviceID ${hex(idAt(dev, rid))}` : 'no ITS'}`;

/**
 * Walks lo..hi in the pieces of both sides (cut where any of the four piece lists is cut) and
 * calls `visit` for consecutive stretches whose RIDs all agree or all disagree, in order.
 */
function compareSides(d: Sides, i: Sides, lo: number, hi: number, visit: (a: number, b: number, same: boolean, at: { ds: Piece; dd: Piece; is: Piece; id: Piece }) => void): void {
  const lists = [d.smmu, d.dev, i.smmu, i.dev];
  const idx = [0, 0, 0, 0];
  for (let a = lo; a <= hi; ) {
    const cur = lists.map((l, k) => {
      while (l[idx[k]!]!.hi < a) idx[k]!++;
      return l[idx[k]!]!;
    });
    const b = Math.min(hi, ...cur.map((p) => p.hi));
    const [ds, dd, is, id] = cur as [Piece, Piece, Piece, Piece];
    const parts = [agreement(ds, is, a, b), agreement(dd, id, a, b)];
    let point: number | null = null;
    let none = false;
    for (const p of parts) {
      if (p === 'none') none = true;
      else if (p !== 'all') {
        if (point !== null && point !== p) none = true;
        point = p;
      }
    }
    const at = { ds, dd, is, id };
    if (none) visit(a, b, false, at);
    else if (point === null) visit(a, b, true, at);
    else {
      if (point > a) visit(a, point - 1, false, at);
      visit(point, point, true, at);
      if (point < b) visit(point + 1, b, false, at);
    }
    a = b + 1;
  }
}

/** Work done by a cross-check, for tests that bound it by counting. */
export interface LintWork {
  steps: number;
}

export function crossDtIort(fdt: Fdt, iort: IortTable, dtbFile: string, iortFile: string, work: LintWork = { steps: 0 }): Finding[] {
  const out: Finding[] = [];
  const bridges = dtHostBridges(fdt, work);
  const rcs = iort.nodes.filter((n) => n.kind === 'root-complex');
  const resolver = new IortRangeResolver(iort);
  for (const b of bridges) {
    for (const p of b.problems) out.push({ rule: 'dt-map', severity: 'error', file: dtbFile, at: b.path, message: p });
  }
  bridges.forEach((b, i) => {
    const seg = b.segment ?? (bridges.length === 1 ? 0 : i);
    const rc = rcs.find((n) => n.kind === 'root-complex' && n.segment === seg);
    if (!rc) {
      out.push({ rule: 'dt-iort-mismatch', severity: 'error', file: iortFile, at: null, message: `${dtbFile} has PCI host bridge ${b.path} (segment ${seg}) but the IORT has no root complex node for segment ${seg}` });
      return;
    }
    let runs = 0;
    let runStart = -1;
    let runDt = '';
    let runIort = '';
    const flush = (end: number): void => {
      if (runStart < 0) return;
      if (runs++ < MAX_RUNS) {
        out.push({
          rule: 'dt-iort-mismatch',
          severity: 'error',
          file: iortFile,
          at: hex(rc.offset),
          message: `segment ${seg} RIDs ${hex(runStart)}..${hex(end)}: device tree ${b.path} gives ${runDt} but the IORT gives ${runIort} (first RID of the run)`,
        });
      }
      runStart = -1;
    };
    const lo = b.busStart << 8;
    const hi = (b.busEnd << 8) | 0xff;
    const dt = dtSides(b, lo, hi);
    const ir = iortSides(resolver, rc, lo, hi);
    work.steps += dt.smmu.length + dt.dev.length + ir.smmu.length + ir.dev.length;
    compareSides(dt, ir, lo, hi, (a, _b, same, p) => {
      work.steps++;
      if (same) flush(a - 1);
      else if (runStart < 0) {
        runStart = a;
        runDt = fmt(p.ds, p.dd, a);
        runIort = fmt(p.is, p.id, a);
      }
    });
    flush(hi);
    if (runs > MAX_RUNS) out.push({ rule: 'dt-iort-mismatch', severity: 'error', file: iortFile, at: hex(rc.offset), message: `segment ${seg}: ${runs - MAX_RUNS} more mismatching RID runs not shown` });
  });
  work.steps += resolver.work;
  for (const rc of rcs) {
    if (rc.kind !== 'root-complex') continue;
    const matched = bridges.some((b, i) => (b.segment ?? (bridges.length === 1 ? 0 : i)) === rc.segment);
    if (!matched) out.push({ rule: 'dt-iort-mismatch', severity: 'error', file: iortFile, at: hex(rc.offset), message: `IORT root complex for segment ${rc.segment} has no PCI host bridge in ${dtbFile}` });
  }
  return out;
}
