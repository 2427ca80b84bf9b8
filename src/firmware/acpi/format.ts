// Readable text and JSON views of decoded IORT and MADT tables (used by `vsmmu decode`).
// Hex everywhere for addresses, IDs and flags (0x, lower case); counts and revisions in decimal.
import { IORT_NODE_TYPE_NAMES, IORT_REVISION_ISSUE, IORT_SMMU_V3_FLAGS } from '../../spec/acpi/iort.js';
import { MADT_ENTRY_TYPE_NAMES } from '../../spec/acpi/madt.js';
import { hex } from '../../util/hex.js';
import { bits } from './bytes.js';
import type { IortIdMap, IortNode, IortTable } from './iort-types.js';
import { linuxIdMappingIndex, nodeByOffset } from './iort-resolve.js';
import type { MadtTable } from './madt.js';
import type { AcpiHeader, DecodeIssue } from './sdt.js';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function headerJson(h: AcpiHeader, issues: readonly DecodeIssue[]): Json {
  return {
    signature: h.signature,
    length: h.length,
    revision: h.revision,
    checksum: hex(h.checksum),
    checksumStatus: checksumStatus(issues),
    oemId: h.oemId,
    oemTableId: h.oemTableId,
    oemRevision: hex(h.oemRevision),
    creatorId: h.creatorId,
    creatorRevision: hex(h.creatorRevision),
  };
}

/** The checksum verdict: a truncated table cannot be verified (its bytes are not all there). */
function checksumStatus(issues: readonly DecodeIssue[]): 'ok' | 'bad' | 'unverified' {
  if (issues.some((i) => i.truncated === true)) return 'unverified';
  return issues.some((i) => i.kind === 'checksum') ? 'bad' : 'ok';
}

function checksumVerdict(issues: readonly DecodeIssue[]): string {
  const s = checksumStatus(issues);
  return s === 'unverified' ? 'not verified: table truncated' : s === 'bad' ? 'BAD' : 'ok';
}

function headerText(h: AcpiHeader, issues: readonly DecodeIssue[]): string {
  return (
    `${h.signature}  revision ${h.revision}  length ${h.length}  checksum ${hex(h.checksum, 2)} (${checksumVerdict(issues)})\n` +
    `  OEM ${JSON.stringify(h.oemId)} table ${JSON.stringify(h.oemTableId)} revision ${hex(h.oemRevision)}  creator ${JSON.stringify(h.creatorId)} revision ${hex(h.creatorRevision)}`
  );
}

function issuesText(issues: readonly DecodeIssue[]): string[] {
  return issues.map((i) => `  ! ${i.kind} @${hex(i.offset)}: ${i.message}`);
}

const typeName = (n: IortNode | undefined): string => (n ? (IORT_NODE_TYPE_NAMES[n.type] ?? `type ${n.type}`) : 'nothing');

function mappingJson(m: IortIdMap, nodes: Map<number, IortNode>): Json {
  const target = nodes.get(m.outputReference);
  return {
    offset: hex(m.offset),
    inputBase: hex(m.inputBase),
    idCount: hex(m.idCount),
    ids: m.idCount + 1,
    outputBase: hex(m.outputBase),
    outputReference: hex(m.outputReference),
    target: target ? typeName(target) : null,
    flags: hex(m.flags),
    single: m.single,
  };
}

function mappingText(m: IortIdMap, nodes: Map<number, IortNode>, note: string): string {
  const target = nodes.get(m.outputReference);
  const tgt = `${typeName(target)} @${hex(m.outputReference)}${target ? ` (id ${target.identifier})` : ''}`;
  if (m.single) return `    map single -> ${hex(m.outputBase)}  ${tgt}${note}`;
  const last = m.inputBase + m.idCount;
  return `    map ${hex(m.inputBase)}..${hex(last)} (${m.idCount + 1} IDs, id_count ${hex(m.idCount)}) -> ${hex(m.outputBase)}..${hex(m.outputBase + m.idCount)}  ${tgt}${note}`;
}

