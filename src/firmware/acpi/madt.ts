// MADT ("APIC") encoder and decoder for the GIC structures (ACPI 6.5 §5.2.12.14-18). The decoder
// is lenient like the IORT one: structural problems become issues; unknown entry types are kept
// raw; loops are bounded by the table size.
import {
  MADT_ENTRY,
  MADT_GICC,
  MADT_GICC_FLAGS,
  MADT_GICC_SIZE,
  MADT_GICD,
  MADT_GICD_SIZE,
  MADT_GICR,
  MADT_GICR_SIZE,
  MADT_GIC_ITS,
  MADT_GIC_ITS_SIZE,
  MADT_GIC_MSI_FRAME,
  MADT_GIC_MSI_FRAME_FLAGS,
  MADT_GIC_MSI_FRAME_SIZE,
  MADT_REVISION,
  MADT_SIGNATURE,
  MADT_TABLE,
  MADT_TABLE_HEADER_SIZE,
  MadtEntryType,
} from '../../spec/acpi/madt.js';
import { hex } from '../../util/hex.js';
import { bits, getU, getU64, putU, withBits } from './bytes.js';
import { checkTableFrame, finishTable, type AcpiHeader, type DecodeIssue, type OemInfo } from './sdt.js';

export interface MadtGicc {
  readonly kind: 'gicc';
  readonly cpuInterfaceNumber: number;
  readonly acpiProcessorUid: number;
  readonly enabled: boolean;
  readonly performanceGsiv: number;
  readonly physicalBase: bigint;
  readonly gicv: bigint;
  readonly gich: bigint;
  readonly vgicMaintenanceInterrupt: number;
  readonly gicrBase: bigint;
  readonly mpidr: bigint;
}
export interface MadtGicd {
  readonly kind: 'gicd';
  readonly gicId: number;
  readonly physicalBase: bigint;
  readonly gicVersion: number;
}
export interface MadtGicMsiFrame {
  readonly kind: 'gic-msi-frame';
  readonly frameId: number;
  readonly physicalBase: bigint;
  /** Flags bit 0: use spiCount/spiBase rather than the frame's MSI_TYPER. */
  readonly spiSelect: boolean;
  readonly spiCount: number;
  /** First INTID of the frame's SPI block. */
  readonly spiBase: number;
}
export interface MadtGicr {
  readonly kind: 'gicr';
  readonly base: bigint;
  readonly rangeLength: number;
}
export interface MadtGicIts {
  readonly kind: 'gic-its';
  readonly translationId: number;
  readonly physicalBase: bigint;
}
export interface MadtUnknown {
  readonly kind: 'unknown';
  readonly type: number;
}
export type MadtEntryBody = MadtGicc | MadtGicd | MadtGicMsiFrame | MadtGicr | MadtGicIts;
export type MadtEntry = (MadtEntryBody | MadtUnknown) & { readonly offset: number; readonly type: number; readonly length: number };

export interface MadtTable {
  readonly header: AcpiHeader;
  readonly localInterruptControllerAddress: number;
  readonly flags: number;
  readonly entries: readonly MadtEntry[];
  readonly issues: readonly DecodeIssue[];
}

/** Entry input for the encoder: a body without offset/type/length. 64-bit values as numbers (< 2^53). */
export type MadtEntrySpec =
  | (Omit<MadtGicc, 'physicalBase' | 'gicv' | 'gich' | 'gicrBase' | 'mpidr'> & { physicalBase: number; gicv: number; gich: number; gicrBase: number; mpidr: number })
  | (Omit<MadtGicd, 'physicalBase'> & { physicalBase: number })
  | (Omit<MadtGicMsiFrame, 'physicalBase'> & { physicalBase: number })
  | (Omit<MadtGicr, 'base'> & { base: number })
  | (Omit<MadtGicIts, 'physicalBase'> & { physicalBase: number });

