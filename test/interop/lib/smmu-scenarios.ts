// The SMMUv3 differential scenarios: each programs stream tables, CDs, page
// tables and commands through ./smmu-driver.ts, has edu DMA, and records where data landed and
// the event records. Run on QEMU 7.2 and on our model by ../smmu-differential.interop.ts.
import { STE_CONFIG } from '../../../src/spec/smmuv3/ste.js';
import type { Scenario } from './differential.js';
import { EDU_SID, type Machine } from './machine.js';
import type { Ev } from './observe.js';
import { deviceRead, deviceWrite, pattern, primeDevice } from './scenario-helpers.js';
import { encodeCommand } from '../../../src/spec/smmuv3/commands.js';
import { QUEUE_CONS, REG } from '../../../src/spec/smmuv3/registers.js';
import { rd } from '../../../src/spec/bits.js';

const rd32 = (v: number, f: Parameters<typeof rd>[1]): number => rd(Uint32Array.of(v, 0), f);
import { VIRT } from './machine.js';
import { cdWords, LAYOUT, PageTables, SmmuDriver, STE_ABORT, STE_BYPASS, STE_S1, steWords } from './smmu-driver.js';

function qwordsOf(words: readonly bigint[]): Uint8Array {
  const b = Buffer.alloc(words.length * 8);
  words.forEach((w, i) => b.writeBigUInt64LE(BigInt.asUintN(64, w), i * 8));
  return b;
}

const D = LAYOUT.data;
const CD0 = LAYOUT.cds;
const hex = (n: number | bigint): string => '0x' + n.toString(16);

/** The F_* record our model must write for an unprivileged data access by edu (IHI 0070 §7.3). */
function fault(type: string, iova: bigint, read: boolean): Ev {
  return { type, sid: EDU_SID, ssv: false, ssid: 0, rnw: read, pnu: false, ind: false, s2: false, cls: 2, inputAddr: hex(iova), ipa: '0x0', fetchAddr: '0x0' };
}

/** The C_BAD_STREAMID record for edu (§7.3.3: StreamID only). */
function badStreamId(): Ev {
  return { type: 'C_BAD_STREAMID', sid: EDU_SID, ssv: false, ssid: 0, rnw: false, pnu: false, ind: false, s2: false, cls: 0, inputAddr: '0x0', ipa: '0x0', fetchAddr: '0x0' };
}

/** Enables the SMMU with a linear table and an S1 STE for edu whose CD uses `t0sz`; returns the page tables. */
async function s1Setup(d: SmmuDriver, t0sz = 16, cd: Partial<Parameters<typeof cdWords>[0]> = {}, eventqLog2?: number): Promise<PageTables> {
  await d.enable({ fmt: 'linear', log2size: 8 }, true, eventqLog2);
  const pt = new PageTables(d.m, d.ptAlloc, t0sz);
  await d.writeCd(CD0, cdWords({ ttb0: pt.root, t0sz, ...cd }));
  await d.writeSte(EDU_SID, STE_S1(CD0));
  return pt;
}

/** Guest-physical address with nothing behind it on QEMU virt (8 GiB: above the 512 MiB of RAM). */
const NO_RAM = 0x2_0000_0000;


/**
 * STRTAB_BASE is guarded by SMMUEN (IHI 0070 §6.3.24: writes while SMMUEN = 1 are ignored from
 * SMMUv3.2, UNPREDICTABLE before): clear SMMUEN, write the base, restore CR0.
 */
async function setStreamTableBase(m: Machine, d: SmmuDriver, addr: number): Promise<void> {
  const cr0 = await d.readReg('CR0');
  await m.write32(VIRT.smmuBase + REG.CR0, cr0 & ~1);
  await m.write64(VIRT.smmuBase + REG.STRTAB_BASE, BigInt(addr));
  await m.write32(VIRT.smmuBase + REG.CR0, cr0);
}

