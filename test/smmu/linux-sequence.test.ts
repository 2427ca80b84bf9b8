// Replays Linux 6.1 arm-smmu-v3's probe, reset, domain attach, DMA, unmap + TLBI, fault with event
// read-out and CMDQ_ERR recovery against the SmmuV3 device (register writes, command encodings and
// polling exactly as in Linux 6.1), with both CMD_SYNC forms:
// MSI-based polling (IDR0.MSI = 1, coherent) and SEV / CONS polling (IDR0.MSI = 0).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GuestMemory } from '../../src/memory/guest-memory.js';
import type { MsiOutcome } from '../../src/memory/types.js';
import { SmmuV3 } from '../../src/smmu/device/smmu-v3.js';
import { DEFAULT_FEATURES, type SmmuFeatures } from '../../src/smmu/features.js';
import { decodeEvent, EVT } from '../../src/spec/smmuv3/events.js';
import { DomainBuilder, PTE_RW } from './linux-domain.js';

const RAM = 0x4000_0000;
const RAM_SIZE = 0x0400_0000;
const ITS_DOORBELL = 0x0809_0040; // GITS_TRANSLATER, outside RAM
const SID = 0x10; // 00:02.0

class LinuxSmmuDriver {
  readonly smmu: SmmuV3;
  readonly mem = new GuestMemory();
  readonly b: DomainBuilder;
  readonly msis: { addr: number; data: number; devId: number | null }[] = [];
  cmdq = 0;
  cmdqShift = 0;
  prod = 0;
  evtq = 0;
  evtqShift = 0;
  evtCons = 0;
  strtab = 0;
  msiPolling: boolean;

  constructor(features: SmmuFeatures) {
    this.mem.addRam(RAM, RAM_SIZE);
    this.b = new DomainBuilder(this.mem, RAM, RAM_SIZE);
    this.smmu = new SmmuV3(this.mem, {
      features,
      msiDeviceId: 0x10000,
      msiSink: {
        msiWrite: (addr, data, devId): MsiOutcome => {
          if (this.mem.write32(addr, data)) return 'memory';
          this.msis.push({ addr, data, devId });
          return 'delivered';
        },
      },
    });
    this.msiPolling = features.msi && features.coherent;
  }

  rd(off: number): number {
    return this.smmu.read(off, 4);
  }
  wr(off: number, v: number): void {
    this.smmu.write(off, 4, v);
  }
  wr64(off: number, v: bigint): void {
    this.smmu.write64(off, Number(v & 0xffff_ffffn), Number(v >> 32n));
  }
  /** arm_smmu_write_reg_sync: write, then poll the ACK register until it equals the value (bounded). */
  sync(off: number, ackOff: number, v: number): void {
    this.wr(off, v);
    let n = 0;
    while (this.rd(ackOff) !== v) assert.ok(++n < 1000, `ack 0x${ackOff.toString(16)} never matched`);
  }

  probe(): void {
    const idr0 = this.rd(0x0);
    const idr1 = this.rd(0x4);
    const idr5 = this.rd(0x14);
    assert.ok(((idr0 >>> 2) & 3) === 2, 'TTF AArch64');
    assert.ok((idr0 & 3) !== 0, 'translation support');
    assert.ok([0, 2].includes((idr0 >>> 21) & 3), 'TT endianness');
    assert.equal((idr1 >>> 28) & 7, 0, 'no TABLES/QUEUES_PRESET/REL');
    const cmdqs = (idr1 >>> 21) & 31;
    assert.ok(cmdqs >= 7, 'CMDQS >= 7');
    assert.ok((idr5 >>> 4) & 1, 'GRAN4K');
    this.cmdqShift = Math.min(cmdqs, 8);
    this.evtqShift = Math.min((idr1 >>> 16) & 31, 7);
  }

