// IORT lint rules (DEN 0049 plus Linux 6.1's parsing rules). Works on a
// decoded table; never throws on any decodable input. Per-node work is O(n log n) in the
// mappings; RID sampling is bounded by the mappings too.
import { IortNodeType, IORT_NODE_TYPE_NAMES, IORT_SMMU_V3_FLAGS } from '../../spec/acpi/iort.js';
import { hex } from '../../util/hex.js';
import { bits } from '../acpi/bytes.js';
import type { IortIdMap, IortNode, IortTable } from '../acpi/iort-types.js';
import { linuxIdMappingIndex, MSI_TYPES, nodeByOffset } from '../acpi/iort-resolve.js';
import { IortRangeResolver } from '../acpi/iort-ranges.js';
import type { Finding, LintRule, Severity } from './types.js';

/** What a node of each type may map to. */
const ALLOWED_TARGETS: Readonly<Record<number, readonly number[]>> = {
  [IortNodeType.NAMED_COMPONENT]: [IortNodeType.SMMU_V1_V2, IortNodeType.SMMU_V3, IortNodeType.ITS_GROUP],
  [IortNodeType.ROOT_COMPLEX]: [IortNodeType.SMMU_V1_V2, IortNodeType.SMMU_V3, IortNodeType.ITS_GROUP],
  [IortNodeType.SMMU_V1_V2]: [IortNodeType.ITS_GROUP],
  [IortNodeType.SMMU_V3]: [IortNodeType.ITS_GROUP],
  [IortNodeType.PMCG]: [IortNodeType.ITS_GROUP],
  [IortNodeType.RMR]: [IortNodeType.SMMU_V1_V2, IortNodeType.SMMU_V3],
  [IortNodeType.ITS_GROUP]: [],
};

const MAX_PER_NODE = 16;
const name = (n: IortNode): string => `${IORT_NODE_TYPE_NAMES[n.type] ?? `type ${n.type}`} node @${hex(n.offset)}`;
const range = (m: IortIdMap): string => `${hex(m.inputBase)}..${hex(m.inputBase + m.idCount)}`;

