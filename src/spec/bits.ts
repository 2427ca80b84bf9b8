/**
 * Bit-field descriptors shared by every spec module (SMMUv3, GIC, PCIe, ACPI).
 *
 * A structure made of 64-bit little-endian doublewords (an STE, a CD, a command, an event record,
 * a 64-bit register) is described by {@link Field}s: doubleword index, least significant bit within
 * that doubleword, width. Two access styles use the same descriptors:
 *
 * - codec style (tools, tests, decoders): `getBig`/`setBig` on `bigint` doublewords;
 * - fast style (per-access paths): `rd`/`wr` on a `Uint32Array` holding lo/hi halves
 *   (`w[2*i]` = bits 31:0 of doubleword i, `w[2*i+1]` = bits 63:32), returning plain numbers.
 *   Fields up to 53 bits wide (addresses) come back exact; no BigInt is involved.
 */

export interface Field {
  readonly name: string;
  /** 64-bit doubleword index within the structure (0 for a register). */
  readonly dw: number;
  /** Least significant bit within the doubleword, 0..63. */
  readonly lsb: number;
  /** Width in bits, 1..64 (fast accessors support up to 53). */
  readonly width: number;
  /**
   * Derived once, for the fast accessors: which 32-bit half holds the field (0 = bits 31:0, 1 =
   * bits 63:32, 2 = it spans both), its shift within that half, and its value mask (a field within
   * one half is then read with one shift and one AND).
   */
  readonly half: 0 | 1 | 2;
  readonly shift: number;
  readonly mask: number;
}

/** A field given as `[msb:lsb]` of doubleword `dw`, the way the specifications write it. */
export function field(name: string, dw: number, msb: number, lsb: number): Field {
  if (msb < lsb || msb > 63 || lsb < 0) throw new RangeError(`bad field ${name} [${msb}:${lsb}]`);
  const width = msb - lsb + 1;
  const half = lsb >= 32 ? 1 : msb <= 31 ? 0 : 2;
  return Object.freeze({ name, dw, lsb, width, half, shift: lsb & 31, mask: half === 2 ? 0 : mask32(width) | 0 });
}

/** A single-bit field. */
export function bit(name: string, dw: number, pos: number): Field {
  return field(name, dw, pos, pos);
}

/** A field of a 32-bit register (doubleword 0, bits [msb:lsb]). */
export function reg32Field(name: string, msb: number, lsb: number): Field {
  if (msb > 31) throw new RangeError(`32-bit register field ${name} beyond bit 31`);
  return field(name, 0, msb, lsb);
}

const TWO32 = 0x1_0000_0000;

/** Mask of `width` low bits as an unsigned number (width 0..32). */
export function mask32(width: number): number {
  return width >= 32 ? 0xffff_ffff : ((1 << width) >>> 0) - 1;
}

// ---------------------------------------------------------------- codec style (bigint)

export function getBig(words: readonly bigint[], f: Field): bigint {
  const w = words[f.dw] ?? 0n;
  return (w >> BigInt(f.lsb)) & ((1n << BigInt(f.width)) - 1n);
}

/** Returns a copy of the doubleword with the field replaced; throws if `value` does not fit (host misuse). */
export function setBigWord(word: bigint, f: Field, value: bigint | number): bigint {
  const v = BigInt(value);
  const m = (1n << BigInt(f.width)) - 1n;
  if (v < 0n || v > m) throw new RangeError(`value 0x${v.toString(16)} does not fit ${f.name} (${f.width} bits)`);
  return (word & ~(m << BigInt(f.lsb)) & 0xffff_ffff_ffff_ffffn) | (v << BigInt(f.lsb));
}

/** Sets a field in place in an array of doublewords. */
export function setBig(words: bigint[], f: Field, value: bigint | number): void {
  words[f.dw] = setBigWord(words[f.dw] ?? 0n, f, value);
}

/** Encodes a record `{fieldName: value}` into `dwCount` doublewords using the given fields. */
export function encodeFields(
  fields: Readonly<Record<string, Field>>,
  values: Readonly<Record<string, bigint | number | boolean | undefined>>,
  dwCount: number,
): bigint[] {
  const words: bigint[] = new Array<bigint>(dwCount).fill(0n);
  for (const [k, v] of Object.entries(values)) {
    if (v === undefined) continue;
    const f = fields[k];
    if (!f) throw new RangeError(`unknown field ${k}`);
    setBig(words, f, typeof v === 'boolean' ? (v ? 1n : 0n) : v);
  }
  return words;
}

/** Field values by field name, as `encodeFields` takes them. */
export type FieldValues<T extends Readonly<Record<string, Field>>> = Partial<Record<keyof T, bigint | number | boolean>>;

/**
 * The value of address field `f` that holds byte address `addr` in place (the field keeps address
 * bits [msb:lsb], so its value is `addr >> lsb`). Host misuse (an address with bits below `lsb`
 * set) throws.
 */
