// Derives, from a platform description, every ID mapping of the platform (the one definition the
// firmware generators and the runtime routing share; see id-map.ts):
//   RC   -> SMMU  (requester ID -> stream ID),
//   RC   -> ITS   (requester ID -> ITS device ID; the DT msi-map and the runtime device ID),
//   RC   -> IORT  (what the IORT root-complex node maps: covered ranges to the SMMU, the rest to the
//                  ITS when there is one, nothing otherwise — never a node that does not exist),
//   SMMU -> ITS   (stream ID -> device ID, for MSIs that the SMMU translates and forwards),
//   SMMU own MSI  (IORT single mapping / DeviceID mapping index, only when the SMMU uses MSIs).
// IORT encodes counts as "number of IDs minus one" (DEN 0049 §3.4); the encoders do that, the
// counts here are plain counts.

import type { BusRange, PlatformDescription, RootComplexDesc, SmmuDesc } from './description.js';
import { mapId, type IdMapping } from '../pcie/id-map.js';
import { enumerateRootComplex } from './enumerate.js';
import { hex } from '../util/hex.js';

export interface RcIdMaps {
  readonly rootComplex: string;
  readonly segment: number;
  /** The SMMU covering this root complex, or null. */
  readonly smmu: string | null;
  /** RID -> stream ID (target: SMMU name). Bypass ranges and uncovered RCs have no entry. */
  readonly toSmmu: readonly IdMapping[];
  /** RID -> ITS device ID for every RID of the bus range (target: ITS name); empty unless msi = 'its'. */
  readonly toMsi: readonly IdMapping[];
  /** The IORT RC node's ID mappings, sorted by input base. */
  readonly iort: readonly IdMapping[];
}

export interface SmmuIdMaps {
  readonly smmu: string;
  /** Stream ID -> ITS device ID for every covered range (IORT SMMUv3 node ID mappings); empty unless msi = 'its'. */
  readonly toMsi: readonly IdMapping[];
  /**
   * The SMMU's own MSI device ID (IORT single mapping at the DeviceID mapping index), or null.
   * Present whenever an ITS exists and the SMMU either asks for MSIs or has an unwired GSIV: Linux
   * 6.1 (iort_get_id_mapping_index) honours the index unless all four GSIVs are wired, so the
   * index must then name a real single mapping (as the OpenVMM original does), or Linux would
   * skip the SMMU -> ITS range at index 0 (or log FW_BUG for an index past the end).
   */
  readonly ownMsi: { readonly target: string; readonly deviceId: number } | null;
}

export interface IdMaps {
  /** In description order. */
  readonly rootComplexes: readonly RcIdMaps[];
  /** In description order. */
  readonly smmus: readonly SmmuIdMaps[];
}

/** The SMMU whose `rootComplexes` list names `rc`, or null. */
export function smmuForRootComplex(desc: PlatformDescription, rc: string): SmmuDesc | null {
  return desc.smmus.find((s) => s.rootComplexes.includes(rc)) ?? null;
}

/** True when the SMMU signals its own interrupts by MSI: it asks for it and the MSI controller is an ITS. */
export function smmuUsesMsi(desc: PlatformDescription, smmu: SmmuDesc): boolean {
  return smmu.msi && desc.gic.msi === 'its' && desc.gic.its !== null;
}

/** True when all four SMMU interrupts are wired GSIVs (IORT then ignores the DeviceID mapping index). */
export function allGsivsWired(smmu: SmmuDesc): boolean {
  const i = smmu.interrupts;
  return i.eventq !== null && i.priq !== null && i.cmdqSync !== null && i.gerror !== null;
}

/** The bus sub-ranges of `rc.buses` that are translated by the SMMU (bus range minus bypass ranges). */
export function coveredBusRanges(rc: RootComplexDesc): BusRange[] {
  const out: BusRange[] = [];
  let start = -1;
  for (let b = rc.buses.start; b <= rc.buses.end; b++) {
    const bypass = rc.iommuBypass.some((r) => b >= r.start && b <= r.end);
    if (!bypass && start < 0) start = b;
    if (bypass && start >= 0) {
      out.push({ start, end: b - 1 });
      start = -1;
    }
  }
  if (start >= 0) out.push({ start, end: rc.buses.end });
  return out;
}

/** Complement of `covered` within `all` (both inclusive bus ranges, `covered` sorted). */
function gaps(all: BusRange, covered: readonly BusRange[]): BusRange[] {
  const out: BusRange[] = [];
  let next = all.start;
  for (const c of covered) {
    if (c.start > next) out.push({ start: next, end: c.start - 1 });
    next = c.end + 1;
  }
  if (next <= all.end) out.push({ start: next, end: all.end });
  return out;
}

const ridOf = (bus: number): number => bus << 8;
const ridCount = (r: BusRange): number => (r.end - r.start + 1) << 8;