export function lintIort(t: IortTable, file: string, opts: { madtHasMsiController?: boolean } = {}): Finding[] {
  const out: Finding[] = [];
  const add = (rule: LintRule, severity: Severity, at: number | null, message: string): void => {
    out.push({ rule, severity, file, at: at === null ? null : hex(at), message });
  };
  for (const i of t.issues) add(i.kind, 'error', i.offset, i.message);
  const nodes = nodeByOffset(t);

  for (const n of t.nodes) {
    const idx = linuxIdMappingIndex(n);
    // ---- targets
    const allowed = ALLOWED_TARGETS[n.type];
    if (n.type === IortNodeType.ITS_GROUP && n.mappingCount > 0) add('mapping-target', 'error', n.offset + 8, `${name(n)} has ${n.mappingCount} ID mappings; an ITS group maps nothing`);
    n.mappings.slice(0, 4 * MAX_PER_NODE).forEach((m, i) => {
      const tgt = nodes.get(m.outputReference);
      if (m.outputReference === 0) add('mapping-target', 'error', m.offset + 12, `${name(n)} mapping ${i} has a NULL output reference (Linux: "ID map has NULL parent reference")`);
      else if (!tgt) add('mapping-target', 'error', m.offset + 12, `${name(n)} mapping ${i} references ${hex(m.outputReference)}, which is not the start of any node`);
      else if (allowed && !allowed.includes(tgt.type)) add('mapping-target', 'error', m.offset + 12, `${name(n)} mapping ${i} targets a ${IORT_NODE_TYPE_NAMES[tgt.type] ?? tgt.type} node @${hex(tgt.offset)}, which this node type cannot map to`);
      // ---- single mappings
      // The SMMUv3 DeviceID entry must be single; when Linux ignores the index, smmu-msi-mapping says so.
      const ownMsiEntry = n.kind === 'smmuv3' && i === n.deviceIdMappingIndex;
      // PMCG: its MSI DeviceID mapping is a single mapping too (iort_node_get_id).
      const singleOk = n.type === IortNodeType.NAMED_COMPONENT || n.type === IortNodeType.ROOT_COMPLEX || n.type === IortNodeType.PMCG || ownMsiEntry;
      if (m.single && !singleOk) {
        add('single-mapping', 'error', m.offset + 16, `${name(n)} mapping ${i} has the single-mapping flag, which Linux only allows for named components and root complexes (mapping skipped)`);
      }
    });

    // ---- overlaps, duplicates, off-by-one
    const ranged = n.mappings.map((m, i) => ({ m, i })).filter(({ m, i }) => !m.single && i !== idx);
    ranged.sort((a, b) => a.m.inputBase - b.m.inputBase || a.m.idCount - b.m.idCount);
    let prev: { m: IortIdMap; i: number } | null = null;
    let reported = 0;
    const offByOne = new Set<number>();
    for (const cur of ranged) {
      if (cur.m.idCount >= 0x100 && cur.m.idCount % 0x100 === 0 && reported < MAX_PER_NODE) {
        offByOne.add(cur.m.offset);
        reported++;
        add('id-count-off-by-one', 'warning', cur.m.offset + 4, `${name(n)} mapping ${cur.i}: ID count ${hex(cur.m.idCount)} means ${cur.m.idCount + 1} IDs (the field is number of IDs minus one); a whole number of buses would be ${hex(cur.m.idCount - 1)}`);
      }
      if (prev && cur.m.inputBase <= prev.m.inputBase + prev.m.idCount && reported < MAX_PER_NODE) {
        reported++;
        const prevEnd = prev.m.inputBase + prev.m.idCount;
        if (cur.m.inputBase === prev.m.inputBase && cur.m.idCount === prev.m.idCount) {
          add('mapping-duplicate', 'error', cur.m.offset, `${name(n)} mappings ${prev.i} and ${cur.i} both map ${range(cur.m)}`);
        } else if (cur.m.inputBase === prevEnd) {
          if (!offByOne.has(prev.m.offset)) {
            add('id-count-off-by-one', 'warning', prev.m.offset + 4, `${name(n)} mapping ${prev.i} (${range(prev.m)}) ends on the first ID of mapping ${cur.i} (${range(cur.m)}): ID count is probably the number of IDs, not minus one`);
          }
        } else {
          add('mapping-overlap', 'error', cur.m.offset, `${name(n)} mappings ${prev.i} (${range(prev.m)}) and ${cur.i} (${range(cur.m)}) overlap`);
        }
      }
      if (!prev || cur.m.inputBase + cur.m.idCount > prev.m.inputBase + prev.m.idCount) prev = cur;
    }

    // ---- SMMU own MSIs
    if (n.kind === 'smmuv3') {
      const wiredAll = n.eventGsiv !== 0 && n.priGsiv !== 0 && n.gerrGsiv !== 0 && n.syncGsiv !== 0;
      const needsMsi = n.eventGsiv === 0 || n.gerrGsiv === 0;
      const hasSingle = n.mappings.some((m) => m.single);
      if (wiredAll && (hasSingle || bits(n.flags, IORT_SMMU_V3_FLAGS.deviceIdValid))) {
        add('smmu-msi-mapping', 'warning', n.offset + 64, `${name(n)} wires all four interrupts (GSIVs ${n.eventGsiv}/${n.priGsiv}/${n.gerrGsiv}/${n.syncGsiv}), so its DeviceID mapping is ignored (Linux uses the wired interrupts)`);
      }
      if (needsMsi) {
        const missing = [n.eventGsiv === 0 ? 'eventq' : '', n.gerrGsiv === 0 ? 'gerror' : ''].filter(Boolean).join(' and ');
        let why: string | null = null;
        if (n.revision < 1) why = `node revision ${n.revision} has no DeviceID mapping index`;
        else if (n.deviceIdMappingIndex >= n.mappingCount) why = `DeviceID mapping index ${n.deviceIdMappingIndex} is beyond its ${n.mappingCount} mappings (Linux: "ID mapping index overflows valid mappings")`;
        else {
          const m = n.mappings[n.deviceIdMappingIndex];
          const tgt = m ? nodes.get(m.outputReference) : undefined;
          if (!m) why = `the mapping at index ${n.deviceIdMappingIndex} is missing`;
          else if (!m.single) why = `the mapping at index ${n.deviceIdMappingIndex} is not a single mapping`;
          else if (!tgt || tgt.type !== IortNodeType.ITS_GROUP) why = `the mapping at index ${n.deviceIdMappingIndex} does not point at an ITS group (Linux: "Invalid MSI mapping")`;
        }
        if (why) add('smmu-msi-mapping', 'error', n.offset + 44, `${name(n)} has no wired ${missing} interrupt (GSIV 0), so it needs MSIs, but ${why}`);
      }
    }
  }

  // ---- RMR nodes (DEN 0049 E.d §3.11; Linux iort_find_rmrs / iort_node_get_rmr_info)
  for (const n of t.nodes) {
    if (n.kind !== 'rmr') continue;
    if (t.header.revision < 5) add('rmr', 'error', n.offset, `${name(n)} in a revision ${t.header.revision} table: Linux only parses RMR nodes from revision 5 (E.d)`);
    if (n.mappingCount === 0) add('rmr', 'error', n.offset + 8, `${name(n)} has no ID mappings, so it applies to no stream`);
    n.mappings.forEach((m, i) => {
      if (m.idCount === 0) add('rmr', 'warning', m.offset + 4, `${name(n)} mapping ${i} has ID count 0 (one stream ID): Linux 6.1 skips RMR mappings with an ID count of 0`);
    });
    if (n.rangeCount === 0) add('rmr', 'error', n.offset + 20, `${name(n)} has no memory range descriptors`);
    n.ranges.forEach((r, i) => {
      if (r.base % 0x1_0000n !== 0n || r.length % 0x1_0000n !== 0n || r.length === 0n) {
        add('rmr', 'warning', n.offset + n.rangeOffset + 20 * i, `${name(n)} range ${i} (${hex(r.base)} + ${hex(r.length)}) is not 64 KiB aligned (Linux widens it)`);
      }
    });
  }

  // ---- root complexes must reach an MSI controller
  const hasIts = t.nodes.some((n) => n.type === IortNodeType.ITS_GROUP);
  for (const rc of t.nodes) {
    if (rc.kind !== 'root-complex') continue;
    if (reachesIts(t, rc, nodes)) continue;
    if (hasIts) add('rc-no-msi', 'error', rc.offset, `root complex (segment ${hex(rc.segment)}) @${hex(rc.offset)}: no requester ID reaches an ITS group, so its devices get no MSI domain`);
    else if (opts.madtHasMsiController === false) add('rc-no-msi', 'error', rc.offset, `root complex (segment ${hex(rc.segment)}) @${hex(rc.offset)}: no ITS group in the IORT and no GIC ITS or MSI frame in the MADT`);
  }
  return out;
}

/** True when some requester ID of `rc` reaches an ITS group (resolved by ranges, as a whole). */
function reachesIts(t: IortTable, rc: IortNode, nodes: Map<number, IortNode>): boolean {
  return new IortRangeResolver(t, nodes).mapRange(rc, 0, 0xffff_ffff, MSI_TYPES).some((p) => p.node !== null);
}