export function inPlace(f: Field, addr: number | bigint): bigint {
  const a = BigInt(addr);
  const low = (1n << BigInt(f.lsb)) - 1n;
  if (a < 0n || (a & low) !== 0n) throw new RangeError(`${f.name}: address 0x${a.toString(16)} is not ${2 ** f.lsb}-byte aligned`);
  return a >> BigInt(f.lsb);
}

/** Decodes every field of a layout into `{fieldName: bigint}`. */
export function decodeFields<K extends string>(fields: Readonly<Record<K, Field>>, words: readonly bigint[]): Record<K, bigint> {
  const out = {} as Record<K, bigint>;
  for (const k of Object.keys(fields) as K[]) out[k] = getBig(words, fields[k]);
  return out;
}

// ---------------------------------------------------------------- fast style (lo/hi numbers)

/** Reads a field (width <= 53) from lo/hi halves. No allocation, no BigInt. */
export function rd(w: Uint32Array, f: Field): number {
  const base = f.dw << 1;
  const h = f.half;
  if (h !== 2) return ((w[base + h]! >>> f.shift) & f.mask) >>> 0;
  return rdLoHi(w[base]!, w[base + 1]!, f.lsb, f.width);
}

/** Reads bits [lsb+width-1:lsb] of the 64-bit value hi:lo as a number (width <= 53). */
export function rdLoHi(lo: number, hi: number, lsb: number, width: number): number {
  if (lsb >= 32) {
    return ((hi >>> (lsb - 32)) & mask32(width)) >>> 0;
  }
  if (lsb + width <= 32) {
    return width === 32 ? lo >>> 0 : ((lo >>> lsb) & mask32(width)) >>> 0;
  }
  const lowBits = 32 - lsb;
  const low = lo >>> lsb;
  const high = (hi & mask32(width - lowBits)) >>> 0;
  return high * 2 ** lowBits + low;
}

/**
 * Keeps bits [msb:lsb] of hi:lo in place and returns them as a number (msb <= 52): the usual
 * "address field" extraction, e.g. a table address in bits [47:12] of a descriptor.
 */
export function bitsInPlace(lo: number, hi: number, msb: number, lsb: number): number {
  const hiPart = msb >= 32 ? (hi & mask32(msb - 31)) >>> 0 : 0;
  const loMask = lsb >= 32 ? 0 : msb >= 31 ? (0xffff_ffff << lsb) >>> 0 : ((mask32(msb + 1) >>> lsb) << lsb) >>> 0;
  let v = hiPart * TWO32 + ((lo & loMask) >>> 0);
  if (lsb > 32) v -= v % 2 ** lsb;
  return v;
}

/** Field `f` (doubleword 0, width <= 32, not crossing bit 32) of a 32-bit register value. */
export function get32(value: number, f: Field): number {
  return ((value >>> f.shift) & f.mask) >>> 0;
}

/** `value` with field `f` (doubleword 0, within bits 31:0) replaced by `v`, truncated to the field width. */
export function set32(value: number, f: Field, v: number): number {
  const m = fieldMask32(f);
  return ((value & ~m) | ((v << f.lsb) & m)) >>> 0;
}

/** The bits of field `f` (within bits 31:0) in place, as an unsigned number. */
export function fieldMask32(f: Field): number {
  return f.width >= 32 ? 0xffff_ffff : (mask32(f.width) << f.lsb) >>> 0;
}

/** Field `f` (width <= 53) of the 64-bit value hi:lo, ignoring `f.dw` (a register or one doubleword). */
export function get64(lo: number, hi: number, f: Field): number {
  const h = f.half;
  if (h === 0) return ((lo >>> f.shift) & f.mask) >>> 0;
  if (h === 1) return ((hi >>> f.shift) & f.mask) >>> 0;
  return rdLoHi(lo, hi, f.lsb, f.width);
}

/**
 * The address held "in place" by field `f` of the 64-bit value hi:lo (the field's bits keep their
 * position, e.g. bits [51:12] give a 4 KiB aligned address), or -1 when the field has bits set
 * above bit 52 (beyond any physical address: OAS <= 52).
 */
export function addrOf(lo: number, hi: number, f: Field): number {
  addrInto(lo, hi, f, ADDR_OUT, 0);
  return ADDR_OUT[0]!;
}
const ADDR_OUT = new Float64Array(1);

/**
 * {@link addrOf} written to `out[at]`: for per-access paths, where an address of 2^31 or more
 * returned from a call that V8 does not inline would be a boxed double (an allocation).
 */