const SIZES: Readonly<Record<MadtEntrySpec['kind'], [type: number, size: number]>> = {
  gicc: [MadtEntryType.GICC, MADT_GICC_SIZE],
  gicd: [MadtEntryType.GICD, MADT_GICD_SIZE],
  'gic-msi-frame': [MadtEntryType.GIC_MSI_FRAME, MADT_GIC_MSI_FRAME_SIZE],
  gicr: [MadtEntryType.GICR, MADT_GICR_SIZE],
  'gic-its': [MadtEntryType.GIC_ITS, MADT_GIC_ITS_SIZE],
};

/** Encodes a MADT with the given entries, in order. */
export function encodeMadt(entries: readonly MadtEntrySpec[], oem: Partial<OemInfo> = {}): Uint8Array {
  const total = MADT_TABLE_HEADER_SIZE + entries.reduce((s, e) => s + SIZES[e.kind][1], 0);
  const t = new Uint8Array(total);
  putU(t, 0, MADT_TABLE.localInterruptControllerAddress, 0);
  putU(t, 0, MADT_TABLE.flags, 0);
  let at = MADT_TABLE_HEADER_SIZE;
  for (const e of entries) {
    const [type, size] = SIZES[e.kind];
    putU(t, at, MADT_ENTRY.type, type);
    putU(t, at, MADT_ENTRY.length, size);
    switch (e.kind) {
      case 'gicc':
        putU(t, at, MADT_GICC.cpuInterfaceNumber, e.cpuInterfaceNumber);
        putU(t, at, MADT_GICC.acpiProcessorUid, e.acpiProcessorUid);
        putU(t, at, MADT_GICC.flags, withBits(0, MADT_GICC_FLAGS.enabled, e.enabled ? 1 : 0));
        putU(t, at, MADT_GICC.performanceGsiv, e.performanceGsiv);
        putU(t, at, MADT_GICC.physicalBase, e.physicalBase);
        putU(t, at, MADT_GICC.gicv, e.gicv);
        putU(t, at, MADT_GICC.gich, e.gich);
        putU(t, at, MADT_GICC.vgicMaintenanceInterrupt, e.vgicMaintenanceInterrupt);
        putU(t, at, MADT_GICC.gicrBase, e.gicrBase);
        putU(t, at, MADT_GICC.mpidr, e.mpidr);
        break;
      case 'gicd':
        putU(t, at, MADT_GICD.gicId, e.gicId);
        putU(t, at, MADT_GICD.physicalBase, e.physicalBase);
        putU(t, at, MADT_GICD.gicVersion, e.gicVersion);
        break;
      case 'gic-msi-frame':
        putU(t, at, MADT_GIC_MSI_FRAME.frameId, e.frameId);
        putU(t, at, MADT_GIC_MSI_FRAME.physicalBase, e.physicalBase);
        putU(t, at, MADT_GIC_MSI_FRAME.flags, withBits(0, MADT_GIC_MSI_FRAME_FLAGS.spiSelect, e.spiSelect ? 1 : 0));
        putU(t, at, MADT_GIC_MSI_FRAME.spiCount, e.spiCount);
        putU(t, at, MADT_GIC_MSI_FRAME.spiBase, e.spiBase);
        break;
      case 'gicr':
        putU(t, at, MADT_GICR.discoveryRangeBase, e.base);
        putU(t, at, MADT_GICR.discoveryRangeLength, e.rangeLength);
        break;
      case 'gic-its':
        putU(t, at, MADT_GIC_ITS.translationId, e.translationId);
        putU(t, at, MADT_GIC_ITS.physicalBase, e.physicalBase);
        break;
    }
    at += size;
  }
  return finishTable(t, MADT_SIGNATURE, MADT_REVISION, { oemTableId: 'VSMMUMDT', ...oem });
}

