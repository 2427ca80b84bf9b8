/** Hex formatting used by every JSON and text output: 0x-prefixed, lower case. */

export function hex(v: number | bigint, pad = 0): string {
  const s = (typeof v === 'bigint' ? BigInt.asUintN(64, v) : v).toString(16);
  return '0x' + (pad > 0 ? s.padStart(pad, '0') : s);
}

/** Parses "0x..", decimal strings or numbers into a bigint; returns null if malformed. */
export function parseIntLike(v: unknown): bigint | null {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? BigInt(v) : null;
  if (typeof v !== 'string') return null;
  const s = v.trim().replace(/_/g, '');
  if (/^0x[0-9a-f]+$/i.test(s) || /^[0-9]+$/.test(s)) return BigInt(s);
  return null;
}
