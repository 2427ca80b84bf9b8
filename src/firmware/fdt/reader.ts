// DTB reader: a flattened device tree blob (version 16 or 17; Devicetree Specification v0.4
// chapter 5) -> tree. Input is untrusted (files, QEMU dumps): every offset, length and string is
// bounds-checked, the walk is bounded by the structure block size and nesting depth, and any
// problem is an `FdtError` naming the byte offset — never another exception or an allocation
// sized by the blob beyond its own length.

import {
  FDT_BEGIN_NODE,
  FDT_END,
  FDT_END_NODE,
  FDT_HEADER,
  FDT_MAGIC,
  FDT_NOP,
  FDT_PROP,
  FDT_RSV_ENTRY_SIZE,
  FDT_V16_HEADER_SIZE,
  FDT_HEADER_SIZE,
} from '../../spec/fdt/format.js';
import { UserInputError } from '../../util/errors.js';
import { hex } from '../../util/hex.js';
import type { Fdt, FdtNode, FdtReservation } from './tree.js';

/** A malformed DTB; `offset` is the byte offset of the problem in the blob. */
export class FdtError extends UserInputError {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} (at byte ${hex(offset)})`, 'DTB');
  }
}

/** Deepest node nesting accepted (real trees are < 10 deep). */
export const FDT_MAX_DEPTH = 64;

const dec = new TextDecoder('utf-8', { fatal: false });

/** True when the bytes start with the FDT magic. */
export function isDtb(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0) === FDT_MAGIC;
}

export function parseDtb(bytes: Uint8Array): Fdt {
  const len = bytes.length;
  if (len < FDT_V16_HEADER_SIZE) throw new FdtError(`truncated: ${len} bytes is shorter than a DTB header`, 0);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hdr = (off: number): number => dv.getUint32(off);
  if (hdr(FDT_HEADER.magic) !== FDT_MAGIC) throw new FdtError(`bad magic ${hex(hdr(0), 8)} (expected 0xd00dfeed)`, 0);
  const total = hdr(FDT_HEADER.totalsize);
  const version = hdr(FDT_HEADER.version);
  const lastComp = hdr(FDT_HEADER.lastCompVersion);
  if (version < 16) throw new FdtError(`unsupported DTB version ${version} (need 16 or later)`, FDT_HEADER.version);
  if (lastComp > 17) throw new FdtError(`DTB requires a reader of version ${lastComp} (this reads 17)`, FDT_HEADER.lastCompVersion);
  const headerSize = version >= 17 ? FDT_HEADER_SIZE : FDT_V16_HEADER_SIZE;
  if (total < headerSize) throw new FdtError(`totalsize ${total} is smaller than the header`, FDT_HEADER.totalsize);
  if (total > len) throw new FdtError(`truncated: header says ${total} bytes, only ${len} present`, FDT_HEADER.totalsize);
  const structOff = hdr(FDT_HEADER.offDtStruct);
  const stringsOff = hdr(FDT_HEADER.offDtStrings);
  const rsvOff = hdr(FDT_HEADER.offMemRsvmap);
  const stringsSize = hdr(FDT_HEADER.sizeDtStrings);
  const structSize = version >= 17 ? hdr(FDT_HEADER.sizeDtStruct) : total - structOff;
  const within = (off: number, size: number): boolean => off >= headerSize && off <= total && size <= total - off;
  if (!within(structOff, structSize)) throw new FdtError(`structure block ${hex(structOff)}+${hex(structSize)} lies outside the blob`, FDT_HEADER.offDtStruct);
  if (!within(stringsOff, stringsSize)) throw new FdtError(`strings block ${hex(stringsOff)}+${hex(stringsSize)} lies outside the blob`, FDT_HEADER.offDtStrings);
  if (rsvOff < headerSize || rsvOff > total || rsvOff % 8 !== 0) throw new FdtError(`memory reservation block offset ${hex(rsvOff)} is invalid`, FDT_HEADER.offMemRsvmap);

  // Memory reservation block: pairs until {0, 0}.
  const reservations: FdtReservation[] = [];
  for (let o = rsvOff; ; o += FDT_RSV_ENTRY_SIZE) {
    if (o + FDT_RSV_ENTRY_SIZE > total) throw new FdtError('memory reservation block is not terminated', o);
    const address = dv.getBigUint64(o);
    const size = dv.getBigUint64(o + 8);
    if (address === 0n && size === 0n) break;
    reservations.push({ address, size });
  }

  // Structure block.
  const end = structOff + structSize;
  let p = structOff;
  const u32At = (o: number, what: string): number => {
    if (o + 4 > end) throw new FdtError(`truncated structure block while reading ${what}`, o);
    return dv.getUint32(o);
  };
  const cstr = (o: number, limit: number, what: string): string => {
    const z = bytes.indexOf(0, o);
    if (z < 0 || z >= limit) throw new FdtError(`unterminated ${what}`, o);
    return dec.decode(bytes.subarray(o, z));
  };
  const stack: FdtNode[] = [];
  let root: FdtNode | null = null;
  let done = false;
  while (!done) {
    const tok = u32At(p, 'a token');
    const at = p;
    p += 4;
    switch (tok) {
      case FDT_BEGIN_NODE: {
        const name = cstr(p, end, 'node name');
        // Advance past the name's bytes (up to its NUL) and the padding to 4 bytes.
        p += (bytes.indexOf(0, p) - p + 1 + 3) & ~3;
        if (p > end) throw new FdtError('truncated structure block in node name padding', at);
        if (stack.length >= FDT_MAX_DEPTH) throw new FdtError(`nodes nested deeper than ${FDT_MAX_DEPTH}`, at);
        const n: FdtNode = { name, props: [], children: [] };
        const parent = stack[stack.length - 1];
        if (parent) parent.children.push(n);
        else if (root) throw new FdtError('second root node', at);
        else {
          if (name !== '') throw new FdtError(`root node has name '${name}' (expected empty)`, at);
          root = n;
        }
        stack.push(n);
        break;
      }
      case FDT_END_NODE:
        if (stack.length === 0) throw new FdtError('END_NODE without an open node', at);
        stack.pop();
        break;
      case FDT_PROP: {
        const cur = stack[stack.length - 1];
        if (!cur) throw new FdtError('property outside any node', at);
        const plen = u32At(p, 'property length');
        const nameoff = u32At(p + 4, 'property name offset');
        p += 8;
        if (plen > end - p) throw new FdtError(`property length ${plen} runs past the structure block`, at);
        if (nameoff >= stringsSize) throw new FdtError(`property name offset ${hex(nameoff)} is outside the strings block`, at + 8);
        const name = cstr(stringsOff + nameoff, stringsOff + stringsSize, 'property name');
        cur.props.push({ name, value: bytes.slice(p, p + plen) });
        p += (plen + 3) & ~3;
        if (p > end) throw new FdtError('truncated structure block in property padding', at);
        break;
      }
      case FDT_NOP:
        break;
      case FDT_END:
        if (stack.length !== 0) throw new FdtError(`END with ${stack.length} node(s) still open`, at);
        done = true;
        break;
      default:
        throw new FdtError(`unknown structure token ${hex(tok)}`, at);
    }
  }
  if (!root) throw new FdtError('no root node', structOff);
  return { root, reservations, bootCpuidPhys: hdr(FDT_HEADER.bootCpuidPhys) };
}