export const SMMU_SCENARIOS: readonly Scenario[] = [
  {
    name: 'command queue: an illegal opcode stops CONS with CERROR_ILL and GERROR.CMDQ_ERR; fixing the slot and acknowledging resumes',
    async run(m, rec) {
      const d = new SmmuDriver(m);
      await d.enable({ fmt: 'linear', log2size: 8 });
      rec.value('CMDQ_CONS after a good batch', await d.commands([['CFGI_STE', { SID: 1 }], ['TLBI_NH_ALL', {}]]));
      const bad = 3; // index of the illegal command (after the 3 commands above)
      rec.value('CMDQ_CONS after opcode 0x00', await d.rawCommands([[0n, 0n], encodeCommand('SYNC', {})]));
      rec.value('GERROR ^ GERRORN after opcode 0x00', await d.gerror());
      await m.writeBytes(d.cmdSlot(bad), qwordsOf(encodeCommand('SYNC', {}))); // Linux: replace with CMD_SYNC
      await d.ackGerror();
      // CMDQ_CONS.ERR is UNKNOWN once CMDQ_ERR is no longer active (§6.3.28): compare RD only.
      rec.value('CMDQ_CONS.RD after the fix and GERRORN', rd32(await d.readReg('CMDQ_CONS'), QUEUE_CONS.RD));
      rec.value('GERROR ^ GERRORN after the fix', await d.gerror());
    },
  },
  {
    name: 'fetch aborts: STE fetch (F_STE_FETCH), CD fetch (F_CD_FETCH) and table walk (F_WALK_EABT) outside RAM',
    departures: [
      {
        id: 'cd-fetch-address-slot',
        label: 'CD outside RAM: events',
        arch: [{ type: 'F_CD_FETCH', sid: EDU_SID, ssv: false, ssid: 0, rnw: false, pnu: false, ind: false, s2: false, cls: 0, inputAddr: '0x0', ipa: '0x0', fetchAddr: hex(NO_RAM) }],
        qemu: [{ type: 'F_CD_FETCH', sid: EDU_SID, ssv: false, ssid: 0, rnw: false, pnu: false, ind: false, s2: false, cls: 0, inputAddr: hex(NO_RAM), ipa: '0x0', fetchAddr: '0x0' }],
      },
    ],
    async run(m, rec) {
      await primeDevice(m);
      const d = new SmmuDriver(m);
      await d.enable({ fmt: 'linear', log2size: 8 });
      await setStreamTableBase(m, d, NO_RAM);
      await d.commands([['CFGI_STE_RANGE', { SID: 0, RANGE: 31 }]]);
      await deviceWrite(d, rec, 'stream table outside RAM', BigInt(D), D);
      await setStreamTableBase(m, d, LAYOUT.strtab);
      await d.writeSte(EDU_SID, STE_S1(NO_RAM));
      await d.commands([['CFGI_STE_RANGE', { SID: 0, RANGE: 31 }]]);
      await deviceWrite(d, rec, 'CD outside RAM', 0x1000n, D);
      await d.writeCd(CD0, cdWords({ ttb0: NO_RAM }));
      await d.writeSte(EDU_SID, STE_S1(CD0));
      await d.commands([['CFGI_STE_RANGE', { SID: 0, RANGE: 31 }]]);
      await deviceWrite(d, rec, 'TTB0 outside RAM', 0x1000n, D);
    },
  },
  {
    name: 'event queue overflow: OVFLG architecturally',
    departures: [
      { id: 'eventq-overflow-gerror', label: 'EVENTQ_PROD.OVFLG after 3 faults into 2 slots', arch: true, qemu: false },
      { id: 'eventq-overflow-gerror', label: 'GERROR ^ GERRORN after 3 faults into 2 slots', arch: 0, qemu: 1 << 2 },
    ],
    async run(m, rec) {
      await primeDevice(m);
      const d = new SmmuDriver(m);
      await s1Setup(d, 16, {}, 1); // no mappings: every access is F_TRANSLATION
      // Aligned 4-byte DMAs: one record each, even in QEMU; distinct addresses keep them apart.
      for (let i = 1; i <= 3; i++) await m.eduDma('to-ram', BigInt(i * 0x1000), 4, 0);
      rec.value('EVENTQ_PROD.OVFLG after 3 faults into 2 slots', ((await d.readReg('EVENTQ_PROD')) >>> 31) === 1);
      rec.value('GERROR ^ GERRORN after 3 faults into 2 slots', await d.gerror());
      rec.events('the 2 records in the queue', await d.events());
    },
  },
  {
    name: 'SMMUEN=0 bypasses; linear table: bypass STE lands at IOVA = PA, abort STE drops silently',
    async run(m, rec) {
      await primeDevice(m);
      const d = new SmmuDriver(m);
      await deviceWrite(d, rec, 'SMMUEN=0', BigInt(D), D);
      await d.enable({ fmt: 'linear', log2size: 8 });
      await d.writeSte(EDU_SID, STE_BYPASS());
      await deviceWrite(d, rec, 'bypass STE', BigInt(D + 0x1000), D + 0x1000, 100, 16);
      await d.writeSte(EDU_SID, STE_ABORT());
      await d.commands([['CFGI_STE', { SID: EDU_SID }]]);
      await deviceWrite(d, rec, 'abort STE', BigInt(D + 0x2000), D + 0x2000);
      await deviceRead(d, rec, 'abort STE read', BigInt(D));
    },
  },
  {
    name: 'invalid STE (V=0) gives C_BAD_STE; SID beyond the table gives C_BAD_STREAMID',
    async run(m, rec) {
      await primeDevice(m);
      const d = new SmmuDriver(m);
      await d.enable({ fmt: 'linear', log2size: 8 });
      await d.writeSte(EDU_SID, steWords({ V: 0, CONFIG: STE_CONFIG.BYPASS }));
      await deviceWrite(d, rec, 'V=0 STE', BigInt(D), D);
      await d.enable({ fmt: 'linear', log2size: 3 }); // 8 STEs: SID 8 is out of range
      await deviceWrite(d, rec, 'SID >= 2^LOG2SIZE', BigInt(D + 0x1000), D + 0x1000);
    },
  },
  {
    name: 'SID beyond the table with CR2.RECINVSID=0: terminated without an event',
    departures: [
      { id: 'recinvsid-ignored', label: 'RECINVSID=0: events', arch: [], qemu: [{ type: 'C_BAD_STREAMID', sid: EDU_SID, ssv: false, ssid: 0, rnw: false, pnu: false, ind: false, s2: false, cls: 0, inputAddr: '0x0', ipa: '0x0', fetchAddr: '0x0' }] },
    ],
    async run(m, rec) {
      await primeDevice(m);
      const d = new SmmuDriver(m);
      await d.enable({ fmt: 'linear', log2size: 3 }, false);
      await deviceWrite(d, rec, 'RECINVSID=0', BigInt(D), D);
    },
  },
  {
    name: '2-level stream table: bypass then S1 STE in a level-2 table',
    async run(m, rec) {
      await primeDevice(m);
      const d = new SmmuDriver(m);
      await d.enable({ fmt: '2-level', log2size: 16, split: 8 });
      await d.writeSte(EDU_SID, STE_BYPASS());
      await deviceWrite(d, rec, '2-level bypass', BigInt(D), D);
      const pt = new PageTables(m, d.ptAlloc, 16);
      await d.writeCd(CD0, cdWords({ ttb0: pt.root }));
      await pt.map(0x1_2345_6000n, BigInt(D + 0x3000));
      await d.writeSte(EDU_SID, STE_S1(CD0));
      await d.commands([['CFGI_STE', { SID: EDU_SID }]]);
      await deviceWrite(d, rec, '2-level S1', 0x1_2345_6040n, D + 0x3040);
    },
  },
  {
    name: '2-level stream table: L1STD with Span=0, and a StreamID beyond the L2 table its Span gives',
    departures: [
      { id: 'l1std-span', label: 'Span=4, SID index 8: events', arch: [badStreamId()], qemu: [] },
      { id: 'l1std-span', label: `Span=4, SID index 8: memory at PA ${hex(D + 0x100)}`, arch: 'zero', qemu: Buffer.from(pattern(64)).toString('hex') },
      {
        id: 'l1std-span',
        label: 'Span=3, SID index 8: events',
        arch: [badStreamId()],
        qemu: [{ type: 'C_BAD_STE', sid: EDU_SID, ssv: false, ssid: 0, rnw: false, pnu: false, ind: false, s2: false, cls: 0, inputAddr: '0x0', ipa: '0x0', fetchAddr: '0x0' }],
      },
    ],
    async run(m, rec) {
      await primeDevice(m);
      const d = new SmmuDriver(m);
      await d.enable({ fmt: '2-level', log2size: 16, split: 8 });
      await deviceWrite(d, rec, 'L1STD of SID 8 never written (Span=0)', BigInt(D), D);
      const l2 = LAYOUT.strtabL2;
      for (let i = 0; i < 16; i++) await m.writeBytes(l2 + i * 64, qwordsOf(STE_BYPASS()));
      await d.writeL1Std(0, 4, l2); // 2^(4-1) = 8 STEs architecturally: SID 8 is just beyond
      await d.commands([['CFGI_STE_RANGE', { SID: 0, RANGE: 31 }]]);
      await deviceWrite(d, rec, 'Span=4, SID index 8', BigInt(D + 0x100), D + 0x100);
      await d.writeL1Std(0, 3, l2); // 4 STEs architecturally, 8 in QEMU: index 8 is beyond both
      await d.commands([['CFGI_STE_RANGE', { SID: 0, RANGE: 31 }]]);
      await deviceWrite(d, rec, 'Span=3, SID index 8', BigInt(D + 0x200), D + 0x200);
      await d.writeL1Std(0, 9, l2); // Span = SPLIT + 1, as Linux writes it
      await d.commands([['CFGI_STE_RANGE', { SID: 0, RANGE: 31 }]]);
      await deviceWrite(d, rec, 'Span=SPLIT+1', BigInt(D + 0x300), D + 0x300);
    },
  },
  {
    name: 'S1 4K pages (4 levels): write and read through the walk, unmapped IOVA faults both ways',
    async run(m, rec) {
      await primeDevice(m);
      const d = new SmmuDriver(m);
      const pt = await s1Setup(d);
      await pt.map(0x7f_1234_5000n, BigInt(D + 0x4000));
      await pt.map(0x7f_1234_6000n, BigInt(D + 0x6000));
      await deviceWrite(d, rec, 'mapped page', 0x7f_1234_5080n, D + 0x4080, 128, 0x10);
      await m.writeBytes(D + 0x4800, pattern(64, 0x33));
      await deviceRead(d, rec, 'read mapped page', 0x7f_1234_5800n, 64, 0x800);
      await deviceWrite(d, rec, 'write back what was read', 0x7f_1234_6000n, D + 0x6000, 64, 0x800);
      await deviceWrite(d, rec, 'unmapped IOVA write', 0x7f_1234_7000n, D + 0x7000, 64, 0);
      await deviceRead(d, rec, 'unmapped IOVA read', 0x7f_1234_8010n, 32, 0x800);
      await deviceWrite(d, rec, 'crossing into an unmapped page', 0x7f_1234_6fe0n, D + 0x6fe0, 64, 0x100);
    },
  },
  {
    name: 'S1 blocks: 1 GiB at level 1 and 2 MiB at level 2 (T0SZ=25, 3 levels), pages at level 3',
    async run(m, rec) {
      await primeDevice(m);
      const d = new SmmuDriver(m);
      const pt = await s1Setup(d, 25);
      // IOVA bits [38:0] with T0SZ=25: a 1 GiB block at level 1, a 2 MiB block and a page below another L1 entry.
      await pt.map(0x40_0000_0000n, 0x4000_0000n, 1);
      await pt.map(0x60_0000_0000n, BigInt(D + 0x20_0000), 2);
      await pt.map(0x61_0000_1000n, BigInt(D + 0x9000), 3);
      await deviceWrite(d, rec, '1 GiB block', 0x40_0000_0000n + BigInt(D - 0x4000_0000 + 0x1_2340), D + 0x1_2340);
      await deviceWrite(d, rec, '2 MiB block', 0x60_0001_2340n, D + 0x20_0000 + 0x1_2340);
      await deviceWrite(d, rec, '4 KiB page', 0x61_0000_1100n, D + 0x9100);
    },
  },
  {
    name: '16 KiB and 64 KiB granules: pages, 32 MiB and 512 MiB blocks at level 2',
    async run(m, rec) {
      await primeDevice(m);
      const d = new SmmuDriver(m);
      await d.enable({ fmt: 'linear', log2size: 8 });
      await d.writeSte(EDU_SID, STE_S1(CD0));
      // 16 KiB granule, T0SZ=17 (47 bits): 4 levels. A 32 MiB block needs a 32 MiB aligned PA.
      const pt16 = new PageTables(m, d.ptAlloc, 17, 14);
      await d.writeCd(CD0, cdWords({ ttb0: pt16.root, t0sz: 17, tg0: pt16.tg0 }));
      await pt16.map(0x12_3456_8000n, BigInt(D + 0xc_4000));
      await pt16.map(0x40_0000_0000n, 0x4200_0000n, 2);
      await deviceWrite(d, rec, '16K page', 0x12_3456_a010n, D + 0xc_6010);
      await deviceWrite(d, rec, '16K 32 MiB block', 0x40_0012_3450n, 0x4212_3450);
      await deviceWrite(d, rec, '16K unmapped', 0x12_3457_0000n, D + 0xc_8000);
      // 64 KiB granule, T0SZ=22 (42 bits): 2 levels (level 2 and 3). 512 MiB block = all of RAM.
      const pt64 = new PageTables(m, d.ptAlloc, 22, 16);
      await d.writeCd(CD0, cdWords({ ttb0: pt64.root, t0sz: 22, tg0: pt64.tg0, asid: 2 }));
      await d.commands([['CFGI_CD', { SID: EDU_SID }]]);
      await pt64.map(0x1_2345_0000n, BigInt(D + 0xd_0000));
      await pt64.map(0x200_0000_0000n, 0x4000_0000n, 2);
      await deviceWrite(d, rec, '64K page', 0x1_2345_8010n, D + 0xd_8010);
      await deviceWrite(d, rec, '64K 512 MiB block', 0x200_0000_0000n + BigInt(D - 0x4000_0000 + 0xe_0000), D + 0xe_0000);
      await deviceWrite(d, rec, '64K unmapped', 0x1_2346_0000n, D + 0xf_0000);
    },
  },
  {
    name: 'level-0 block (4K granule): F_TRANSLATION architecturally',
    departures: [
      { id: 'block-at-level-0', label: 'level-0 block: events', arch: [fault('F_TRANSLATION', BigInt(D + 0x5_0000), false)], qemu: [] },
      { id: 'block-at-level-0', label: `level-0 block: memory at PA ${hex(D + 0x5_0000)}`, arch: 'zero', qemu: Buffer.from(pattern(4096).subarray(0, 64)).toString('hex') },
    ],
    async run(m, rec) {
      await primeDevice(m);
      const d = new SmmuDriver(m);
      const pt = await s1Setup(d);
      await pt.map(0n, 0n, 0); // a level-0 "block" mapping IOVA [0, 512 GiB) to PA 0
      await deviceWrite(d, rec, 'level-0 block', BigInt(D + 0x5_0000), D + 0x5_0000);
    },
  },
  {
    name: 'invalid CD (V=0) gives C_BAD_CD; CD with EPD0=1 gives F_TRANSLATION',
    async run(m, rec) {
      await primeDevice(m);
      const d = new SmmuDriver(m);
      const pt = await s1Setup(d, 16, { v: false });
      await pt.map(0x1000n, BigInt(D));
      await deviceWrite(d, rec, 'CD.V=0', 0x1000n, D);
      await d.writeCd(CD0, cdWords({ ttb0: pt.root, epd0: true }));
      await d.commands([['CFGI_CD', { SID: EDU_SID }]]);
      await deviceWrite(d, rec, 'CD.EPD0=1', 0x1000n, D);
    },
  },
  {
    name: 'permission: a read-only page faults on write (F_PERMISSION) and reads fine',
    async run(m, rec) {
      await primeDevice(m);
      const d = new SmmuDriver(m);
      const pt = await s1Setup(d);
      await pt.map(0x20_0000n, BigInt(D + 0xa000), 3, { readOnly: true });
      await pt.map(0x30_0000n, BigInt(D + 0xb000));
      await deviceWrite(d, rec, 'write to read-only page', 0x20_0100n, D + 0xa100);
      await m.writeBytes(D + 0xa200, pattern(64, 0x77));
      await deviceRead(d, rec, 'read of read-only page', 0x20_0200n, 64, 0x800);
      await deviceWrite(d, rec, 'its data, written back', 0x30_0000n, D + 0xb000, 64, 0x800);
    },
  },
  {
    name: 'AF=0 and AP[1]=0 leaves: F_ACCESS and F_PERMISSION architecturally',
    departures: [
      { id: 'access-flag-ignored', label: 'AF=0: events', arch: [fault('F_ACCESS', 0x40_0040n, false)], qemu: [] },
      { id: 'access-flag-ignored', label: `AF=0: memory at PA ${hex(D + 0xc040)}`, arch: 'zero', qemu: Buffer.from(pattern(4096).subarray(0, 64)).toString('hex') },
      { id: 'ap1-ignored', label: 'AP[1]=0: events', arch: [fault('F_PERMISSION', 0x50_0040n, false)], qemu: [] },
      { id: 'ap1-ignored', label: `AP[1]=0: memory at PA ${hex(D + 0xd040)}`, arch: 'zero', qemu: Buffer.from(pattern(4096).subarray(0, 64)).toString('hex') },
    ],
    async run(m, rec) {
      await primeDevice(m);
      const d = new SmmuDriver(m);
      const pt = await s1Setup(d);
      await pt.map(0x40_0000n, BigInt(D + 0xc000), 3, { af: false });
      await pt.map(0x50_0000n, BigInt(D + 0xd000), 3, { unpriv: false });
      await deviceWrite(d, rec, 'AF=0', 0x40_0040n, D + 0xc040);
      await deviceWrite(d, rec, 'AP[1]=0', 0x50_0040n, D + 0xd040);
    },
  },
  {
    name: 'IOVA >= 2^48 with T0SZ=16: F_TRANSLATION architecturally',
    departures: [{ id: 'iova-above-48-bits', label: 'IOVA 2^48+0x1000: events', arch: [fault('F_TRANSLATION', (1n << 48n) + 0x1000n, false)], qemu: [] }],
    async run(m, rec) {
      await primeDevice(m);
      const d = new SmmuDriver(m);
      await s1Setup(d);
      await deviceWrite(d, rec, 'IOVA 2^48+0x1000', (1n << 48n) + 0x1000n, D + 0xe000);
    },
  },
  {
    name: 'stale IOTLB entries are used until TLBI_NH_VA / TLBI_NH_ASID',
    async run(m, rec) {
      await primeDevice(m);
      const d = new SmmuDriver(m);
      const pt = await s1Setup(d);
      const A = D + 0x1_0000;
      const B = D + 0x1_1000;
      await pt.map(0x9000n, BigInt(A));
      await deviceWrite(d, rec, 'first use (fills the TLB)', 0x9000n, A, 32, 0);
      await pt.map(0x9000n, BigInt(B)); // remap without invalidation
      await deviceWrite(d, rec, 'after remap, no TLBI: old PA A', 0x9020n, A + 0x20, 32, 0x20);
      rec.mem('after remap, no TLBI: nothing at B', await m.readBytes(B, 0x40));
      await d.commands([['TLBI_NH_VA', { ASID: 1, VA: 0x9000n >> 12n }]]);
      await deviceWrite(d, rec, 'after TLBI_NH_VA: new PA B', 0x9040n, B + 0x40, 32, 0x40);
      await pt.unmap(0x9000n);
      await deviceWrite(d, rec, 'after unmap, no TLBI: still B', 0x9060n, B + 0x60, 32, 0x60);
      await d.commands([['TLBI_NH_ASID', { ASID: 1 }]]);
      await deviceWrite(d, rec, 'after TLBI_NH_ASID: fault', 0x9080n, B + 0x80, 32, 0x80);
    },
  },
  {
    name: 'range TLBI (RIL): TLBI_NH_VA with NUM/SCALE invalidates exactly its range',
    async run(m, rec) {
      await primeDevice(m);
      const d = new SmmuDriver(m);
      const pt = await s1Setup(d);
      const base = 0x10_0000n;
      const A = D + 0x2_0000;
      const B = D + 0x3_0000;
      for (let i = 0; i < 8; i++) await pt.map(base + BigInt(i) * 0x1000n, BigInt(A + i * 0x1000));
      for (let i = 0; i < 8; i++) await deviceWrite(d, rec, `page ${i} first use`, base + BigInt(i) * 0x1000n, A + i * 0x1000, 16, i * 16);
      for (let i = 0; i < 8; i++) await pt.map(base + BigInt(i) * 0x1000n, BigInt(B + i * 0x1000));
      // TG=1 (4 KiB), SCALE=0, NUM=3: (NUM+1) x 2^SCALE = 4 pages from page 2 (IHI 0070 §4.4.1.1).
      await d.commands([['TLBI_NH_VA', { ASID: 1, TG: 1, SCALE: 0, NUM: 3, TTL: 3, VA: (base + 0x2000n) >> 12n }]]);
      for (let i = 0; i < 8; i++) {
        await m.eduDma('to-ram', base + BigInt(i) * 0x1000n + 0x100n, 16, 0x200 + i * 16);
        rec.events(`page ${i} after range TLBI: events`, await d.events());
        rec.mem(`page ${i} after range TLBI: old PA`, await m.readBytes(A + i * 0x1000 + 0x100, 16));
        rec.mem(`page ${i} after range TLBI: new PA`, await m.readBytes(B + i * 0x1000 + 0x100, 16));
      }
    },
  },
  {
    name: 'TLBI_NH_VAA, TLBI_NH_ALL, TLBI_NSNH_ALL and CFGI_CD_ALL each end the staleness they cover',
    async run(m, rec) {
      await primeDevice(m);
      const d = new SmmuDriver(m);
      const pt = await s1Setup(d);
      const iova = 0x77_0000n;
      const pa = (k: number): number => D + 0x7_0000 + k * 0x1000;
      const steps: ReadonlyArray<readonly [string, Parameters<SmmuDriver['commands']>[0]]> = [
        ['TLBI_NH_VAA', [['TLBI_NH_VAA', { VA: iova >> 12n }]]],
        ['TLBI_NH_ALL', [['TLBI_NH_ALL', {}]]],
        ['TLBI_NSNH_ALL', [['TLBI_NSNH_ALL', {}]]],
      ];
      await pt.map(iova, BigInt(pa(0)));
      await deviceWrite(d, rec, 'first use', iova, pa(0), 16, 0);
      for (const [k, [name, cmds]] of steps.entries()) {
        await pt.map(iova, BigInt(pa(k + 1)));
        await deviceWrite(d, rec, `remapped, before ${name}: stale`, iova + 0x10n, pa(k) + 0x10, 16, 0x10);
        await d.commands(cmds);
        await deviceWrite(d, rec, `after ${name}: new PA`, iova + 0x20n, pa(k + 1) + 0x20, 16, 0x20);
      }
      const pt2 = new PageTables(m, d.ptAlloc, 16);
      await pt2.map(iova, BigInt(pa(6)));
      await d.writeCd(CD0, cdWords({ ttb0: pt2.root, asid: 3 }));
      await deviceWrite(d, rec, 'new CD, before CFGI_CD_ALL: old tables', iova + 0x30n, pa(3) + 0x30, 16, 0x30);
      await d.commands([['CFGI_CD_ALL', { SID: EDU_SID }]]);
      await deviceWrite(d, rec, 'after CFGI_CD_ALL: new tables', iova + 0x40n, pa(6) + 0x40, 16, 0x40);
    },
  },
  {
    name: 'CD.R=0: translation and permission faults abort without an event',
    async run(m, rec) {
      await primeDevice(m);
      const d = new SmmuDriver(m);
      const pt = await s1Setup(d, 16, { r: false });
      await pt.map(0x5000n, BigInt(D + 0x8_0000), 3, { readOnly: true });
      await deviceWrite(d, rec, 'R=0, unmapped IOVA', 0x9_9000n, D + 0x8_1000);
      await deviceWrite(d, rec, 'R=0, read-only page', 0x5000n, D + 0x8_0000);
    },
  },
  {
    name: 'configuration cache: STE and CD changes apply only after CFGI_STE / CFGI_CD / CFGI_ALL',
    async run(m, rec) {
      await primeDevice(m);
      const d = new SmmuDriver(m);
      const pt = await s1Setup(d);
      await pt.map(BigInt(D + 0x4_0000), BigInt(D + 0x5_0000));
      await deviceWrite(d, rec, 'S1 STE', BigInt(D + 0x4_0000), D + 0x5_0000, 32, 0);
      await d.writeSte(EDU_SID, STE_BYPASS());
      await deviceWrite(d, rec, 'bypass STE written, no CFGI: still S1', BigInt(D + 0x4_0020), D + 0x5_0020, 32, 0x20);
      await d.commands([['CFGI_STE', { SID: EDU_SID }]]);
      await deviceWrite(d, rec, 'after CFGI_STE: bypass', BigInt(D + 0x4_0040), D + 0x4_0040, 32, 0x40);
      await d.writeSte(EDU_SID, STE_S1(CD0));
      await d.commands([['CFGI_STE_RANGE', { SID: 0, RANGE: 31 }]]); // CFGI_ALL
      await deviceWrite(d, rec, 'after CFGI_ALL: S1 again', BigInt(D + 0x4_0060), D + 0x5_0060, 32, 0x60);
      const pt2 = new PageTables(m, d.ptAlloc, 16);
      await pt2.map(BigInt(D + 0x4_0000), BigInt(D + 0x6_0000));
      await d.writeCd(CD0, cdWords({ ttb0: pt2.root, asid: 2 }));
      await deviceWrite(d, rec, 'new CD, no CFGI_CD: old tables', BigInt(D + 0x4_0080), D + 0x5_0080, 32, 0x80);
      await d.commands([['CFGI_CD', { SID: EDU_SID }]]);
      await deviceWrite(d, rec, 'after CFGI_CD: new tables', BigInt(D + 0x4_00a0), D + 0x6_00a0, 32, 0xa0);
    },
  },
];

