// QEMU 7.2's IORT for `virt,iommu=smmuv3,gic-version=3` with one PCI device on bus 0, written out
// byte by byte from the documented dump (QEMU 7.2: 236 bytes, ITS group @0x30,
// SMMUv3 @0x48, root complex @0xa0, the RC->SMMU raw count 0x100). Built independently of our
// encoder so the decoder is checked against the documentation, not against itself.
// The raw fw_cfg blob has checksum 0 (the table-loader fixes it); `fixChecksum` computes a real one.

export function qemu72Iort(opts: { fixChecksum?: boolean } = {}): Uint8Array {
  const b = new Uint8Array(236);
  const dv = new DataView(b.buffer);
  const str = (at: number, s: string): void => {
    for (let i = 0; i < s.length; i++) b[at + i] = s.charCodeAt(i);
  };
  const u8 = (at: number, v: number): void => dv.setUint8(at, v);
  const u16 = (at: number, v: number): void => dv.setUint16(at, v, true);
  const u32 = (at: number, v: number): void => dv.setUint32(at, v, true);
  const u64 = (at: number, v: number): void => dv.setBigUint64(at, BigInt(v), true);
  const node = (at: number, type: number, len: number, rev: number, id: number, nmap: number, mapoff: number): void => {
    u8(at, type);
    u16(at + 1, len);
    u8(at + 3, rev);
    u32(at + 4, id);
    u32(at + 8, nmap);
    u32(at + 12, mapoff);
  };
  const idmap = (at: number, inBase: number, count: number, outBase: number, ref: number, flags: number): void => {
    u32(at, inBase);
    u32(at + 4, count);
    u32(at + 8, outBase);
    u32(at + 12, ref);
    u32(at + 16, flags);
  };
  // ACPI header
  str(0, 'IORT');
  u32(4, 236);
  u8(8, 3);
  u8(9, 0);
  str(10, 'BOCHS ');
  str(16, 'BXPC    ');
  u32(24, 1);
  str(28, 'BXPC');
  u32(32, 1);
  u32(36, 3); // node count
  u32(40, 0x30); // node offset
  // ITS group @0x30: length 24, revision 1, id 0, one ITS with id 0
  node(0x30, 0, 24, 1, 0, 0, 0);
  u32(0x30 + 16, 1);
  u32(0x30 + 20, 0);
  // SMMUv3 @0x48: length 88, revision 4, id 1, one mapping at +68
  node(0x48, 4, 88, 4, 1, 1, 68);
  u64(0x48 + 16, 0x0905_0000);
  u32(0x48 + 24, 1); // COHACC override
  u32(0x48 + 40, 0); // model generic
  u32(0x48 + 44, 106); // event
  u32(0x48 + 48, 107); // pri
  u32(0x48 + 52, 109); // gerr
  u32(0x48 + 56, 108); // sync
  u32(0x48 + 60, 0); // proximity
  u32(0x48 + 64, 0); // DeviceID mapping index
  idmap(0x48 + 68, 0, 0xffff, 0, 0x30, 0);
  // Root complex @0xa0: length 76, revision 3, id 2, two mappings at +36
  node(0xa0, 2, 76, 3, 2, 2, 36);
  u32(0xa0 + 16, 1); // CCA
  u8(0xa0 + 20, 0); // allocation hints
  u8(0xa0 + 23, 3); // memory access flags CPM|DACS
  u32(0xa0 + 24, 0); // ATS
  u32(0xa0 + 28, 0); // segment
  u8(0xa0 + 32, 64); // memory address size limit
  idmap(0xa0 + 36, 0, 0x100, 0, 0x48, 0); // RC -> SMMU, raw count (QEMU 7.2 bug)
  idmap(0xa0 + 56, 0x100, 0xfeff, 0x100, 0x30, 0); // RC -> ITS for the rest
  if (opts.fixChecksum) {
    let s = 0;
    for (const x of b) s = (s + x) & 0xff;
    b[9] = (0x100 - s) & 0xff;
  }
  return b;
}