  /** One command batch + CMD_SYNC, then wait for completion the way Linux does. */
  issue(cmds: [bigint, bigint][], sync = true): void {
    const size = 1 << this.cmdqShift;
    const slot = (p: number): number => this.cmdq + (p & (size - 1)) * 16;
    const all = [...cmds];
    let syncSlot = -1;
    if (sync) {
      syncSlot = slot(this.prod + all.length);
      all.push(this.msiPolling ? [0x0fc01046n, BigInt(syncSlot)] : [0x0fc02046n, 0n]);
    }
    for (const [a, c] of all) {
      this.b.write64(slot(this.prod), a);
      this.b.write64(slot(this.prod) + 8, c);
      this.prod = (this.prod + 1) & ((size << 1) - 1);
    }
    this.wr(0x98, this.prod);
    if (!sync) return;
    if (this.msiPolling) {
      // Spin on the first 32 bits of the CMD_SYNC slot until the SMMU's MSI wrote MSIData (0).
      assert.equal(this.mem.read32(syncSlot), 0, 'CMD_SYNC MSI completion wrote MSIData to its slot');
    } else {
      // Poll CONS until it has passed the sync slot.
      const cons = this.rd(0x9c) & ((size << 1) - 1);
      assert.equal(cons, this.prod, 'CMDQ_CONS passed the CMD_SYNC');
    }
  }

  reset(): void {
    if (this.rd(0x20) & 1) {
      // "SMMU currently enabled! Resetting...": GBPA.ABORT via the UPDATE handshake.
      let n = 0;
      while (this.rd(0x44) >>> 31) assert.ok(++n < 1000);
      this.wr(0x44, (this.rd(0x44) | (1 << 20) | (1 << 31)) >>> 0);
      while (this.rd(0x44) >>> 31) assert.ok(++n < 1000, 'GBPA not responding to update');
    }
    this.sync(0x20, 0x24, 0);
    this.wr(0x28, 0xd75);
    this.wr(0x2c, 0x6);
    // 2-level stream table, SIDSIZE 16, SPLIT 8.
    const st = this.b.twoLevelStreamTable(16);
    this.strtab = st.base;
    this.wr64(0x80, st.strtabBase);
    this.wr(0x88, st.strtabBaseCfg);
    assert.equal(st.strtabBaseCfg, 0x10210);
    this.cmdq = this.b.alloc(16 << this.cmdqShift, 16 << this.cmdqShift);
    this.wr64(0x90, (1n << 62n) | BigInt(this.cmdq) | BigInt(this.cmdqShift));
    this.wr(0x98, 0);
    this.wr(0x9c, 0);
    this.prod = 0;
    this.sync(0x20, 0x24, 0x8);
    this.issue([[0x4n, 0x1fn]]); // CFGI_ALL
    this.issue([[0x30n, 0n]]); // TLBI_NSNH_ALL
    this.evtq = this.b.alloc(32 << this.evtqShift, 32 << this.evtqShift);
    this.wr64(0xa0, (1n << 62n) | BigInt(this.evtq) | BigInt(this.evtqShift));
    this.wr(0x100a8, 0);
    this.wr(0x100ac, 0);
    this.sync(0x20, 0x24, 0xc);
    this.sync(0x50, 0x54, 0);
    this.wr64(0x68, 0n);
    this.wr64(0xb0, 0n);
    if (this.smmu.features.msi) {
      // EVTQ then GERROR MSIs: CFG0 = doorbell, CFG1 = data, CFG2 = Device-nGnRE.
      this.wr64(0xb0, BigInt(ITS_DOORBELL));
      this.wr(0xb8, 0);
      this.wr(0xbc, 1);
      this.wr64(0x68, BigInt(ITS_DOORBELL));
      this.wr(0x70, 1);
      this.wr(0x74, 1);
    }
    this.sync(0x50, 0x54, 0x5);
    this.sync(0x20, 0x24, 0xd);
  }

