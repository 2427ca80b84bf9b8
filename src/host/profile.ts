// Boot profiles: what `vsmmu boot --profile NAME` changes in the hosted machine. A profile supplies
// the SMMU's feature set (hence its ID registers), extra kernel arguments, how the SMMU signals its
// own interrupts, the IOMMU group type the guest must report, and the checks that show the guest
// really took the path the profile is about. The table is the one place profiles are defined.
import { get32 } from '../spec/bits.js';
import { QUEUE_BASE, STRTAB_BASE_CFG } from '../spec/smmuv3/registers.js';
import { DEFAULT_FEATURES, type SmmuFeatures } from '../smmu/features.js';
import type { SmmuV3 } from '../smmu/device/smmu-v3.js';
import { UserInputError } from '../util/errors.js';
import { hex } from '../util/hex.js';

/** What a profile's checks look at after the run. */
export interface ProfileCheckInput {
  readonly smmu: SmmuV3;
  readonly console: string;
  /** STE configuration ('s1', 's2', 'bypass', 'abort', 'nested', 'invalid') of each device's stream at the end of the run. */
  readonly streamConfigs: ReadonlyMap<number, string>;
}

export interface ProfileCheck {
  readonly name: string;
  readonly pass: boolean;
  /** Why it failed (or what was seen). */
  readonly detail: string;
}

export interface BootProfile {
  readonly name: string;
  /** One line for `--help` and the report. */
  readonly summary: string;
  readonly features: SmmuFeatures;
  /** Appended to the kernel command line. */
  readonly kernelArgs: readonly string[];
  /** The SMMU's event/gerror interrupts: wired SPIs, or MSIs through QEMU's ITS (needs IDR0.MSI). */
  readonly smmuIrqs: 'wired' | 'msi';
  /** IOMMU group types (sysfs `type`) the devices may have under this profile. */
  readonly groupTypes: readonly string[];
  /** Checks specific to the profile. */
  readonly checks: (r: ProfileCheckInput) => ProfileCheck[];
}

/**
 * The hosted machine's SMMU: the default feature set without IDR0.SEV (a CMD_SYNC wake-up event
 * cannot reach QEMU's CPU from this process, so it is not advertised).
 */
export const HOSTED_FEATURES: SmmuFeatures = Object.freeze({ ...DEFAULT_FEATURES, sev: false });

/** The smallest command queue Linux accepts (more than 64 entries) and a small event queue. */
const SMALL_CMDQ_LOG2 = 7;
const SMALL_EVENTQ_LOG2 = 3;

const none = (): ProfileCheck[] => [];

function allStreams(r: ProfileCheckInput, want: string, name: string): ProfileCheck {
  const seen = [...r.streamConfigs].map(([sid, c]) => `stream ${sid}: ${c}`);
  const pass = r.streamConfigs.size > 0 && [...r.streamConfigs.values()].every((c) => c === want);
  return { name, pass, detail: seen.length > 0 ? seen.join(', ') : 'no device streams' };
}

function syncCompletion(r: ProfileCheckInput, byMsi: boolean): ProfileCheck {
  const { syncs } = r.smmu.cmdq.stats;
  const irq = r.smmu.irq.counts.cmdqSync;
  const pass = syncs > 0 && (byMsi ? irq === syncs : irq === 0);
  return { name: byMsi ? 'cmd-sync-by-msi' : 'cmd-sync-by-polling', pass, detail: `${syncs} CMD_SYNCs, ${irq} with CS=IRQ` };
}

function smmuIrqRegs(r: ProfileCheckInput, msi: boolean): ProfileCheck {
  const ev = r.smmu.register('EVENTQ_IRQ_CFG0');
  const ge = r.smmu.register('GERROR_IRQ_CFG0');
  const pass = msi ? ev !== 0n && ge !== 0n : ev === 0n && ge === 0n;
  return { name: msi ? 'smmu-irqs-msi' : 'smmu-irqs-wired', pass, detail: `EVENTQ_IRQ_CFG0 ${hex(ev)}, GERROR_IRQ_CFG0 ${hex(ge)}` };
}

