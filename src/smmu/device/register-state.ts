// Storage for the SMMUv3 register file (IHI 0070 §6.2, §6.3): one lo/hi slot per architected
// register of spec/smmuv3/registers.ts, plus the MMIO offset decode table. Behaviour (side
// effects of writes) lives in smmu-v3.ts; this file only stores values.
import { REGISTERS, type RegName } from '../../spec/smmuv3/registers.js';

/** Slot index of each register in {@link RegisterState}. */
export const SLOT: Readonly<Record<RegName, number>> = Object.freeze(
  Object.fromEntries(REGISTERS.map((r, i) => [r.name, i])) as Record<RegName, number>,
);

/** MMIO offset (aligned 32-bit word) -> slot * 2 + half (0 = bits [31:0], 1 = bits [63:32]). */
const DECODE = new Map<number, number>();
for (let i = 0; i < REGISTERS.length; i++) {
  const r = REGISTERS[i]!;
  DECODE.set(r.offset, i * 2);
  if (r.width === 64) DECODE.set(r.offset + 4, i * 2 + 1);
}

/** Decodes a 32-bit-aligned offset to `slot*2 + half`, or -1 for RAZ/WI locations. */
export function decodeOffset(offset: number): number {
  return DECODE.get(offset) ?? -1;
}

export class RegisterState {
  readonly lo = new Uint32Array(REGISTERS.length);
  readonly hi = new Uint32Array(REGISTERS.length);

  constructor() {
    this.reset();
  }

  reset(): void {
    for (let i = 0; i < REGISTERS.length; i++) {
      this.lo[i] = REGISTERS[i]!.resetLo;
      this.hi[i] = REGISTERS[i]!.resetHi;
    }
  }

  get(name: RegName): number {
    return this.lo[SLOT[name]]!;
  }

  set(name: RegName, v: number): void {
    this.lo[SLOT[name]] = v >>> 0;
  }

  getHi(name: RegName): number {
    return this.hi[SLOT[name]]!;
  }

  setHi(name: RegName, v: number): void {
    this.hi[SLOT[name]] = v >>> 0;
  }
}