  /** Linux 6.1 attach of a DMA domain (ASID 1) to SID: L2 table, CD writes, STE writes, syncs. */
  attach(sid: number, pgd: number): void {
    this.b.installL2(this.strtab, sid); // no CFGI after writing the L1 descriptor
    const cd = this.b.alloc(64, 64);
    const cdw = this.b.linuxCd(1, pgd, 5);
    assert.equal(cdw[0], 0x0001e205c0003510n, 'CD qw0 known answer (OAS 48)');
    this.b.write64(cd + 8, cdw[1]!);
    this.b.write64(cd + 16, cdw[2]!);
    this.b.write64(cd + 24, cdw[3]!);
    this.issue([]); // first attach: bare CMD_SYNC
    this.b.write64(cd, cdw[0]!);
    this.issue([]);
    const l2 = Number(this.b.read64(this.strtab + (sid >> 8) * 8) & 0x000f_ffff_ffff_ffc0n);
    const ste = l2 + (sid & 0xff) * 64;
    const sw = this.b.s1Ste(cd);
    assert.equal(sw[1], 0xd6n);
    assert.equal(sw[0], BigInt(cd) | 0xbn);
    const cfgiSte: [bigint, bigint] = [(BigInt(sid) << 32n) | 0x3n, 1n];
    this.b.write64(ste + 8, sw[1]!);
    this.issue([cfgiSte]);
    this.b.write64(ste, sw[0]!);
    this.issue([cfgiSte]);
    this.issue([[(BigInt(sid) << 32n) | 0x1n, 0n]], false); // PREFETCH_CFG, no sync
  }

  /** Threaded event IRQ: consume every record, write CONS after each. */
  readEvents(): bigint[][] {
    const out: bigint[][] = [];
    const mask = (2 << this.evtqShift) - 1;
    for (let n = 0; n < 1 << this.evtqShift; n++) {
      const prod = this.rd(0x100a8);
      if (((prod ^ this.evtCons) & mask) === 0) break;
      const slot = this.evtq + (this.evtCons & ((1 << this.evtqShift) - 1)) * 32;
      out.push([0, 1, 2, 3].map((i) => this.b.read64(slot + 8 * i)));
      this.evtCons = (this.evtCons + 1) & mask;
      this.wr(0x100ac, this.evtCons | (prod & 0x8000_0000));
    }
    return out;
  }
}