/** Decodes MADT bytes (e.g. /sys/firmware/acpi/tables/APIC). */
export function decodeMadt(bytes: Uint8Array): MadtTable {
  const { header, table: t, issues } = checkTableFrame(bytes, MADT_SIGNATURE, MADT_TABLE_HEADER_SIZE);
  const entries: MadtEntry[] = [];
  let at = MADT_TABLE_HEADER_SIZE;
  while (at + 2 <= t.length) {
    const type = getU(t, at, MADT_ENTRY.type);
    const length = getU(t, at, MADT_ENTRY.length);
    if (length < 2) {
      issues.push({ kind: 'length', offset: at + 1, message: `MADT entry at ${hex(at)} (type ${hex(type)}) has length ${length}; stopping` });
      break;
    }
    if (at + length > t.length) {
      issues.push({ kind: 'length', offset: at + 1, message: `MADT entry at ${hex(at)} (type ${hex(type)}, length ${length}) runs past the end of the table` });
      break;
    }
    const known = Object.values(SIZES).find(([ty]) => ty === type);
    const pos = { offset: at, type, length };
    if (known && length < known[1]) {
      issues.push({ kind: 'length', offset: at + 1, message: `MADT entry at ${hex(at)} (type ${hex(type)}) has length ${length}, expected ${known[1]}` });
      entries.push({ ...pos, kind: 'unknown' });
    } else {
      entries.push({ ...pos, ...decodeEntry(t, at, type) });
    }
    at += length;
  }
  if (at < t.length) issues.push({ kind: 'length', offset: at, message: `${t.length - at} stray byte(s) after the last MADT entry` });
  return {
    header,
    localInterruptControllerAddress: getU(t, 0, MADT_TABLE.localInterruptControllerAddress),
    flags: getU(t, 0, MADT_TABLE.flags),
    entries,
    issues,
  };
}

function decodeEntry(t: Uint8Array, at: number, type: number): MadtEntryBody | MadtUnknown {
  switch (type) {
    case MadtEntryType.GICC:
      return {
        kind: 'gicc',
        cpuInterfaceNumber: getU(t, at, MADT_GICC.cpuInterfaceNumber),
        acpiProcessorUid: getU(t, at, MADT_GICC.acpiProcessorUid),
        enabled: bits(getU(t, at, MADT_GICC.flags), MADT_GICC_FLAGS.enabled) === 1,
        performanceGsiv: getU(t, at, MADT_GICC.performanceGsiv),
        physicalBase: getU64(t, at, MADT_GICC.physicalBase),
        gicv: getU64(t, at, MADT_GICC.gicv),
        gich: getU64(t, at, MADT_GICC.gich),
        vgicMaintenanceInterrupt: getU(t, at, MADT_GICC.vgicMaintenanceInterrupt),
        gicrBase: getU64(t, at, MADT_GICC.gicrBase),
        mpidr: getU64(t, at, MADT_GICC.mpidr),
      };
    case MadtEntryType.GICD:
      return { kind: 'gicd', gicId: getU(t, at, MADT_GICD.gicId), physicalBase: getU64(t, at, MADT_GICD.physicalBase), gicVersion: getU(t, at, MADT_GICD.gicVersion) };
    case MadtEntryType.GIC_MSI_FRAME:
      return {
        kind: 'gic-msi-frame',
        frameId: getU(t, at, MADT_GIC_MSI_FRAME.frameId),
        physicalBase: getU64(t, at, MADT_GIC_MSI_FRAME.physicalBase),
        spiSelect: bits(getU(t, at, MADT_GIC_MSI_FRAME.flags), MADT_GIC_MSI_FRAME_FLAGS.spiSelect) === 1,
        spiCount: getU(t, at, MADT_GIC_MSI_FRAME.spiCount),
        spiBase: getU(t, at, MADT_GIC_MSI_FRAME.spiBase),
      };
    case MadtEntryType.GICR:
      return { kind: 'gicr', base: getU64(t, at, MADT_GICR.discoveryRangeBase), rangeLength: getU(t, at, MADT_GICR.discoveryRangeLength) };
    case MadtEntryType.GIC_ITS:
      return { kind: 'gic-its', translationId: getU(t, at, MADT_GIC_ITS.translationId), physicalBase: getU64(t, at, MADT_GIC_ITS.physicalBase) };
    default:
      return { kind: 'unknown', type };
  }
}
