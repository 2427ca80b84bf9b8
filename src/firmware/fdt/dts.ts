// DTS text output for a tree, in the exact form `dtc -I dtb -O dts` (dtc 1.6) prints: tabs,
// a blank line before each child node, property values typed by dtc's guess (a printable
// NUL-separated string list, else <u32 cells> when the length is a multiple of 4, else [bytes]),
// cells as 0x%02x, /memreserve/ lines after the version tag.

import type { Fdt, FdtNode } from './tree.js';

const isPrint = (c: number): boolean => c >= 0x20 && c < 0x7f;
const CTRL_ESCAPES: Readonly<Record<number, string>> = { 7: '\\a', 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r' };

type Guess = 'string' | 'cells' | 'bytes';

/** dtc's guess_value_type() for a value without type information. */
export function guessValueType(v: Uint8Array): Guess {
  let notString = 0;
  let nul = 0;
  for (const c of v) {
    if (!(isPrint(c) || c === 0 || CTRL_ESCAPES[c] !== undefined)) notString++;
    if (c === 0) nul++;
  }
  if (v.length > 0 && v[v.length - 1] === 0 && notString === 0 && nul <= v.length - nul) return 'string';
  if (v.length % 4 === 0) return 'cells';
  return 'bytes';
}

function stringValue(v: Uint8Array): string {
  let s = '"';
  for (let i = 0; i < v.length - 1; i++) {
    const c = v[i] as number;
    if (c === 0) s += '\\0';
    else if (c === 0x5c) s += '\\\\';
    else if (c === 0x22) s += '\\"';
    else if (CTRL_ESCAPES[c] !== undefined) s += CTRL_ESCAPES[c];
    else if (isPrint(c)) s += String.fromCharCode(c);
    else s += '\\x' + c.toString(16).padStart(2, '0');
  }
  return s + '"';
}

export function formatPropValue(v: Uint8Array): string {
  const g = guessValueType(v);
  if (g === 'string') return stringValue(v);
  if (g === 'cells') {
    const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
    const out: string[] = [];
    for (let i = 0; i < v.length; i += 4) out.push('0x' + dv.getUint32(i).toString(16).padStart(2, '0'));
    return `<${out.join(' ')}>`;
  }
  return `[${Array.from(v, (c) => c.toString(16).padStart(2, '0')).join(' ')}]`;
}

function writeNode(n: FdtNode, level: number, out: string[]): void {
  const ind = '\t'.repeat(level);
  out.push(`${ind}${n.name === '' ? '/' : n.name} {\n`);
  for (const p of n.props) {
    out.push(p.value.length === 0 ? `${ind}\t${p.name};\n` : `${ind}\t${p.name} = ${formatPropValue(p.value)};\n`);
  }
  for (const c of n.children) {
    out.push('\n');
    writeNode(c, level + 1, out);
  }
  out.push(`${ind}};\n`);
}

/** DTS source text for the tree. */
export function toDts(fdt: Fdt): string {
  const out: string[] = ['/dts-v1/;\n\n'];
  for (const r of fdt.reservations) {
    out.push(`/memreserve/\t0x${r.address.toString(16).padStart(16, '0')} 0x${r.size.toString(16).padStart(16, '0')};\n`);
  }
  writeNode(fdt.root, 0, out);
  return out.join('');
}