for (const [label, features] of [
  ['MSI-based CMD_SYNC polling', DEFAULT_FEATURES],
  ['SEV CMD_SYNC + CONS polling', { ...DEFAULT_FEATURES, msi: false }],
] as const) {
  test(`Linux 6.1 reset, attach, DMA, unmap+TLBI, fault, event read-out, CMDQ_ERR recovery (${label})`, () => {
    const d = new LinuxSmmuDriver(features);
    d.probe();
    d.reset();
    assert.equal(d.rd(0x20), 0xd);
    assert.equal(d.rd(0x24), 0xd);
    assert.equal(d.rd(0x60) ^ d.rd(0x64), 0, 'no global error after reset');

    // A DMA domain with 4 pages at IOVA 0x100000 -> PA 0x41000000 (io-pgtable PTEs PA|0xF47).
    const pgd = d.b.newPgd();
    for (let i = 0; i < 4; i++) d.b.map4k(pgd, 0x100000 + i * 0x1000, 0x4100_0000 + i * 0x1000, PTE_RW);
    d.attach(SID, pgd);

    // DMA write through the SMMU lands at the PA; a read comes back.
    const port = d.smmu.dma(SID, null);
    const data = new Uint8Array(0x4000).map((_, i) => (i * 7) & 0xff);
    assert.equal(port.write(0x100000, data), null);
    assert.equal(d.mem.read32(0x4100_2000), data[0x2000]! | (data[0x2001]! << 8) | (data[0x2002]! << 16) | (data[0x2003]! << 24));
    const back = new Uint8Array(0x4000);
    assert.equal(port.read(0x100000, back), null);
    assert.deepEqual(back, data);

    // Unmap page 2: until TLBI the IOTLB still holds it (stale, as on hardware).
    d.b.unmap4k(pgd, 0x102000);
    assert.equal(port.write(0x102000, new Uint8Array(8)), null, 'stale IOTLB entry used until invalidated');
    // iotlb_sync: TLBI_NH_VA (RIL: one 4K page, TTL 3, leaf) + CMD_SYNC.
    d.issue([[0x0001000000000012n, 0x0000000000102701n]]);
    const f = port.write(0x102000, new Uint8Array(8));
    assert.ok(f !== null);
    assert.equal(f.reason, 'F_TRANSLATION');
    assert.equal(f.iova, 0x102000);
    assert.equal(f.done, 0);
    assert.equal(port.write(0x103000, new Uint8Array(8)), null, 'other pages stay mapped');

    // Event read-out: one F_TRANSLATION record for SID 0x10, write (RnW = 0), IOVA 0x102000.
    const evs = d.readEvents();
    assert.equal(evs.length, 1);
    const ev = decodeEvent(evs[0]!);
    assert.equal(ev.type, EVT.F_TRANSLATION);
    assert.equal(ev.sid, SID);
    assert.equal(ev.rnw, false);
    assert.equal(evs[0]![2], 0x102000n);
    assert.equal(evs[0]![0], (BigInt(SID) << 32n) | 0x10n);
    if (features.msi) assert.ok(d.msis.some((m) => m.addr === ITS_DOORBELL && m.data === 0 && m.devId === 0x10000), 'eventq MSI sent');

    // CMDQ_ERR: an illegal command, then Linux's recovery.
    const before = d.msis.length;
    const badSlot = d.prod;
    d.issue([[0x00000000000000ffn, 0n]], false);
    d.wr(0x98, d.prod);
    const active = (d.rd(0x60) ^ d.rd(0x64)) & 0x1fd;
    assert.equal(active, 1, 'GERROR.CMDQ_ERR active');
    const cons = d.rd(0x9c);
    assert.equal((cons >>> 24) & 0x7f, 1, 'CERROR_ILL');
    assert.equal(cons & 0xfffff, badSlot, 'CONS on the bad command');
    if (features.msi) assert.ok(d.msis.length > before, 'gerror MSI sent');
    // Queue a TLBI that must wait for the recovery.
    d.b.map4k(pgd, 0x104000, 0x4100_4000, PTE_RW);
    d.issue([[0x0001000000000012n, 0x0000000000104701n]], false);
    assert.equal(d.rd(0x9c) & 0xfffff, badSlot, 'processing stopped while the error is active');
    // arm_smmu_cmdq_skip_err: overwrite the slot at CONS with CMD_SYNC (CS=SEV), ack with GERRORN = GERROR.
    const slot = d.cmdq + (badSlot & ((1 << d.cmdqShift) - 1)) * 16;
    d.b.write64(slot, 0x0fc02046n);
    d.b.write64(slot + 8, 0n);
    d.wr(0x64, d.rd(0x60));
    assert.equal((d.rd(0x60) ^ d.rd(0x64)) & 0x1fd, 0, 'error acknowledged');
    assert.equal(d.rd(0x9c) & 0xfffff, d.prod, 'processing resumed through the queue');
    assert.equal(port.write(0x104000, new Uint8Array(8)), null);
    d.issue([]);
    assert.equal(d.smmu.eventStats.written, 1);

    // A second probe (kexec-style) finds SMMUEN set: GBPA.ABORT, then the whole reset again.
    d.wr(0x20, 0); // what the reset does first; with GBPA.ABORT set DMA must abort silently
    d.wr(0x20, 0xd);
    d.reset();
    assert.equal((d.rd(0x44) >>> 20) & 1, 1, 'GBPA.ABORT set by the update handshake');
    d.wr(0x20, 0xc); // SMMUEN = 0
    assert.equal(port.write(0x100000, new Uint8Array(4))?.reason, 'abort', 'GBPA abort while SMMUEN = 0');
    assert.equal(d.smmu.eventStats.written, 1, 'no event for a GBPA abort');
  });
}
