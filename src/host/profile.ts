// Boot profiles: what `vsmmu boot --profile NAME` changes in the hosted machine. A profile supplies
// the SMMU's feature set (hence its ID registers), extra kernel arguments and how the SMMU signals
// its own interrupts. The table is the one place new profiles are added.
import { DEFAULT_FEATURES, type SmmuFeatures } from '../smmu/features.js';
import { UserInputError } from '../util/errors.js';

export interface BootProfile {
  readonly name: string;
  /** One line for `--help` and the report. */
  readonly summary: string;
  readonly features: SmmuFeatures;
  /** Appended to the kernel command line. */
  readonly kernelArgs: readonly string[];
  /** The SMMU's event/gerror interrupts: wired SPIs, or MSIs through QEMU's ITS (needs IDR0.MSI). */
  readonly smmuIrqs: 'wired' | 'msi';
}

/**
 * The hosted machine's SMMU: the default feature set without IDR0.SEV (a CMD_SYNC wake-up event
 * cannot reach QEMU's CPU from this process, so it is not advertised).
 */
export const HOSTED_FEATURES: SmmuFeatures = Object.freeze({ ...DEFAULT_FEATURES, sev: false });

export const BOOT_PROFILES: Readonly<Record<string, BootProfile>> = Object.freeze({
  default: { name: 'default', summary: 'the default feature set, wired SMMU interrupts, strict invalidation', features: HOSTED_FEATURES, kernelArgs: [], smmuIrqs: 'wired' },
});

export function bootProfile(name: string): BootProfile {
  const p = BOOT_PROFILES[name];
  if (!p) throw new UserInputError(`unknown profile '${name}' (known: ${Object.keys(BOOT_PROFILES).join(', ')})`, '--profile');
  return p;
}
