// The few A64 instruction encodings the boot stub needs (Arm ARM DDI 0487, C6.2 "Alphabetical list
// of A64 base instructions"). Layout only: each returns the 32-bit instruction word.

/** LDR (literal), 64-bit: `ldr Xt, label` with label = PC + byteOffset (multiple of 4, +-1 MiB). C6.2.167 */
export function ldrLiteral64(rt: number, byteOffset: number): number {
  if (byteOffset % 4 !== 0 || byteOffset < -(1 << 20) || byteOffset >= 1 << 20) throw new RangeError(`literal offset ${byteOffset} out of range`);
  return (0x5800_0000 | (((byteOffset / 4) & 0x7_ffff) << 5) | (rt & 31)) >>> 0;
}

/** MOV (register), 64-bit: `mov Xd, Xm`, an alias of `orr Xd, xzr, Xm` (C6.2.205, C6.2.219). */
export function movReg64(rd: number, rm: number): number {
  return (0xaa00_03e0 | ((rm & 31) << 16) | (rd & 31)) >>> 0;
}

/** BR: branch to the address in Xn (C6.2.38). */
export function br(rn: number): number {
  return (0xd61f_0000 | ((rn & 31) << 5)) >>> 0;
}

/** Register number of XZR in the encodings above (register 31 in a non-SP position). */
export const XZR = 31;
