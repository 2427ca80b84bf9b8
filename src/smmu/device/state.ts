// Save/restore of an SMMUv3 device to a JSON-serialisable object (registers by their spec names as
// 0x-hex strings, pending stalls, stall event records waiting for a writable event queue). Caches
// are not saved: they are architecturally invisible after the restore because the device empties
// them (a restored guest sees a cold IOTLB only).
//
// A restore is atomic: the whole snapshot is validated and converted first, then applied; a
// malformed snapshot raises UserInputError naming the place and leaves the device untouched.
// Register values are masked as a register write would mask them (RES0 bits and bits of features
// the profile does not implement read 0); the acknowledge registers follow their controls.
import { hex, parseIntLike } from '../../util/hex.js';
import { UserInputError } from '../../util/errors.js';
import { REGISTERS } from '../../spec/smmuv3/registers.js';
import { SLOT } from './register-state.js';
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

/** ID registers (read-only, derived from the profile): neither saved nor restored. */
function isIdRegister(i: number): boolean {
  const r = REGISTERS[i]!;
  return r.ro && r.offset < 0x20;
}

export function saveSmmuState(smmu: SmmuV3): SmmuV3State {
  const registers: Record<string, string> = {};
  for (let i = 0; i < REGISTERS.length; i++) {
    if (isIdRegister(i)) continue;
    const v = (BigInt(smmu.regs.hi[i]!) << 32n) | BigInt(smmu.regs.lo[i]!);
    registers[REGISTERS[i]!.name] = hex(v);
  }
  const heldEvents = smmu.eventq.snapshotHeld().map((r) => r.map((q) => hex(q)));
  return { version: SMMU_STATE_VERSION, kind: 'smmuv3', registers, stalls: smmu.stalls.snapshot(), heldEvents };
}

const W = 'smmuv3 state';

function u64(raw: unknown, where: string): bigint {
  const v = parseIntLike(raw);
  if (v === null || v >= 1n << 64n) throw new UserInputError('must be an unsigned 64-bit integer (number or 0x-hex string)', where);
  return v;
}

function intIn(raw: unknown, max: number, where: string): number {
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < 0 || raw > max) throw new UserInputError(`must be an integer in 0..${max}`, where);
  return raw;
}

/** A validated snapshot, ready to apply. */
interface Staged {
  readonly lo: Uint32Array;
  readonly hi: Uint32Array;
  readonly stalls: { stag: number; sid: number }[];
  readonly held: bigint[][];
}

function stage(smmu: SmmuV3, state: unknown): Staged {
  if (typeof state !== 'object' || state === null || Array.isArray(state)) throw new UserInputError('must be an object', W);
  const s = state as Record<string, unknown>;
  if (s.kind !== 'smmuv3') throw new UserInputError("must be 'smmuv3'", `${W}.kind`);
  if (s.version !== SMMU_STATE_VERSION) throw new UserInputError(`must be ${SMMU_STATE_VERSION}`, `${W}.version`);
  const regs = s.registers;
  if (typeof regs !== 'object' || regs === null || Array.isArray(regs)) throw new UserInputError('must be an object', `${W}.registers`);
  const lo = new Uint32Array(REGISTERS.length);
  const hi = new Uint32Array(REGISTERS.length);
  for (let i = 0; i < REGISTERS.length; i++) {
    lo[i] = REGISTERS[i]!.resetLo;
    hi[i] = REGISTERS[i]!.resetHi;
  }
  for (const [name, raw] of Object.entries(regs as Record<string, unknown>)) {
    const slot = (SLOT as Record<string, number | undefined>)[name];
    if (slot === undefined || !Object.hasOwn(SLOT, name)) throw new UserInputError('is not an SMMUv3 register', `${W}.registers.${name}`);
    const v = u64(raw, `${W}.registers.${name}`);
    if (isIdRegister(slot)) continue; // derived from the profile
    const r = REGISTERS[slot]!;
    const [mLo, mHi] = smmu.stateMask(slot);
    lo[slot] = (Number(v & 0xffff_ffffn) & mLo) >>> 0;
    hi[slot] = r.width === 64 ? (Number(v >> 32n) & mHi) >>> 0 : 0;
  }
  // Acknowledge registers follow their controls (every update completes at once in this model).
  lo[SLOT.CR0ACK] = lo[SLOT.CR0]!;
  lo[SLOT.IRQ_CTRLACK] = lo[SLOT.IRQ_CTRL]!;

  const stalls: { stag: number; sid: number }[] = [];
  if (s.stalls !== undefined) {
    if (!Array.isArray(s.stalls)) throw new UserInputError('must be an array', `${W}.stalls`);
    if (s.stalls.length > smmu.stalls.capacity) throw new UserInputError(`holds at most ${smmu.stalls.capacity} entries`, `${W}.stalls`);
    const seen = new Set<number>();
    s.stalls.forEach((e: unknown, i: number) => {
      const where = `${W}.stalls[${i}]`;
      if (typeof e !== 'object' || e === null || Array.isArray(e)) throw new UserInputError('must be an object {stag, sid}', where);
      const o = e as Record<string, unknown>;
      const stag = intIn(o.stag, 0xffff, `${where}.stag`);
      const sid = intIn(o.sid, 2 ** smmu.features.sidBits - 1, `${where}.sid`);
      if (seen.has(stag)) throw new UserInputError(`repeats STAG ${stag}`, where);
      seen.add(stag);
      stalls.push({ stag, sid });
    });
  }

  const held: bigint[][] = [];
  if (s.heldEvents !== undefined) {
    if (!Array.isArray(s.heldEvents)) throw new UserInputError('must be an array', `${W}.heldEvents`);
    if (s.heldEvents.length > smmu.eventq.heldCapacity) throw new UserInputError(`holds at most ${smmu.eventq.heldCapacity} records`, `${W}.heldEvents`);
    s.heldEvents.forEach((rec: unknown, i: number) => {
      const where = `${W}.heldEvents[${i}]`;
      if (!Array.isArray(rec) || rec.length !== 4) throw new UserInputError('must be 4 doublewords', where);
      held.push(rec.map((q: unknown, k: number) => u64(q, `${where}[${k}]`)));
    });
  }
  return { lo, hi, stalls, held };
}

/**
 * Restores a snapshot saved by {@link saveSmmuState}. Validates everything first: a malformed
 * snapshot raises UserInputError and changes nothing.
 */
export function restoreSmmuState(smmu: SmmuV3, state: unknown): void {
  const st = stage(smmu, state);
  smmu.regs.lo.set(st.lo);
  smmu.regs.hi.set(st.hi);
  smmu.stalls.restore(st.stalls);
  smmu.eventq.restoreHeld(st.held);
}
