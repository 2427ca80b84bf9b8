// Builds the MADT of a platform description (ACPI 6.5 §5.2.12): one GICC per CPU, the GICD, GICR
// ranges (GICv3), the GIC ITS (when the MSI controller is the ITS) or the GIC MSI frame (v2m).
import { ppiIntid, type PlatformDescription } from '../../platform/description.js';
import { encodeMadt, type MadtEntrySpec } from './madt.js';
import type { OemInfo } from './sdt.js';

/**
 * MPIDR of CPU `i` as QEMU's virt machine assigns it: Aff0 = i mod cluster size, Aff1 = i div
 * cluster size; clusters of 16 CPUs with GICv3, 8 with GICv2.
 */
export function cpuMpidr(i: number, gicVersion: 2 | 3): number {
  const cluster = gicVersion === 3 ? 16 : 8;
  return (Math.floor(i / cluster) << 8) | (i % cluster);
}

export interface BuildMadtOptions {
  readonly oem?: Partial<OemInfo>;
}

/** The MADT entries of a platform (what `buildMadt` encodes). */
export function madtEntriesFor(desc: PlatformDescription): MadtEntrySpec[] {
  const g = desc.gic;
  const out: MadtEntrySpec[] = [];
  for (let i = 0; i < desc.cpus.count; i++) {
    out.push({
      kind: 'gicc',
      cpuInterfaceNumber: i,
      acpiProcessorUid: i,
      enabled: true,
      performanceGsiv: 0,
      physicalBase: g.version === 2 && g.cpuInterface ? g.cpuInterface.base : 0,
      gicv: 0,
      gich: 0,
      vgicMaintenanceInterrupt: ppiIntid(g.maintenance),
      gicrBase: 0,
      mpidr: cpuMpidr(i, g.version),
    });
  }
  out.push({ kind: 'gicd', gicId: 0, physicalBase: g.distributor.base, gicVersion: g.version });
  if (g.version === 3) for (const r of g.redistributors) out.push({ kind: 'gicr', base: r.base, rangeLength: r.size });
  if (g.msi === 'its' && g.its) out.push({ kind: 'gic-its', translationId: g.its.id, physicalBase: g.its.base });
  if (g.msi === 'v2m' && g.v2m) {
    // MADT SPI Base is an INTID (QEMU: SPI 48 -> 80); the description holds SPI numbers.
    out.push({ kind: 'gic-msi-frame', frameId: g.v2m.id, physicalBase: g.v2m.base, spiSelect: true, spiCount: g.v2m.spiCount, spiBase: g.v2m.spiBase + 32 });
  }
  return out;
}

/** The MADT (table bytes, checksum set) of a platform description. */
export function buildMadt(desc: PlatformDescription, opts: BuildMadtOptions = {}): Uint8Array {
  return encodeMadt(madtEntriesFor(desc), opts.oem ?? {});
}
