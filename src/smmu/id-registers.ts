// The SMMU's ID registers (IDR0-5, IIDR, AIDR; IHI 0070 §6.3.1-6.3.8) derived from its feature
// profile (features.ts), and the profile a set of ID register values advertises (for tools that
// only have register dumps). Field layouts and encodings are in src/spec/smmuv3/idr.ts.
import { encodeFields } from '../spec/bits.js';
import { AIDR, decodeIdr, IDR0, IDR1, IDR3, IDR5, OAS_ENCODINGS, oasEncoding, TTF_AARCH64 } from '../spec/smmuv3/idr.js';
import type { SmmuFeatures } from './features.js';

export interface IdRegisters {
  readonly idr0: number;
  readonly idr1: number;
  readonly idr2: number;
  readonly idr3: number;
  readonly idr4: number;
  readonly idr5: number;
  readonly iidr: number;
  readonly aidr: number;
}

function word(fields: Parameters<typeof encodeFields>[0], values: Parameters<typeof encodeFields>[1]): number {
  return Number(encodeFields(fields, values, 1)[0]!);
}

/** Derives every ID register from a feature profile. */
export function deriveIdRegisters(f: SmmuFeatures): IdRegisters {
  const idr0 = word(IDR0, {
    S2P: f.s2p,
    S1P: f.s1p,
    TTF: TTF_AARCH64,
    COHACC: f.coherent,
    BTM: f.btm,
    HTTU: f.httu,
    HYP: f.hyp,
    ATS: f.ats,
    ASID16: f.asid16,
    MSI: f.msi,
    SEV: f.sev,
    PRI: f.pri,
    VMID16: f.vmid16,
    CD2L: f.cd2l,
    TTENDIAN: f.ttEndian === 'mixed' ? 0 : f.ttEndian === 'le' ? 2 : 3,
    STALL_MODEL: f.stallModel === 'stall' ? 0 : f.stallModel === 'terminate' ? 1 : 2,
    TERM_MODEL: f.termModel,
    ST_LEVEL: f.stLevel2 ? 1 : 0,
  });
  const idr1 = word(IDR1, {
    SIDSIZE: f.sidBits,
    SSIDSIZE: f.ssidBits,
    PRIQS: f.pri ? f.priqLog2 : 0,
    EVENTQS: f.eventqLog2,
    CMDQS: f.cmdqLog2,
    ATTR_PERMS_OVR: f.attrPermsOvr,
    ATTR_TYPES_OVR: f.attrTypesOvr,
  });
  // PPS = 1: an overflow auto-response carries the request's PASID without checking STE.PPAR
  // (§6.3.4, §8.1) — what the PRI queue model does. RES0 without PRI or substreams.
  const idr3 = word(IDR3, { HAD: f.had, XNX: f.xnx, PPS: f.pri && f.ssidBits > 0, RIL: f.ril, BBML: f.bbml });
  const idr5 = word(IDR5, {
    OAS: oasEncoding(f.oasBits),
    GRAN4K: f.gran4k,
    GRAN16K: f.gran16k,
    GRAN64K: f.gran64k,
    VAX: f.vax ? 1 : 0,
    STALL_MAX: f.stallModel === 'terminate' ? 0 : f.stallMax,
  });
  const aidr = word(AIDR, { ARCH_MAJOR_REV: 0, ARCH_MINOR_REV: f.archMinor });
  return { idr0, idr1, idr2: 0, idr3, idr4: 0, idr5, iidr: f.iidr >>> 0, aidr };
}

/**
 * The feature profile an SMMU with these ID register values advertises (inverse of
 * {@link deriveIdRegisters}); registers left undefined keep `base`'s features. Used by tools that
 * only have register dumps (`vsmmu inspect`). Unknown encodings fall back to the nearest legal value.
 */
export function featuresFromIdRegisters(
  regs: Partial<Record<'idr0' | 'idr1' | 'idr3' | 'idr5' | 'iidr' | 'aidr', number>>,
  base: SmmuFeatures,
): SmmuFeatures {
  const f: { -readonly [K in keyof SmmuFeatures]: SmmuFeatures[K] } = { ...base };
  if (regs.idr0 !== undefined) {
    const d = decodeIdr(IDR0, regs.idr0);
    f.s2p = d.S2P === 1;
    f.s1p = d.S1P === 1;
    f.coherent = d.COHACC === 1;
    f.btm = d.BTM === 1;
    f.httu = (Math.min(d.HTTU!, 2) as 0 | 1 | 2);
    f.hyp = d.HYP === 1;
    f.ats = d.ATS === 1;
    f.asid16 = d.ASID16 === 1;
    f.msi = d.MSI === 1;
    f.sev = d.SEV === 1;
    f.pri = d.PRI === 1;
    f.vmid16 = d.VMID16 === 1;
    f.cd2l = d.CD2L === 1;
    f.ttEndian = d.TTENDIAN === 2 ? 'le' : d.TTENDIAN === 3 ? 'be' : 'mixed';
    f.stallModel = d.STALL_MODEL === 0 ? 'stall' : d.STALL_MODEL === 2 ? 'force' : 'terminate';
    f.termModel = d.TERM_MODEL === 1;
    f.stLevel2 = d.ST_LEVEL === 1;
  }
  if (regs.idr1 !== undefined) {
    const d = decodeIdr(IDR1, regs.idr1);
    f.sidBits = Math.min(d.SIDSIZE!, 32);
    f.ssidBits = Math.min(d.SSIDSIZE!, 20);
    f.priqLog2 = Math.min(d.PRIQS!, 19);
    f.eventqLog2 = Math.min(d.EVENTQS!, 19);
    f.cmdqLog2 = Math.min(d.CMDQS!, 19);
    f.attrPermsOvr = d.ATTR_PERMS_OVR === 1;
    f.attrTypesOvr = d.ATTR_TYPES_OVR === 1;
  }
  if (regs.idr3 !== undefined) {
    const d = decodeIdr(IDR3, regs.idr3);
    f.had = d.HAD === 1;
    f.xnx = d.XNX === 1;
    f.ril = d.RIL === 1;
    f.bbml = (Math.min(d.BBML!, 2) as 0 | 1 | 2);
  }
  if (regs.idr5 !== undefined) {
    const d = decodeIdr(IDR5, regs.idr5);
    f.oasBits = OAS_ENCODINGS[Math.min(d.OAS!, 6)]!;
    f.gran4k = d.GRAN4K === 1;
    f.gran16k = d.GRAN16K === 1;
    f.gran64k = d.GRAN64K === 1;
    f.vax = d.VAX === 1;
    f.stallMax = d.STALL_MAX!;
  }
  if (regs.iidr !== undefined) f.iidr = regs.iidr >>> 0;
  if (regs.aidr !== undefined) f.archMinor = decodeIdr(AIDR, regs.aidr).ARCH_MINOR_REV!;
  return f;
}
