// Multiple APIC Description Table (MADT, signature "APIC"), ACPI 6.5 §5.2.12: the GIC structures
// of Arm platforms (§5.2.12.14 GICC, .15 GICD, .16 GIC MSI frame, .17 GICR, .18 GIC ITS).
// Layout only.
import { reg32Field } from '../bits.js';
import { u16, u32, u64, u8 } from './layout.js';

export const MADT_SIGNATURE = 'APIC';
/** MADT revision 5 = ACPI 6.3 (80-byte GICC with the SPE overflow interrupt). */
export const MADT_REVISION = 5;

export const MADT_TABLE = Object.freeze({
  localInterruptControllerAddress: u32('Local Interrupt Controller Address', 36),
  flags: u32('Flags', 40),
});
export const MADT_TABLE_HEADER_SIZE = 44;

/** Every interrupt controller structure starts with type and length. */
export const MADT_ENTRY = Object.freeze({ type: u8('Type', 0), length: u8('Length', 1) });

export const MadtEntryType = Object.freeze({
  GICC: 0x0b,
  GICD: 0x0c,
  GIC_MSI_FRAME: 0x0d,
  GICR: 0x0e,
  GIC_ITS: 0x0f,
});
export const MADT_ENTRY_TYPE_NAMES: Readonly<Record<number, string>> = Object.freeze({
  0x00: 'Processor Local APIC',
  0x01: 'I/O APIC',
  0x0b: 'GICC',
  0x0c: 'GICD',
  0x0d: 'GIC MSI Frame',
  0x0e: 'GICR',
  0x0f: 'GIC ITS',
});

/** GIC CPU interface (GICC), 80 bytes (§5.2.12.14). */
export const MADT_GICC = Object.freeze({
  cpuInterfaceNumber: u32('CPU Interface Number', 4),
  acpiProcessorUid: u32('ACPI Processor UID', 8),
  flags: u32('Flags', 12),
  parkingVersion: u32('Parking Protocol Version', 16),
  performanceGsiv: u32('Performance Interrupt GSIV', 20),
  parkedAddress: u64('Parked Address', 24),
  physicalBase: u64('Physical Base Address', 32),
  gicv: u64('GICV', 40),
  gich: u64('GICH', 48),
  vgicMaintenanceInterrupt: u32('VGIC Maintenance interrupt', 56),
  gicrBase: u64('GICR Base Address', 60),
  mpidr: u64('MPIDR', 68),
  efficiencyClass: u8('Processor Power Efficiency Class', 76),
  reserved: u8('Reserved', 77),
  speOverflowInterrupt: u16('SPE overflow Interrupt', 78),
});
export const MADT_GICC_SIZE = 80;
export const MADT_GICC_FLAGS = Object.freeze({
  enabled: reg32Field('Enabled', 0, 0),
  performanceInterruptMode: reg32Field('Performance Interrupt Mode', 1, 1),
  vgicMaintenanceInterruptMode: reg32Field('VGIC Maintenance Interrupt Mode', 2, 2),
});

/** GIC distributor (GICD), 24 bytes (§5.2.12.15). */
export const MADT_GICD = Object.freeze({
  gicId: u32('GIC ID', 4),
  physicalBase: u64('Physical Base Address', 8),
  systemVectorBase: u32('System Vector Base', 16),
  gicVersion: u8('GIC version', 20),
});
export const MADT_GICD_SIZE = 24;

/** GIC MSI frame (GICv2m), 24 bytes (§5.2.12.16). */
export const MADT_GIC_MSI_FRAME = Object.freeze({
  frameId: u32('GIC MSI Frame ID', 4),
  physicalBase: u64('Physical Base Address', 8),
  flags: u32('Flags', 16),
  spiCount: u16('SPI Count', 20),
  spiBase: u16('SPI Base', 22),
});
export const MADT_GIC_MSI_FRAME_SIZE = 24;
/** Flags bit 0: SPI Count/Base Select (1 = use the SPI count and base given here, not the frame's MSI_TYPER). */
export const MADT_GIC_MSI_FRAME_FLAGS = Object.freeze({ spiSelect: reg32Field('SPI Count/Base Select', 0, 0) });

/** GIC redistributor discovery range (GICR), 16 bytes (§5.2.12.17). */
export const MADT_GICR = Object.freeze({
  discoveryRangeBase: u64('Discovery Range Base Address', 4),
  discoveryRangeLength: u32('Discovery Range Length', 12),
});
export const MADT_GICR_SIZE = 16;

/** GIC ITS, 20 bytes (§5.2.12.18). */
export const MADT_GIC_ITS = Object.freeze({
  translationId: u32('GIC ITS ID', 4),
  physicalBase: u64('Physical Base Address', 8),
  reserved: u32('Reserved', 16),
});
export const MADT_GIC_ITS_SIZE = 20;
