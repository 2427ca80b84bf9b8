// DTB writer: a tree -> a version 17 flattened device tree blob (Devicetree Specification v0.4
// chapter 5): header, memory reservation block, structure block, strings block (names
// deduplicated in first-use order, as dtc does).

import {
  FDT_BEGIN_NODE,
  FDT_END,
  FDT_END_NODE,
  FDT_HEADER,
  FDT_HEADER_SIZE,
  FDT_LAST_COMP_VERSION,
  FDT_MAGIC,
  FDT_PROP,
  FDT_RSV_ENTRY_SIZE,
  FDT_VERSION,
} from '../../spec/fdt/format.js';
import type { Fdt, FdtNode } from './tree.js';

class Buf {
  bytes = new Uint8Array(1024);
  len = 0;
  private ensure(n: number): void {
    if (this.len + n <= this.bytes.length) return;
    let cap = this.bytes.length * 2;
    while (cap < this.len + n) cap *= 2;
    const b = new Uint8Array(cap);
    b.set(this.bytes.subarray(0, this.len));
    this.bytes = b;
  }
  u32(v: number): void {
    this.ensure(4);
    new DataView(this.bytes.buffer).setUint32(this.len, v >>> 0);
    this.len += 4;
  }
  raw(b: Uint8Array): void {
    this.ensure(b.length);
    this.bytes.set(b, this.len);
    this.len += b.length;
  }
  align(a: number): void {
    const pad = (a - (this.len % a)) % a;
    this.ensure(pad);
    this.bytes.fill(0, this.len, this.len + pad);
    this.len += pad;
  }
  out(): Uint8Array {
    return this.bytes.slice(0, this.len);
  }
}

const enc = new TextEncoder();

/** Serialises a tree. Throws RangeError on names that cannot be encoded (host misuse). */
export function writeDtb(fdt: Fdt): Uint8Array {
  const strs = new Buf();
  const strOff = new Map<string, number>();
  const nameOff = (n: string): number => {
    let o = strOff.get(n);
    if (o === undefined) {
      o = strs.len;
      strOff.set(n, o);
      strs.raw(enc.encode(n + '\0'));
    }
    return o;
  };

  const st = new Buf();
  const emit = (n: FdtNode, isRoot: boolean): void => {
    if (n.name.includes('\0') || n.name.includes('/') || (!isRoot && n.name === '')) throw new RangeError(`bad node name '${n.name}'`);
    st.u32(FDT_BEGIN_NODE);
    st.raw(enc.encode(n.name + '\0'));
    st.align(4);
    for (const p of n.props) {
      if (p.name === '' || p.name.includes('\0')) throw new RangeError(`bad property name '${p.name}'`);
      st.u32(FDT_PROP);
      st.u32(p.value.length);
      st.u32(nameOff(p.name));
      st.raw(p.value);
      st.align(4);
    }
    for (const c of n.children) emit(c, false);
    st.u32(FDT_END_NODE);
  };
  emit(fdt.root, true);
  st.u32(FDT_END);

  const rsvOff = FDT_HEADER_SIZE; // 40 is 8-byte aligned
  const structOff = rsvOff + (fdt.reservations.length + 1) * FDT_RSV_ENTRY_SIZE;
  const stringsOff = structOff + st.len;
  const total = stringsOff + strs.len;
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  dv.setUint32(FDT_HEADER.magic, FDT_MAGIC);
  dv.setUint32(FDT_HEADER.totalsize, total);
  dv.setUint32(FDT_HEADER.offDtStruct, structOff);
  dv.setUint32(FDT_HEADER.offDtStrings, stringsOff);
  dv.setUint32(FDT_HEADER.offMemRsvmap, rsvOff);
  dv.setUint32(FDT_HEADER.version, FDT_VERSION);
  dv.setUint32(FDT_HEADER.lastCompVersion, FDT_LAST_COMP_VERSION);
  dv.setUint32(FDT_HEADER.bootCpuidPhys, fdt.bootCpuidPhys >>> 0);
  dv.setUint32(FDT_HEADER.sizeDtStrings, strs.len);
  dv.setUint32(FDT_HEADER.sizeDtStruct, st.len);
  fdt.reservations.forEach((r, i) => {
    dv.setBigUint64(rsvOff + i * FDT_RSV_ENTRY_SIZE, r.address);
    dv.setBigUint64(rsvOff + i * FDT_RSV_ENTRY_SIZE + 8, r.size);
  });
  out.set(st.out(), structOff);
  out.set(strs.out(), stringsOff);
  return out;
}