export function addrInto(lo: number, hi: number, f: Field, out: Float64Array, at: number): void {
  // Written with no helper call: a helper not inlined here would box what it returns.
  const lsb = f.lsb;
  const msb = lsb + f.width - 1;
  if (msb > 52 && ((hi >>> 21) & ((1 << (msb - 52)) - 1) & (lsb > 53 ? -1 << (lsb - 53) : -1)) !== 0) {
    out[at] = -1;
    return;
  }
  const top = msb > 52 ? 52 : msb;
  // Bits [top:lsb]: those of the high word (bits [top-32:max(lsb-32, 0)]), then of the low word.
  let hiPart = top >= 32 ? hi & ((1 << (top - 31)) - 1) : 0;
  if (lsb > 32) hiPart &= -1 << (lsb - 32);
  const loPart = lsb >= 32 ? 0 : (lo & (top >= 31 ? -1 << lsb : ((1 << (top + 1)) - 1) & (-1 << lsb))) >>> 0;
  out[at] = hiPart * TWO32 + loPart;
}

/** {@link addrOf} for field `f` of a structure held as lo/hi words (doubleword `f.dw`). */
export function rdAddr(w: Uint32Array, f: Field): number {
  return addrOf(w[2 * f.dw]!, w[2 * f.dw + 1]!, f);
}

/** The bits of field `f` that lie in bits 31:0 of its doubleword, in place. */
export function fieldMaskLo(f: Field): number {
  if (f.lsb >= 32) return 0;
  const top = f.lsb + f.width;
  return top >= 32 ? (0xffff_ffff << f.lsb) >>> 0 : (mask32(f.width) << f.lsb) >>> 0;
}

/** The bits of field `f` that lie in bits 63:32 of its doubleword, in place (bit 32 = bit 0). */
export function fieldMaskHi(f: Field): number {
  const top = f.lsb + f.width;
  if (top <= 32) return 0;
  const from = f.lsb > 32 ? f.lsb - 32 : 0;
  return (mask32(top - 32 - from) << from) >>> 0;
}

/** Highest bit of an Arm physical address (52-bit PAs). */
export const PA_MSB = 51;

/**
 * Address field `f` of hi:lo read as an Arm physical address: its bits [51:lsb] in place (a PA has
 * at most 52 bits; the field's bits above bit 51 are ignored). `lsb` defaults to the field's own,
 * a larger one aligns down (e.g. a queue base aligned to the queue size).
 */
export function paOf(lo: number, hi: number, f: Field, lsb = f.lsb): number {
  const msb = f.lsb + f.width - 1;
  return bitsInPlace(lo, hi, msb > PA_MSB ? PA_MSB : msb, lsb);
}

/** Mask of the low `size` bytes of a 32-bit access (size 1, 2 or 4). */
export function sizeMask(size: number): number {
  return size >= 4 ? 0xffff_ffff : (1 << (size * 8)) - 1;
}

/** Writes a field (width <= 32, not crossing bit 32) into lo/hi halves in place. */
export function wr(w: Uint32Array, f: Field, value: number): void {
  const base = f.dw << 1;
  if (f.lsb >= 32) {
    const s = f.lsb - 32;
    const m = (mask32(f.width) << s) >>> 0;
    w[base + 1] = ((w[base + 1]! & ~m) | ((value << s) & m)) >>> 0;
  } else if (f.lsb + f.width <= 32) {
    const m = f.width === 32 ? 0xffff_ffff : (mask32(f.width) << f.lsb) >>> 0;
    w[base] = ((w[base]! & ~m) | ((value << f.lsb) & m)) >>> 0;
  } else {
    const lowBits = 32 - f.lsb;
    const lowVal = value % 2 ** lowBits;
    const highVal = Math.floor(value / 2 ** lowBits);
    const mLo = (0xffff_ffff << f.lsb) >>> 0;
    w[base] = ((w[base]! & ~mLo) | ((lowVal << f.lsb) & mLo)) >>> 0;
    const mHi = mask32(f.width - lowBits);
    w[base + 1] = ((w[base + 1]! & ~mHi) | (highVal & mHi)) >>> 0;
  }
}

/** Splits a number (< 2^64 representable, i.e. <= 2^53 exact) into lo/hi halves. */
export function splitHiLo(v: number): [lo: number, hi: number] {
  return [v >>> 0, Math.floor(v / TWO32) >>> 0];
}

export function joinHiLo(lo: number, hi: number): number {
  return (hi >>> 0) * TWO32 + (lo >>> 0);
}

/** Converts lo/hi doubleword pairs to bigint doublewords (codec side). */
export function toBigWords(w: Uint32Array): bigint[] {
  const out: bigint[] = [];
  for (let i = 0; i < w.length; i += 2) out.push((BigInt(w[i + 1]!) << 32n) | BigInt(w[i]!));
  return out;
}

/** Converts bigint doublewords into a fresh lo/hi Uint32Array. */
export function fromBigWords(words: readonly bigint[]): Uint32Array {
  const w = new Uint32Array(words.length * 2);
  words.forEach((v, i) => {
    w[2 * i] = Number(v & 0xffff_ffffn);
    w[2 * i + 1] = Number((v >> 32n) & 0xffff_ffffn);
  });
  return w;
}
