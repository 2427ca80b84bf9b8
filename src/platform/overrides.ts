// The original's platform flags applied to a description (OpenVMM):
//   --gic-msi auto|its|v2m   the MSI controller ('auto': ITS on GICv3, else v2m);
//   --smmu RC (repeatable)   exactly these root complexes get an SMMU instance, one each.
// Errors use the original's wording: "SMMU instance references unknown root complex",
// "duplicate SMMU instance for root complex", "ITS is incompatible with GICv2".

import { UserInputError } from '../util/errors.js';
import type { MsiChoice, PlatformDescription, SmmuDesc } from './description.js';
import { smmuForRootComplex } from './derive-ids.js';
import { checkDescription, formatPath, resolveMsi } from './schema.js';

export interface PlatformOverrides {
  readonly gicMsi?: MsiChoice | undefined;
  /** Root complex names, in flag order; when given (non-empty), replaces the SMMU set. */
  readonly smmu?: readonly string[] | undefined;
}

/** Places a new SMMU instance for a root complex no SMMU is described for (preset policy). */
export type SmmuAllocator = (desc: PlatformDescription, rootComplex: string, index: number) => SmmuDesc;

const MSI_CHOICES: readonly MsiChoice[] = ['auto', 'its', 'v2m', 'none'];

/** Parses a --gic-msi value. */
export function parseGicMsi(v: string): MsiChoice {
  if ((MSI_CHOICES as readonly string[]).includes(v)) return v as MsiChoice;
  throw new UserInputError(`unknown MSI controller '${v}' (expected auto, its, v2m or none)`, '--gic-msi');
}

/**
 * Applies the flags. SMMUs the description already has for a requested root complex are kept
 * (restricted to the requested root complexes); others come from `allocate`, or are an error
 * when there is no allocator (a config file must describe the SMMU's base and interrupts).
 */
export function applyOverrides(desc: PlatformDescription, o: PlatformOverrides, allocate?: SmmuAllocator): PlatformDescription {
  let d = desc;
  if (o.gicMsi !== undefined) {
    if (o.gicMsi === 'its' && d.gic.version === 2) throw new UserInputError('ITS is incompatible with GICv2', '--gic-msi its');
    const msi = resolveMsi(o.gicMsi, d.gic);
    if (msi === 'its' && !d.gic.its) throw new UserInputError('ITS requested but the platform has no ITS frame', `--gic-msi ${o.gicMsi}`);
    if (msi === 'v2m' && !d.gic.v2m) throw new UserInputError('v2m requested but the platform has no GICv2m frame', `--gic-msi ${o.gicMsi}`);
    d = { ...d, gic: { ...d.gic, msi, msiRequested: o.gicMsi } };
  }
  if (o.smmu && o.smmu.length > 0) {
    const known = new Set(d.rootComplexes.map((r) => r.name));
    const seen = new Set<string>();
    for (const rc of o.smmu) {
      if (!known.has(rc)) throw new UserInputError(`SMMU instance references unknown root complex '${rc}'`, `--smmu ${rc}`);
      if (seen.has(rc)) throw new UserInputError(`duplicate SMMU instance for root complex '${rc}'`, `--smmu ${rc}`);
      seen.add(rc);
    }
    const smmus: SmmuDesc[] = [];
    for (const rc of o.smmu) {
      const existing = smmuForRootComplex(d, rc);
      if (existing) {
        const kept = smmus.find((s) => s.name === existing.name);
        if (kept) (kept.rootComplexes as string[]).push(rc);
        else smmus.push({ ...existing, rootComplexes: [rc] });
      } else if (allocate) {
        smmus.push(allocate({ ...d, smmus }, rc, smmus.length));
      } else {
        throw new UserInputError(`no SMMU is described for root complex '${rc}' (describe its base and interrupts under smmus)`, `--smmu ${rc}`);
      }
    }
    d = { ...d, smmus };
  }
  const issues = checkDescription(d);
  const first = issues[0];
  if (first) throw new UserInputError(`${formatPath(first.path)}: ${first.message}`, 'platform after --gic-msi/--smmu');
  return d;
}
