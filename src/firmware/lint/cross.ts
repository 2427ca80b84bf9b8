// Cross-checks between files of the same platform: IORT vs MADT (ITS identifiers) and IORT vs
// device tree (per requester ID: the SMMU and stream ID from iommu-map, the ITS DeviceID from
// msi-map / msi-parent, against what Linux resolves from the IORT root complex of the same PCI
// segment). Mismatches are reported as runs of consecutive RIDs.
import { hex } from '../../util/hex.js';
import type { IortNode, IortTable } from '../acpi/iort-types.js';
import { nodeByOffset, routeIortRid } from '../acpi/iort-resolve.js';
import type { MadtTable } from '../acpi/madt.js';
import type { Fdt } from '../fdt/index.js';
import { dtHostBridges, dtMapRid, isItsNode, type DtHostBridge } from './dt-maps.js';
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

interface Side {
  readonly smmu: number | null;
  readonly sid: number | null;
  readonly its: boolean;
  readonly devid: number | null;
}

function dtSide(b: DtHostBridge, rid: number): Side {
  const s = b.iommuMap ? dtMapRid(b.iommuMap, b.iommuMapMask, rid) : null;
  let its = false;
  let devid: number | null = null;
  if (b.msiMap) {
    const m = dtMapRid(b.msiMap, b.msiMapMask, rid);
    if (m && isItsNode(m.target)) {
      its = true;
      devid = m.id;
    }
  } else if (isItsNode(b.msiParent)) {
    its = true;
    devid = rid; // no msi-map: the DeviceID is the RID
  }
  return { smmu: s?.target?.base ?? (s ? -1 : null), sid: s?.id ?? null, its, devid };
}

function iortSide(t: IortTable, rc: IortNode, rid: number, nodes: Map<number, IortNode>): Side {
  const r = routeIortRid(t, rc, rid, nodes);
  const smmu = r.smmu && r.smmu.kind === 'smmuv3' ? Number(r.smmu.baseAddress) : r.smmu ? -1 : null;
  return { smmu, sid: r.streamId, its: r.its !== null, devid: r.deviceId };
}

const fmt = (s: Side): string =>
  `${s.smmu === null ? 'no SMMU' : `SMMU ${s.smmu < 0 ? '?' : hex(s.smmu)} SID ${hex(s.sid ?? 0)}`}, ${s.its ? `ITS DeviceID ${hex(s.devid ?? 0)}` : 'no ITS'}`;

export function crossDtIort(fdt: Fdt, iort: IortTable, dtbFile: string, iortFile: string): Finding[] {
  const out: Finding[] = [];
  const bridges = dtHostBridges(fdt);
  const rcs = iort.nodes.filter((n) => n.kind === 'root-complex');
  const nodes = nodeByOffset(iort);
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
    for (let rid = lo; rid <= hi; rid++) {
      const d = dtSide(b, rid);
      const a = iortSide(iort, rc, rid, nodes);
      const same = d.smmu === a.smmu && d.sid === a.sid && d.its === a.its && d.devid === a.devid;
      if (same) flush(rid - 1);
      else if (runStart < 0) {
        runStart = rid;
        runDt = fmt(d);
        runIort = fmt(a);
      }
    }
    flush(hi);
    if (runs > MAX_RUNS) out.push({ rule: 'dt-iort-mismatch', severity: 'error', file: iortFile, at: hex(rc.offset), message: `segment ${seg}: ${runs - MAX_RUNS} more mismatching RID runs not shown` });
  });
  for (const rc of rcs) {
    if (rc.kind !== 'root-complex') continue;
    const matched = bridges.some((b, i) => (b.segment ?? (bridges.length === 1 ? 0 : i)) === rc.segment);
    if (!matched) out.push({ rule: 'dt-iort-mismatch', severity: 'error', file: iortFile, at: hex(rc.offset), message: `IORT root complex for segment ${rc.segment} has no PCI host bridge in ${dtbFile}` });
  }
  return out;
}