const profiles: readonly BootProfile[] = [
  {
    name: 'default',
    summary: 'the default feature set: 2-level stream table, stage 1 and 2, MSI-polled CMD_SYNC, wired SMMU interrupts',
    features: HOSTED_FEATURES,
    kernelArgs: [],
    smmuIrqs: 'wired',
    groupTypes: ['DMA', 'DMA-FQ'],
    checks: none,
  },
  {
    name: 'linear',
    summary: 'linear stream table only (IDR0.ST_LEVEL = 0), 8-bit stream IDs',
    // IDR1.SIDSIZE 8: a linear table is aligned to its own size (§6.3.24), and a 4 MiB table for
    // 16-bit stream IDs is more than a guest's coherent DMA allocation is guaranteed to align to.
    features: { ...HOSTED_FEATURES, stLevel2: false, sidBits: 8 },
    kernelArgs: [],
    smmuIrqs: 'wired',
    groupTypes: ['DMA', 'DMA-FQ'],
    checks: (r) => {
      const cfg = r.smmu.regs.get('STRTAB_BASE_CFG');
      const fmt = get32(cfg, STRTAB_BASE_CFG.FMT);
      return [{ name: 'stream-table-linear', pass: fmt === 0, detail: `STRTAB_BASE_CFG ${hex(cfg)} (FMT ${fmt})` }];
    },
  },
  {
    name: 'stage2',
    summary: 'stage 2 only (IDR0.S1P = 0): the guest builds stage-2 domains, the stage-2 walker serves DMA',
    features: { ...HOSTED_FEATURES, s1p: false, cd2l: false },
    kernelArgs: [],
    smmuIrqs: 'wired',
    groupTypes: ['DMA', 'DMA-FQ'],
    checks: (r) => [allStreams(r, 's2', 'stage2-streams')],
  },
  {
    name: 'sync-msi',
    summary: 'CMD_SYNC completion by MSI write into the command queue (IDR0.MSI = 1, coherent)',
    features: HOSTED_FEATURES,
    kernelArgs: [],
    smmuIrqs: 'wired',
    groupTypes: ['DMA', 'DMA-FQ'],
    checks: (r) => [syncCompletion(r, true)],
  },
  {
    name: 'sync-poll',
    summary: 'CMD_SYNC completion by polling CMDQ_CONS (IDR0.MSI = 0)',
    features: { ...HOSTED_FEATURES, msi: false },
    kernelArgs: [],
    smmuIrqs: 'wired',
    groupTypes: ['DMA', 'DMA-FQ'],
    checks: (r) => [syncCompletion(r, false)],
  },
  {
    name: 'wired',
    summary: "the SMMU's event and global-error interrupts as wired SPIs",
    features: HOSTED_FEATURES,
    kernelArgs: [],
    smmuIrqs: 'wired',
    groupTypes: ['DMA', 'DMA-FQ'],
    checks: (r) => [smmuIrqRegs(r, false)],
  },
  {
    name: 'its-msi',
    summary: "the SMMU's event and global-error interrupts as MSIs through the ITS",
    features: HOSTED_FEATURES,
    kernelArgs: [],
    smmuIrqs: 'msi',
    groupTypes: ['DMA', 'DMA-FQ'],
    checks: (r) => [smmuIrqRegs(r, true)],
  },
  {
    name: 'small-queues',
    summary: `minimal queues (${2 ** SMALL_CMDQ_LOG2}-entry command queue, ${2 ** SMALL_EVENTQ_LOG2}-entry event queue), so they wrap`,
    features: { ...HOSTED_FEATURES, cmdqLog2: SMALL_CMDQ_LOG2, eventqLog2: SMALL_EVENTQ_LOG2 },
    kernelArgs: [],
    smmuIrqs: 'wired',
    groupTypes: ['DMA', 'DMA-FQ'],
    checks: (r) => {
      const log2 = get32(r.smmu.regs.get('CMDQ_BASE'), QUEUE_BASE.LOG2SIZE);
      const n = r.smmu.cmdq.stats.executed + r.smmu.cmdq.stats.errors;
      return [{ name: 'command-queue-wrapped', pass: log2 === SMALL_CMDQ_LOG2 && n > 2 ** log2, detail: `${n} commands through a ${2 ** log2}-entry queue` }];
    },
  },
  {
    name: 'strict',
    summary: 'strict invalidation (iommu.strict=1): every unmap is invalidated before it returns',
    features: HOSTED_FEATURES,
    kernelArgs: ['iommu.strict=1'],
    smmuIrqs: 'wired',
    groupTypes: ['DMA'],
    checks: none,
  },
  {
    name: 'lazy',
    summary: 'lazy invalidation (iommu.strict=0): unmaps are invalidated in batches (flush queue)',
    features: HOSTED_FEATURES,
    kernelArgs: ['iommu.strict=0'],
    smmuIrqs: 'wired',
    groupTypes: ['DMA-FQ'],
    checks: none,
  },
  {
    name: 'passthrough',
    summary: 'iommu.passthrough=1: identity domains, bypass STEs',
    features: HOSTED_FEATURES,
    kernelArgs: ['iommu.passthrough=1'],
    smmuIrqs: 'wired',
    groupTypes: ['identity'],
    checks: (r) => [allStreams(r, 'bypass', 'bypass-streams')],
  },
];

export const BOOT_PROFILES: Readonly<Record<string, BootProfile>> = Object.freeze(Object.fromEntries(profiles.map((p) => [p.name, p])));

export function bootProfile(name: string): BootProfile {
  const p = Object.prototype.hasOwnProperty.call(BOOT_PROFILES, name) ? BOOT_PROFILES[name] : undefined;
  if (!p) throw new UserInputError(`unknown profile '${name}' (known: ${Object.keys(BOOT_PROFILES).join(', ')})`, '--profile');
  return p;
}

/** `vsmmu boot --list-profiles`: one line per profile. */
export function listProfiles(): string {
  const w = Math.max(...profiles.map((p) => p.name.length));
  return profiles.map((p) => `${p.name.padEnd(w)}  ${p.summary}`).join('\n') + '\n';
}
