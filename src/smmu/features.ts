/**
 * The SMMU's feature configuration: what the model implements and advertises. The ID registers
 * (IDR0-5, IIDR, AIDR) are derived from it by the device, and the translation engine honours
 * exactly what is advertised here (e.g. a granule not advertised in IDR5 is an illegal CD.TG0).
 */

import type { OasBits } from '../spec/smmuv3/idr.js';

export interface SmmuFeatures {
  /** IDR0.S1P / S2P: stage-1 and stage-2 translation; both set means nested is supported. */
  readonly s1p: boolean;
  readonly s2p: boolean;
  /** IDR0.ST_LEVEL = 1: 2-level stream tables. */
  readonly stLevel2: boolean;
  /** IDR0.CD2L: 2-level CD tables. */
  readonly cd2l: boolean;
  /** IDR0.TTENDIAN: 'mixed' (0), 'le' (2), 'be' (3). */
  readonly ttEndian: 'mixed' | 'le' | 'be';
  /** IDR0.HTTU: 0 none, 1 access flag, 2 access flag + dirty state. */
  readonly httu: 0 | 1 | 2;
  readonly asid16: boolean;
  readonly vmid16: boolean;
  /** IDR0.MSI: MSI interrupts and CMD_SYNC MSI completion. */
  readonly msi: boolean;
  readonly sev: boolean;
  readonly ats: boolean;
  readonly pri: boolean;
  readonly hyp: boolean;
  readonly btm: boolean;
  /** IDR0.COHACC: coherent access to tables and queues. */
  readonly coherent: boolean;
  /** IDR0.STALL_MODEL: 'stall' (0: stall and terminate), 'terminate' (1: no stall), 'force' (2: stall forced). */
  readonly stallModel: 'stall' | 'terminate' | 'force';
  /** IDR0.TERM_MODEL: 1 = terminated transactions always abort (CD.A must be 1 in SMMUv3.0 terms). */
  readonly termModel: boolean;
  /** IDR1.SIDSIZE: stream ID bits (0..32). */
  readonly sidBits: number;
  /** IDR1.SSIDSIZE: substream ID bits (0..20). */
  readonly ssidBits: number;
  /** IDR1.CMDQS / EVENTQS / PRIQS: log2 of the maximum queue sizes. */
  readonly cmdqLog2: number;
  readonly eventqLog2: number;
  readonly priqLog2: number;
  readonly attrTypesOvr: boolean;
  readonly attrPermsOvr: boolean;
  /** IDR3.RIL: range invalidation; IDR3.HAD: hierarchical attribute disable; IDR3.BBML. */
  readonly ril: boolean;
  readonly had: boolean;
  readonly bbml: 0 | 1 | 2;
  /**
   * IDR3.XNX: stage-2 XN[1:0] distinguishes privileged and unprivileged execution (Arm ARM
   * FEAT_XNX); without it only XN[1] (bit 54) is looked at.
   */
  readonly xnx: boolean;
  /** IDR5 granules. */
  readonly gran4k: boolean;
  readonly gran16k: boolean;
  readonly gran64k: boolean;
  /** IDR5.OAS as a bit count. */
  readonly oasBits: OasBits;
  /** IDR5.VAX = 1: 52-bit input addresses for stage 1 (64K granule / DS). */
  readonly vax: boolean;
  /** IDR5.STALL_MAX. */
  readonly stallMax: number;
  /** AIDR: architecture minor revision (0 = SMMUv3.0, 1 = v3.1, ...). */
  readonly archMinor: number;
  /** IIDR value. */
  readonly iidr: number;
}

/** Default profile: a Linux-friendly SMMUv3.x with everything Linux 6.1 can use. */
export const DEFAULT_FEATURES: SmmuFeatures = Object.freeze({
  s1p: true,
  s2p: true,
  stLevel2: true,
  cd2l: true,
  ttEndian: 'mixed',
  httu: 2,
  asid16: true,
  vmid16: true,
  msi: true,
  sev: true,
  ats: false,
  pri: false,
  hyp: false,
  btm: false,
  coherent: true,
  stallModel: 'terminate',
  termModel: true,
  sidBits: 16,
  ssidBits: 8,
  cmdqLog2: 8,
  eventqLog2: 8,
  priqLog2: 0,
  attrTypesOvr: true,
  attrPermsOvr: false,
  ril: true,
  had: true,
  bbml: 2,
  xnx: false,
  gran4k: true,
  gran16k: true,
  gran64k: true,
  oasBits: 48,
  vax: false,
  stallMax: 0,
  archMinor: 3,
  iidr: 0,
} satisfies SmmuFeatures);

/**
 * QEMU 7.2's `virt,iommu=smmuv3` SMMU: IDR0=0x0D40101A, IDR1=0x02730010, IDR3=0x00001404,
 * IDR5=0x00000074, AIDR=1, IIDR=0 (QEMU 7.2's values).
 */
export const QEMU_7_2_FEATURES: SmmuFeatures = Object.freeze({
  ...DEFAULT_FEATURES,
  s2p: false,
  cd2l: false,
  ttEndian: 'le',
  httu: 0,
  vmid16: false,
  msi: false,
  sev: false,
  stallModel: 'terminate',
  termModel: true,
  sidBits: 16,
  ssidBits: 0,
  cmdqLog2: 19,
  eventqLog2: 19,
  priqLog2: 0,
  attrTypesOvr: false,
  ril: true,
  had: true,
  bbml: 2,
  oasBits: 44,
  archMinor: 1,
  iidr: 0,
} satisfies SmmuFeatures);

/**
 * QEMU 10.0's `virt,iommu=smmuv3` SMMU (the board always builds it with both stages, i.e.
 * nested): IDR0=0x0D44101B, IDR1=0x02730010, IDR3=0x00001414, IDR5=0x00000074, AIDR=1, IIDR=0,
 * read from Debian's qemu-system-aarch64 10.0.13 by the interop tier. Against 7.2: stage 2
 * (S2P), 16-bit VMIDs and FEAT_XNX.
 */
export const QEMU_10_0_FEATURES: SmmuFeatures = Object.freeze({
  ...QEMU_7_2_FEATURES,
  s2p: true,
  vmid16: true,
  xnx: true,
} satisfies SmmuFeatures);

export const FEATURE_PROFILES: Readonly<Record<string, SmmuFeatures>> = Object.freeze({
  default: DEFAULT_FEATURES,
  'qemu-7.2': QEMU_7_2_FEATURES,
  'qemu-10.0': QEMU_10_0_FEATURES,
});
