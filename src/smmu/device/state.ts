// Save/restore of an SMMUv3 device to a JSON-serialisable object (registers by their spec names as
// 0x-hex strings, pending stalls, stall event records waiting for a writable event queue). Caches are not saved: they are architecturally invisible
// after the restore because the device empties them (a restored guest sees a cold IOTLB only).
import { hex, parseIntLike } from '../../util/hex.js';
import { REGISTERS } from '../../spec/smmuv3/registers.js';
import type { SmmuV3 } from './smmu-v3.js';

export const SMMU_STATE_VERSION = 1;

export interface SmmuV3State {
  readonly version: number;
  readonly kind: 'smmuv3';
  /** Register name -> value (64-bit registers as one 64-bit value). ID registers are not saved. */
  readonly registers: Record<string, string>;
  readonly stalls: { stag: number; sid: number }[];
  /** Stall event records not yet written (queue unwritable, §3.12.2): 4 doublewords each. */
  readonly heldEvents?: string[][];
}

export function saveSmmuState(smmu: SmmuV3): SmmuV3State {
  const registers: Record<string, string> = {};
  for (let i = 0; i < REGISTERS.length; i++) {
    const r = REGISTERS[i]!;
    if (r.ro && r.offset < 0x20) continue;
    const v = (BigInt(smmu.regs.hi[i]!) << 32n) | BigInt(smmu.regs.lo[i]!);
    registers[r.name] = hex(v);
  }
  const heldEvents = smmu.eventq.snapshotHeld().map((r) => r.map((q) => hex(q)));
  return { version: SMMU_STATE_VERSION, kind: 'smmuv3', registers, stalls: smmu.stalls.snapshot(), heldEvents };
}

/** Restores registers saved by {@link saveSmmuState}; throws RangeError on a malformed object (host misuse). */
export function restoreSmmuState(smmu: SmmuV3, state: unknown): void {
  if (typeof state !== 'object' || state === null) throw new RangeError('SMMUv3 state: not an object');
  const s = state as Partial<SmmuV3State>;
  if (s.kind !== 'smmuv3' || s.version !== SMMU_STATE_VERSION) throw new RangeError('SMMUv3 state: wrong kind or version');
  if (typeof s.registers !== 'object' || s.registers === null) throw new RangeError('SMMUv3 state: registers missing');
  smmu.regs.reset();
  for (let i = 0; i < REGISTERS.length; i++) {
    const r = REGISTERS[i]!;
    const raw = (s.registers as Record<string, unknown>)[r.name];
    if (raw === undefined) continue;
    const v = parseIntLike(raw);
    if (v === null || v >= 1n << 64n) throw new RangeError(`SMMUv3 state: bad value for ${r.name}`);
    smmu.regs.lo[i] = Number(v & 0xffff_ffffn);
    smmu.regs.hi[i] = Number(v >> 32n);
  }
  smmu.stalls.restore(Array.isArray(s.stalls) ? s.stalls : []);
  const held: bigint[][] = [];
  for (const rec of Array.isArray(s.heldEvents) ? s.heldEvents : []) {
    const words = Array.isArray(rec) ? rec.map((q) => parseIntLike(q)) : [];
    if (words.length !== 4 || words.some((q) => q === null || q >= 1n << 64n)) throw new RangeError('SMMUv3 state: bad held event record');
    held.push(words as bigint[]);
  }
  smmu.eventq.restoreHeld(held);
}