function nodeFields(n: IortNode): Record<string, Json> {
  switch (n.kind) {
    case 'its-group':
      return { itsIds: n.itsIds.map((i) => hex(i)) };
    case 'named-component':
      return {
        name: n.name,
        nodeFlags: hex(n.nodeFlags),
        cacheCoherency: n.memory.cacheCoherency,
        allocationHints: hex(n.memory.allocationHints),
        memoryAccessFlags: hex(n.memory.memoryAccessFlags),
        addressSizeLimit: n.addressSizeLimit,
      };
    case 'root-complex':
      return {
        segment: hex(n.segment),
        cacheCoherency: n.memory.cacheCoherency,
        allocationHints: hex(n.memory.allocationHints),
        memoryAccessFlags: hex(n.memory.memoryAccessFlags),
        atsAttribute: hex(n.atsAttribute),
        memoryAddressLimit: n.memoryAddressLimit,
        pasidCapabilities: n.pasidCapabilities === null ? null : hex(n.pasidCapabilities),
        flags: n.rcFlags === null ? null : hex(n.rcFlags),
      };
    case 'smmuv3':
      return {
        baseAddress: hex(n.baseAddress),
        flags: hex(n.flags),
        cohaccOverride: bits(n.flags, IORT_SMMU_V3_FLAGS.cohaccOverride) === 1,
        httuOverride: bits(n.flags, IORT_SMMU_V3_FLAGS.httuOverride),
        proximityDomainValid: bits(n.flags, IORT_SMMU_V3_FLAGS.proximityValid) === 1,
        vatosAddress: hex(n.vatosAddress),
        model: n.model,
        eventGsiv: n.eventGsiv,
        priGsiv: n.priGsiv,
        gerrGsiv: n.gerrGsiv,
        syncGsiv: n.syncGsiv,
        proximityDomain: n.proximityDomain,
        deviceIdMappingIndex: n.deviceIdMappingIndex,
        deviceIdMappingUsed: linuxIdMappingIndex(n) !== null,
      };
    case 'smmuv1v2':
      return { baseAddress: hex(n.baseAddress), span: hex(n.span), model: n.model, flags: hex(n.flags) };
    case 'pmcg':
      return { page0Base: hex(n.page0Base), overflowGsiv: n.overflowGsiv, nodeReference: hex(n.nodeReference), page1Base: hex(n.page1Base) };
    case 'rmr':
      return { flags: hex(n.flags), ranges: n.ranges.map((r) => ({ base: hex(r.base), length: hex(r.length) })) };
    case 'unknown':
      return {};
  }
}

export function iortToJson(t: IortTable): Json {
  const nodes = nodeByOffset(t);
  return {
    table: 'IORT',
    header: headerJson(t.header, t.issues),
    specIssue: IORT_REVISION_ISSUE[t.header.revision] ?? null,
    nodeCount: t.nodeCount,
    nodeOffset: hex(t.nodeOffset),
    nodes: t.nodes.map((n) => ({
      offset: hex(n.offset),
      type: n.type,
      typeName: typeName(n),
      revision: n.revision,
      length: n.length,
      identifier: hex(n.identifier),
      mappingCount: n.mappingCount,
      mappingOffset: hex(n.mappingOffset),
      ...nodeFields(n),
      mappings: n.mappings.map((m) => mappingJson(m, nodes)),
    })),
    issues: t.issues.map((i) => ({ kind: i.kind, offset: hex(i.offset), message: i.message })),
  };
}