export function deriveIdMaps(desc: PlatformDescription): IdMaps {
  const its = desc.gic.msi === 'its' ? desc.gic.its : null;
  const smmuToMsi = new Map<string, IdMapping[]>(desc.smmus.map((s) => [s.name, []]));
  const rootComplexes: RcIdMaps[] = [];

  for (const rc of desc.rootComplexes) {
    const smmu = smmuForRootComplex(desc, rc.name);
    const covered = smmu ? coveredBusRanges(rc) : [];
    const toSmmu: IdMapping[] = covered.map((r) => ({
      inputBase: ridOf(r.start),
      count: ridCount(r),
      outputBase: rc.streamIdBase + ridOf(r.start),
      target: (smmu as SmmuDesc).name,
    }));
    const toMsi: IdMapping[] = its
      ? [{ inputBase: ridOf(rc.buses.start), count: ridCount(rc.buses), outputBase: rc.deviceIdBase + ridOf(rc.buses.start), target: its.name }]
      : [];
    const direct: IdMapping[] = its
      ? gaps(rc.buses, covered).map((r) => ({
          inputBase: ridOf(r.start),
          count: ridCount(r),
          outputBase: rc.deviceIdBase + ridOf(r.start),
          target: its.name,
        }))
      : [];
    const iort = [...toSmmu, ...direct].sort((a, b) => a.inputBase - b.inputBase);
    if (smmu && its) {
      const list = smmuToMsi.get(smmu.name) as IdMapping[];
      for (const r of covered) {
        list.push({ inputBase: rc.streamIdBase + ridOf(r.start), count: ridCount(r), outputBase: rc.deviceIdBase + ridOf(r.start), target: its.name });
      }
    }
    rootComplexes.push({ rootComplex: rc.name, segment: rc.segment, smmu: smmu?.name ?? null, toSmmu, toMsi, iort });
  }

  const smmus: SmmuIdMaps[] = desc.smmus.map((s) => ({
    smmu: s.name,
    toMsi: (smmuToMsi.get(s.name) as IdMapping[]).sort((a, b) => a.inputBase - b.inputBase),
    ownMsi: its && (smmuUsesMsi(desc, s) || !allGsivsWired(s)) ? { target: its.name, deviceId: s.msiDeviceId } : null,
  }));
  return { rootComplexes, smmus };
}

/** Where one requester ID of a root complex ends up. */
export interface RidRoute {
  readonly rid: number;
  /** SMMU translating it, and its stream ID; null when it bypasses or there is no SMMU. */
  readonly smmu: string | null;
  readonly streamId: number | null;
  /** MSI controller target name and ITS device ID; deviceId null for v2m / none. */
  readonly msiController: string | null;
  readonly deviceId: number | null;
}

/** Routes one RID through the derived maps (the same lookups the runtime performs). */
export function routeRid(desc: PlatformDescription, maps: IdMaps, rcName: string, rid: number): RidRoute {
  const rc = maps.rootComplexes.find((r) => r.rootComplex === rcName);
  if (!rc) throw new RangeError(`unknown root complex ${rcName}`);
  const s = mapId(rc.toSmmu, rid);
  const m = mapId(rc.toMsi, rid);
  const v2m = desc.gic.msi === 'v2m' ? (desc.gic.v2m?.name ?? null) : null;
  return {
    rid,
    smmu: s?.target ?? null,
    streamId: s?.id ?? null,
    msiController: m?.target ?? v2m,
    deviceId: m?.id ?? null,
  };
}

/** One function's identities, as written to ids.json (hex strings, 0x-prefixed lower case). */
export interface IdsReportFunction {
  readonly rootComplex: string;
  readonly segment: number;
  readonly bdf: string;
  readonly rid: string;
  readonly name: string;
  readonly path: string;
  readonly kind: string;
  /** SMMU translating the function's DMA and MSIs, or null (no SMMU / bypass range). */
  readonly smmu: string | null;
  readonly streamId: string | null;
  /** MSI controller receiving its MSIs (ITS or v2m name), or null. */
  readonly msiController: string | null;
  /** ITS device ID, or null (v2m / none). */
  readonly deviceId: string | null;
}

export interface IdsReport {
  readonly msiController: 'its' | 'v2m' | 'none';
  readonly functions: readonly IdsReportFunction[];
  readonly rootComplexes: readonly {
    readonly name: string;
    readonly segment: number;
    readonly smmu: string | null;
    readonly toSmmu: readonly HexMapping[];
    readonly toMsi: readonly HexMapping[];
    readonly iort: readonly HexMapping[];
  }[];
  readonly smmus: readonly { readonly name: string; readonly toMsi: readonly HexMapping[]; readonly ownMsiDeviceId: string | null }[];
}

export interface HexMapping {
  readonly inputBase: string;
  readonly count: string;
  readonly outputBase: string;
  readonly target: string;
}

const hx = (v: number): string => hex(v);
const hexMaps = (m: readonly IdMapping[]): HexMapping[] => m.map((x) => ({ inputBase: hx(x.inputBase), count: hx(x.count), outputBase: hx(x.outputBase), target: x.target }));

/** The ids.json document: every described function's RID -> stream ID -> device ID, and the maps. */
export function idsReport(desc: PlatformDescription, maps: IdMaps = deriveIdMaps(desc)): IdsReport {
  const functions: IdsReportFunction[] = [];
  for (const rc of desc.rootComplexes) {
    for (const f of enumerateRootComplex(rc).functions) {
      const r = routeRid(desc, maps, rc.name, f.rid);
      functions.push({
        rootComplex: rc.name,
        segment: rc.segment,
        bdf: f.bdf,
        rid: hx(f.rid),
        name: f.name,
        path: f.path,
        kind: f.kind,
        smmu: r.smmu,
        streamId: r.streamId === null ? null : hx(r.streamId),
        msiController: r.msiController,
        deviceId: r.deviceId === null ? null : hx(r.deviceId),
      });
    }
  }
  return {
    msiController: desc.gic.msi,
    functions,
    rootComplexes: maps.rootComplexes.map((m) => ({ name: m.rootComplex, segment: m.segment, smmu: m.smmu, toSmmu: hexMaps(m.toSmmu), toMsi: hexMaps(m.toMsi), iort: hexMaps(m.iort) })),
    smmus: maps.smmus.map((s) => ({ name: s.smmu, toMsi: hexMaps(s.toMsi), ownMsiDeviceId: s.ownMsi ? hx(s.ownMsi.deviceId) : null })),
  };
}