export function iortToText(t: IortTable): string {
  const nodes = nodeByOffset(t);
  const issue = IORT_REVISION_ISSUE[t.header.revision];
  const out = [headerText(t.header, t.issues).replace(/^IORT {2}revision (\d+)/, `IORT  revision $1${issue ? ` (DEN 0049 ${issue})` : ''}`)];
  out.push(`  ${t.nodeCount} nodes at ${hex(t.nodeOffset)}`);
  for (const n of t.nodes) {
    out.push(`[${hex(n.offset)}] ${typeName(n)}  revision ${n.revision}  identifier ${hex(n.identifier)}  length ${n.length}  mappings ${n.mappingCount}${n.mappingCount ? ` at +${hex(n.mappingOffset)}` : ''}`);
    switch (n.kind) {
      case 'its-group':
        out.push(`    ITS identifiers: ${n.itsIds.map((i) => hex(i)).join(', ') || '(none)'}`);
        break;
      case 'named-component':
        out.push(`    name ${JSON.stringify(n.name)}  flags ${hex(n.nodeFlags)}  CCA ${n.memory.cacheCoherency}  hints ${hex(n.memory.allocationHints)}  memory flags ${hex(n.memory.memoryAccessFlags)}  address limit ${n.addressSizeLimit} bits`);
        break;
      case 'root-complex':
        out.push(
          `    segment ${hex(n.segment)}  CCA ${n.memory.cacheCoherency}  hints ${hex(n.memory.allocationHints)}  memory flags ${hex(n.memory.memoryAccessFlags)}  ATS ${hex(n.atsAttribute)}` +
            `${n.memoryAddressLimit !== null ? `  address limit ${n.memoryAddressLimit} bits` : ''}${n.pasidCapabilities !== null ? `  PASID caps ${hex(n.pasidCapabilities)}` : ''}${n.rcFlags !== null ? `  flags ${hex(n.rcFlags)}` : ''}`,
        );
        break;
      case 'smmuv3': {
        const fl: string[] = [];
        if (bits(n.flags, IORT_SMMU_V3_FLAGS.cohaccOverride)) fl.push('COHACC');
        const httu = bits(n.flags, IORT_SMMU_V3_FLAGS.httuOverride);
        if (httu) fl.push(`HTTU=${httu}`);
        if (bits(n.flags, IORT_SMMU_V3_FLAGS.proximityValid)) fl.push('PXM');
        if (bits(n.flags, IORT_SMMU_V3_FLAGS.deviceIdValid)) fl.push('DEVICEID_VALID');
        const used = linuxIdMappingIndex(n) !== null;
        out.push(`    base ${hex(n.baseAddress)}  flags ${hex(n.flags)}${fl.length ? ` (${fl.join(' ')})` : ''}  model ${n.model}  VATOS ${hex(n.vatosAddress)}`);
        out.push(
          `    GSIV event ${hex(n.eventGsiv)}  pri ${hex(n.priGsiv)}  gerr ${hex(n.gerrGsiv)}  sync ${hex(n.syncGsiv)}  proximity ${n.proximityDomain}  DeviceID mapping index ${n.deviceIdMappingIndex}${used ? '' : ' (not used)'}`,
        );
        break;
      }
      case 'smmuv1v2':
        out.push(`    base ${hex(n.baseAddress)}  span ${hex(n.span)}  model ${n.model}  flags ${hex(n.flags)}`);
        break;
      case 'pmcg':
        out.push(`    page 0 ${hex(n.page0Base)}  page 1 ${hex(n.page1Base)}  overflow GSIV ${hex(n.overflowGsiv)}  node ${hex(n.nodeReference)}`);
        break;
      case 'rmr':
        out.push(`    flags ${hex(n.flags)}  ${n.ranges.length} range(s): ${n.ranges.map((r) => `${hex(r.base)}+${hex(r.length)}`).join(', ')}`);
        break;
      case 'unknown':
        out.push('    (not decoded)');
        break;
    }
    const idx = linuxIdMappingIndex(n);
    n.mappings.forEach((m, i) => out.push(mappingText(m, nodes, i === idx ? '  [SMMU own MSI DeviceID]' : '')));
  }
  out.push(...issuesText(t.issues));
  return out.join('\n') + '\n';
}

function madtEntryFields(e: MadtTable['entries'][number]): Record<string, Json> {
  switch (e.kind) {
    case 'gicc':
      return {
        cpuInterfaceNumber: e.cpuInterfaceNumber,
        acpiProcessorUid: e.acpiProcessorUid,
        enabled: e.enabled,
        performanceGsiv: e.performanceGsiv,
        physicalBase: hex(e.physicalBase),
        gicv: hex(e.gicv),
        gich: hex(e.gich),
        vgicMaintenanceInterrupt: e.vgicMaintenanceInterrupt,
        gicrBase: hex(e.gicrBase),
        mpidr: hex(e.mpidr),
      };
    case 'gicd':
      return { gicId: e.gicId, physicalBase: hex(e.physicalBase), gicVersion: e.gicVersion };
    case 'gic-msi-frame':
      return { frameId: e.frameId, physicalBase: hex(e.physicalBase), spiSelect: e.spiSelect, spiCount: e.spiCount, spiBase: e.spiBase };
    case 'gicr':
      return { base: hex(e.base), rangeLength: hex(e.rangeLength) };
    case 'gic-its':
      return { translationId: e.translationId, physicalBase: hex(e.physicalBase) };
    case 'unknown':
      return {};
  }
}

export function madtToJson(t: MadtTable): Json {
  return {
    table: 'APIC',
    header: headerJson(t.header, t.issues),
    localInterruptControllerAddress: hex(t.localInterruptControllerAddress),
    flags: hex(t.flags),
    entries: t.entries.map((e) => ({ offset: hex(e.offset), type: hex(e.type), typeName: MADT_ENTRY_TYPE_NAMES[e.type] ?? 'unknown', length: e.length, ...madtEntryFields(e) })),
    issues: t.issues.map((i) => ({ kind: i.kind, offset: hex(i.offset), message: i.message })),
  };
}

export function madtToText(t: MadtTable): string {
  const out = [headerText(t.header, t.issues), `  local interrupt controller ${hex(t.localInterruptControllerAddress)}  flags ${hex(t.flags)}`];
  for (const e of t.entries) {
    const f = madtEntryFields(e);
    const body = Object.entries(f)
      .map(([k, v]) => `${k} ${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join('  ');
    out.push(`[${hex(e.offset)}] ${MADT_ENTRY_TYPE_NAMES[e.type] ?? `type ${hex(e.type)}`} (length ${e.length})${body ? '  ' + body : ''}`);
  }
  out.push(...issuesText(t.issues));
  return out.join('\n') + '\n';
}
