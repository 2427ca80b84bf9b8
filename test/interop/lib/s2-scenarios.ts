// Stage-2 and nested differential scenarios (QEMU 10.0 implements both; 7.2 neither): stage-2-only
// STEs over 4/16/64 KiB granules with concatenated start tables, S2AP, the stage-2 access flag and
// STE.S2R; nested STEs whose CD and stage-1 tables live at IPAs stage 2 translates, with faults of
// CLASS CD, TT and IN; VMID-tagged and range invalidation (TLBI_S2_IPA, TLBI_S12_VMALL,
// TLBI_NH_VA with VMID, CFGI_STE with a new VMID). IHI 0070 §3.4, §5.2, §4.4, §7.3.
import type { Scenario } from './differential.js';
import { EDU_SID, type Machine } from './machine.js';
import type { Ev } from './observe.js';
import { S2Tables, STE_NESTED, STE_S2 } from './s2-tables.js';
import { deviceRead, deviceWrite, pattern, primeDevice } from './scenario-helpers.js';
import { cdWords, LAYOUT, PageTables, SmmuDriver } from './smmu-driver.js';
import type { Recorder } from './observe.js';

const D = LAYOUT.data;
const hex = (n: number | bigint): string => '0x' + n.toString(16);
const ONLY_10: Scenario['peers'] = ['qemu-10.0'];
/** Hex of edu's buffer bytes [off, off + len) as primeDevice loaded them (what an uncorrupted write lands). */
const bufHex = (off: number, len: number): string => Buffer.from(pattern(4096).subarray(off, off + len)).toString('hex');

/** A stage-2 fault record our model must write for edu's unprivileged data access (§7.3: S2 = 1, IPA of the fault). */
export function s2Fault(type: string, input: bigint, ipa: bigint, read: boolean, cls: 'CD' | 'TT' | 'IN'): Ev {
  return { type, sid: EDU_SID, ssv: false, ssid: 0, rnw: read, pnu: false, ind: false, s2: true, cls: { CD: 0, TT: 1, IN: 2 }[cls], inputAddr: hex(input), ipa: hex(ipa & ~0xfffn), fetchAddr: '0x0' };
}

/** Enables the SMMU (linear stream table) and installs a stage-2-only STE for edu. */
async function s2Setup(m: Machine, d: SmmuDriver, ia: number, granule: 12 | 14 | 16, level: number, vmid = 1): Promise<S2Tables> {
  await d.enable({ fmt: 'linear', log2size: 8 });
  const s2 = new S2Tables(m, d.ptAlloc, ia, granule, level);
  await d.writeSte(EDU_SID, STE_S2(s2, { vmid }));
  return s2;
}

/**
 * Nested layout: stage-1 tables are allocated at IPAs from NEST.s1Ipa, which stage 2 maps (one
 * 2 MiB block) to PA NEST.s1Pa; the CD is at IPA NEST.cdIpa (a 4 KiB stage-2 page onto
 * LAYOUT.cds). Data IPAs live from NEST.dataIpa up, outside RAM, so only stage 2 makes them reach it.
 * Every IPA is below 2^39, i.e. in the first of the two concatenated level-1 tables (the second is
 * covered by the stage-2-only scenarios, where QEMU 10.0 departs).
 */
export const NEST = Object.freeze({
  s1Ipa: 0x50_0000_0000,
  s1Pa: LAYOUT.pageTables + 0x20_0000,
  cdIpa: 0x50_0020_0000,
  dataIpa: 0x60_0000_0000n,
  vmid: 5,
  asid: 1,
});

export interface Nested {
  readonly s1: PageTables;
  readonly s2: S2Tables;
}

/** Enables the SMMU and installs a nested STE for edu (4 KiB granules, T0SZ = 25 / 40-bit IPA). */
export async function nestedSetup(m: Machine, d: SmmuDriver, opts: { cdIpa?: number; t0sz?: number; ia?: number } = {}): Promise<Nested> {
  await d.enable({ fmt: 'linear', log2size: 8 });
  const s2 = new S2Tables(m, d.ptAlloc, opts.ia ?? 40, 12, 1);
  await s2.map(BigInt(NEST.s1Ipa), BigInt(NEST.s1Pa), 2);
  await s2.map(BigInt(NEST.cdIpa), BigInt(LAYOUT.cds));
  const t0sz = opts.t0sz ?? 25;
  const s1 = new PageTables(m, { next: NEST.s1Ipa }, t0sz, 12, (ipa) => ipa - NEST.s1Ipa + NEST.s1Pa);
  await d.writeCd(LAYOUT.cds, cdWords({ ttb0: s1.root, t0sz, asid: NEST.asid }));
  await d.writeSte(EDU_SID, STE_NESTED(opts.cdIpa ?? NEST.cdIpa, s2, { vmid: NEST.vmid }));
  await d.commands([['CFGI_STE_RANGE', { SID: 0, RANGE: 31 }], ['TLBI_NSNH_ALL', {}]]);
  return { s1, s2 };
}

async function dmaAndRecord(d: SmmuDriver, rec: Recorder, label: string, iova: bigint, pas: readonly number[], len = 16, bufOff = 0): Promise<void> {
  await d.m.eduDma('to-ram', iova, len, bufOff);
  rec.events(`${label}: events`, await d.events());
  for (const [i, pa] of pas.entries()) rec.mem(`${label}: memory at candidate PA ${i}`, await d.m.readBytes(pa, len));
}

export const S2_SCENARIOS: readonly Scenario[] = [
  {
    name: 'stage 2 only, 4K granule, 40-bit IPA from level 1 (2 concatenated tables): pages, 2 MiB and 1 GiB blocks; unmapped IPAs fault with S2 = 1',
    peers: ONLY_10,
    departures: [
      { id: 's2-concat-first-table-only', label: 'page in the second start table: events', arch: [], qemu: [s2Fault('F_TRANSLATION', 0x80_1234_5080n, 0x80_1234_5080n, false, 'IN')] },
      { id: 's2-concat-first-table-only', label: `page in the second start table: memory at PA ${hex(D + 0x4080)}`, arch: bufHex(0x10, 64), qemu: 'zero' },
    ],
    async run(m, rec) {
      await primeDevice(m);
      const d = new SmmuDriver(m);
      const s2 = await s2Setup(m, d, 40, 12, 1);
      await s2.map(0x80_1234_5000n, BigInt(D + 0x4000)); // level-1 index 512: the second concatenated table
      await s2.map(0x12_3440_0000n, BigInt(D + 0x20_0000), 2);
      await s2.map(0x40_0000_0000n, 0x4000_0000n, 1);
      await m.writeBytes(D + 0x4800, pattern(64, 0x21));
      await deviceRead(d, rec, '2 MiB block read', 0x12_3440_0000n + 0x800n, 64, 0x800);
      await m.writeBytes(D + 0x20_0800, pattern(64, 0x21));
      await deviceRead(d, rec, '2 MiB block read', 0x12_3440_0800n, 64, 0x800);
      await deviceWrite(d, rec, '2 MiB block write back', 0x12_3441_2340n, D + 0x21_2340, 64, 0x800);
      await deviceWrite(d, rec, '1 GiB block', 0x40_0000_0000n + BigInt(D - 0x4000_0000 + 0x3_0100), D + 0x3_0100);
      await deviceWrite(d, rec, 'unmapped IPA write', 0x55_0000_1000n, D + 0x5000);
      await deviceRead(d, rec, 'unmapped IPA read', 0x80_1234_6010n, 32, 0xc00);
      await deviceWrite(d, rec, 'page in the second start table', 0x80_1234_5080n, D + 0x4080, 64, 0x10);
      await deviceWrite(d, rec, 'IPA beyond S2T0SZ (2^40 + 0x1000)', (1n << 40n) + 0x1000n, D + 0x6000);
    },
  },
  {
    name: 'stage 2 only, 16K granule (38-bit IPA, level 2: 4 concatenated tables) and 64K granule (44-bit IPA, level 2: 4 tables; 512 MiB block)',
    peers: ONLY_10,
    departures: [
      { id: 's2-concat-first-table-only', label: '16K 32 MiB block: events', arch: [], qemu: [s2Fault('F_TRANSLATION', 0x20_0212_3450n, 0x20_0212_3450n, false, 'IN')] },
      { id: 's2-concat-first-table-only', label: `16K 32 MiB block: memory at PA 0x42123450`, arch: bufHex(0, 64), qemu: 'zero' },
      { id: 's2-concat-first-table-only', label: '64K 512 MiB block: events', arch: [], qemu: [s2Fault('F_TRANSLATION', 0x800_0112_0000n, 0x800_0112_0000n, false, 'IN')] },
      { id: 's2-concat-first-table-only', label: `64K 512 MiB block: memory at PA ${hex(D + 0x12_0000)}`, arch: bufHex(0, 64), qemu: 'zero' },
    ],
    async run(m, rec) {
      await primeDevice(m);
      const d = new SmmuDriver(m);
      const s16 = await s2Setup(m, d, 38, 14, 2);
      await s16.map(0x8_1234_4000n, BigInt(D + 0x8000)); // first of the 4 concatenated tables
      await s16.map(0x20_0200_0000n, 0x4200_0000n, 2); // 32 MiB block, third table
      await deviceWrite(d, rec, '16K page', 0x8_1234_6010n, D + 0xa010);
      await deviceWrite(d, rec, '16K unmapped', 0x8_1234_8000n, D + 0xc000);
      await deviceWrite(d, rec, '16K 32 MiB block', 0x20_0212_3450n, 0x4212_3450);
      const s64 = new S2Tables(m, d.ptAlloc, 44, 16, 2);
      await d.writeSte(EDU_SID, STE_S2(s64, { vmid: 2 }));
      await d.commands([['CFGI_STE', { SID: EDU_SID }]]);
      await s64.map(0x100_1234_0000n, BigInt(D + 0x10_0000)); // first of the 4 tables
      await s64.map(0x800_0000_0000n, 0x4000_0000n, 2); // 512 MiB block, third table
      await deviceWrite(d, rec, '64K page', 0x100_1234_8010n, D + 0x10_8010);
      await deviceWrite(d, rec, '64K 512 MiB block', 0x800_0000_0000n + BigInt(D - 0x4000_0000 + 0x12_0000), D + 0x12_0000);
      await deviceWrite(d, rec, '64K unmapped', 0x100_1235_0000n, D + 0x13_0000);
    },
  },
  {
    name: 'stage 2 permissions and flags: S2AP read-only / write-only / none, AF = 0 with S2AFFD 0 and 1, S2R = 0',
    peers: ONLY_10,
    departures: [
      { id: 'tlb-hit-read-unchecked', label: 'read of S2AP=W after a write used it: events', arch: [s2Fault('F_PERMISSION', 0x2080n, 0x2080n, true, 'IN')], qemu: [] },
    ],
    async run(m, rec) {
      await primeDevice(m);
      const d = new SmmuDriver(m);
      const s2 = await s2Setup(m, d, 40, 12, 1);
      await s2.map(0x1000n, BigInt(D + 0x1000), 3, { s2ap: 1 });
      await s2.map(0x2000n, BigInt(D + 0x2000), 3, { s2ap: 2 });
      await s2.map(0x3000n, BigInt(D + 0x3000), 3, { s2ap: 0 });
      await s2.map(0x4000n, BigInt(D + 0x4000), 3, { af: false });
      await deviceWrite(d, rec, 'write to S2AP=R', 0x1040n, D + 0x1040);
      await deviceRead(d, rec, 'read of S2AP=R', 0x1040n);
      await deviceRead(d, rec, 'read of S2AP=W (first access)', 0x2040n);
      await deviceWrite(d, rec, 'write to S2AP=W', 0x2040n, D + 0x2040, 32, 0x800);
      await deviceRead(d, rec, 'read of S2AP=W after a write used it', 0x2080n);
      await deviceWrite(d, rec, 'write to S2AP=none', 0x3040n, D + 0x3040);
      await deviceRead(d, rec, 'read of S2AP=none', 0x3040n);
      await deviceWrite(d, rec, 'AF=0, S2AFFD=0', 0x4040n, D + 0x4040);
      await d.writeSte(EDU_SID, STE_S2(s2, { vmid: 1, affd: true }));
      await d.commands([['CFGI_STE', { SID: EDU_SID }]]);
      await deviceWrite(d, rec, 'AF=0, S2AFFD=1', 0x4080n, D + 0x4080);
      await d.writeSte(EDU_SID, STE_S2(s2, { vmid: 1, record: false }));
      await d.commands([['CFGI_STE', { SID: EDU_SID }, ], ['TLBI_S12_VMALL', { VMID: 1 }]]);
      await deviceWrite(d, rec, 'S2R=0: unmapped IPA', 0x9000n, D + 0x9000);
      await deviceWrite(d, rec, 'S2R=0: write to S2AP=R', 0x10c0n, D + 0x10c0);
    },
  },
  {
    name: 'nested: CD and stage-1 tables at IPAs translated by stage 2; stage-1 pages and a 2 MiB block over stage-2 pages',
    peers: ONLY_10,
    async run(m, rec) {
      await primeDevice(m);
      const d = new SmmuDriver(m);
      const { s1, s2 } = await nestedSetup(m, d);
      await s1.map(0x1000_0000n, NEST.dataIpa);
      await s2.map(NEST.dataIpa, BigInt(D + 0x2_0000));
      await deviceWrite(d, rec, 'S1 page -> S2 page', 0x1000_0080n, D + 0x2_0080, 64, 0x20);
      await s1.map(0x2000_0000n, NEST.dataIpa + 0x20_0000n, 2);
      await s2.map(NEST.dataIpa + 0x20_0000n + 0x3000n, BigInt(D + 0x3_0000));
      await deviceWrite(d, rec, 'S1 2 MiB block -> S2 page', 0x2000_3100n, D + 0x3_0100);
      await deviceWrite(d, rec, 'S1 block, IPA not mapped at S2 (CLASS IN)', 0x2000_4100n, D + 0x3_1100);
      await s1.map(0x1000_1000n, NEST.dataIpa + 0x1000n, 3, { readOnly: true });
      await s2.map(NEST.dataIpa + 0x1000n, BigInt(D + 0x2_1000));
      await deviceWrite(d, rec, 'S1 read-only, S2 read-write: S1 permission fault', 0x1000_1010n, D + 0x2_1010);
      await s1.map(0x1000_2000n, NEST.dataIpa + 0x2000n);
      await s2.map(NEST.dataIpa + 0x2000n, BigInt(D + 0x2_2000), 3, { s2ap: 1 });
      await deviceWrite(d, rec, 'S1 read-write, S2 read-only: S2 permission fault', 0x1000_2010n, D + 0x2_2010);
      await deviceWrite(d, rec, 'IOVA not mapped at S1', 0x1000_3010n, D + 0x2_3010);
    },
  },
  {
    name: 'nested: faults during the stage-2 translation of the CD fetch (CLASS CD) and of a stage-1 table walk (CLASS TT)',
    peers: ONLY_10,
    departures: [
      { id: 's2-cd-fetch-rnw', label: 'CD IPA unmapped at S2: events', arch: [s2Fault('F_TRANSLATION', 0x1000_0040n, 0x58_0000_0000n, false, 'CD')], qemu: [{ ...s2Fault('F_TRANSLATION', 0x1000_0040n, 0x58_0000_0000n, false, 'CD'), rnw: true }] },
      { id: 'tt-fault-as-stage-1', label: 'S1 table at an IPA unmapped at S2: events', arch: [s2Fault('F_TRANSLATION', 0x4000_0040n, 0x68_0000_0000n, false, 'TT')], qemu: [{ ...s2Fault('F_TRANSLATION', 0x4000_0040n, 0x68_0000_0000n, false, 'TT'), s2: false }] },
      {
        id: 'tt-fault-as-stage-1',
        label: 'S1 table on a write-only S2 page: events',
        arch: [{ ...s2Fault('F_PERMISSION', 0x4000_0080n, 0x68_0000_0000n, false, 'TT'), ttrnw: true }],
        qemu: [{ ...s2Fault('F_PERMISSION', 0x4000_0080n, 0x68_0000_0000n, false, 'TT'), s2: false }],
      },
    ],
    async run(m, rec) {
      await primeDevice(m);
      const d = new SmmuDriver(m);
      // CD at an IPA stage 2 does not map.
      const n0 = await nestedSetup(m, d, { cdIpa: 0x58_0000_0000 });
      await n0.s1.map(0x1000_0000n, NEST.dataIpa);
      await n0.s2.map(NEST.dataIpa, BigInt(D + 0x4_0000));
      await deviceWrite(d, rec, 'CD IPA unmapped at S2', 0x1000_0040n, D + 0x4_0040);
      // A stage-1 level-2 table descriptor pointing at an IPA stage 2 does not map.
      const { s1, s2 } = await nestedSetup(m, d);
      await s1.map(0x1000_0000n, NEST.dataIpa);
      await s2.map(NEST.dataIpa, BigInt(D + 0x4_0000));
      await deviceWrite(d, rec, 'walk fine', 0x1000_0040n, D + 0x4_0040);
      await s1.setDescriptor(0x4000_0000n, 2, 0x68_0000_0000n | 3n);
      await deviceWrite(d, rec, 'S1 table at an IPA unmapped at S2', 0x4000_0040n, D + 0x4_1040);
      // The same table IPA mapped write-only at stage 2: the walk's read is denied (F_PERMISSION, CLASS TT).
      await s2.map(0x68_0000_0000n, BigInt(LAYOUT.pageTables + 0x1f_f000), 3, { s2ap: 2 });
      await m.writeBytes(LAYOUT.pageTables + 0x1f_f000, new Uint8Array(4096));
      await deviceWrite(d, rec, 'S1 table on a write-only S2 page', 0x4000_0080n, D + 0x4_1080);
    },
  },
  {
    name: 'VMID-tagged invalidation: TLBI_S2_IPA and TLBI_S12_VMALL of another VMID leave stale entries, of the STE VMID remove them; CFGI_STE moves to a new VMID',
    peers: ONLY_10,
    async run(m, rec) {
      await primeDevice(m);
      const d = new SmmuDriver(m);
      const s2 = await s2Setup(m, d, 40, 12, 1, 1);
      const ipa = 0x7_7000n;
      const pa = (k: number): number => D + 0x5_0000 + k * 0x1000;
      const all = [0, 1, 2, 3, 4].map(pa);
      await s2.map(ipa, BigInt(pa(0)));
      await dmaAndRecord(d, rec, 'first use', ipa, all, 16, 0);
      await s2.map(ipa, BigInt(pa(1)));
      await dmaAndRecord(d, rec, 'remapped, no TLBI', ipa + 0x10n, all.map((x) => x + 0x10), 16, 0x10);
      await d.commands([['TLBI_S2_IPA', { VMID: 2, IPA: ipa >> 12n }]]);
      await dmaAndRecord(d, rec, 'after TLBI_S2_IPA VMID 2', ipa + 0x20n, all.map((x) => x + 0x20), 16, 0x20);
      await d.commands([['TLBI_S2_IPA', { VMID: 1, IPA: ipa >> 12n }]]);
      await dmaAndRecord(d, rec, 'after TLBI_S2_IPA VMID 1', ipa + 0x30n, all.map((x) => x + 0x30), 16, 0x30);
      await s2.map(ipa, BigInt(pa(2)));
      await d.commands([['TLBI_S12_VMALL', { VMID: 2 }]]);
      await dmaAndRecord(d, rec, 'remapped, after TLBI_S12_VMALL VMID 2', ipa + 0x40n, all.map((x) => x + 0x40), 16, 0x40);
      await d.commands([['TLBI_S12_VMALL', { VMID: 1 }]]);
      await dmaAndRecord(d, rec, 'after TLBI_S12_VMALL VMID 1', ipa + 0x50n, all.map((x) => x + 0x50), 16, 0x50);
      await s2.map(ipa, BigInt(pa(3)));
      await d.writeSte(EDU_SID, STE_S2(s2, { vmid: 3 }));
      await dmaAndRecord(d, rec, 'STE VMID 3 written, no CFGI', ipa + 0x60n, all.map((x) => x + 0x60), 16, 0x60);
      await d.commands([['CFGI_STE', { SID: EDU_SID }]]);
      await dmaAndRecord(d, rec, 'after CFGI_STE: VMID 3', ipa + 0x70n, all.map((x) => x + 0x70), 16, 0x70);
      await s2.map(ipa, BigInt(pa(4)));
      await d.commands([['TLBI_S12_VMALL', { VMID: 1 }]]);
      await dmaAndRecord(d, rec, 'remapped, after TLBI_S12_VMALL of the old VMID 1', ipa + 0x80n, all.map((x) => x + 0x80), 16, 0x80);
      await d.commands([['TLBI_S2_IPA', { VMID: 3, IPA: ipa >> 12n }]]);
      await dmaAndRecord(d, rec, 'after TLBI_S2_IPA VMID 3', ipa + 0x90n, all.map((x) => x + 0x90), 16, 0x90);
    },
  },
  {
    name: 'range TLBI_S2_IPA (TG/NUM/SCALE/TTL) invalidates exactly its stage-2 pages',
    peers: ONLY_10,
    async run(m, rec) {
      await primeDevice(m);
      const d = new SmmuDriver(m);
      const s2 = await s2Setup(m, d, 40, 12, 1, 4);
      const base = 0x10_0000n;
      const A = D + 0x6_0000;
      const B = D + 0x7_0000;
      for (let i = 0; i < 8; i++) await s2.map(base + BigInt(i) * 0x1000n, BigInt(A + i * 0x1000));
      for (let i = 0; i < 8; i++) await deviceWrite(d, rec, `page ${i} first use`, base + BigInt(i) * 0x1000n, A + i * 0x1000, 16, i * 16);
      for (let i = 0; i < 8; i++) await s2.map(base + BigInt(i) * 0x1000n, BigInt(B + i * 0x1000));
      // TG = 4 KiB, SCALE = 1, NUM = 1: (NUM + 1) << SCALE = 4 pages from page 3 (IHI 0070 §4.4.1.1).
      await d.commands([['TLBI_S2_IPA', { VMID: 4, TG: 1, SCALE: 1, NUM: 1, TTL: 3, IPA: (base + 0x3000n) >> 12n }]]);
      for (let i = 0; i < 8; i++) {
        await m.eduDma('to-ram', base + BigInt(i) * 0x1000n + 0x100n, 16, 0x200 + i * 16);
        rec.events(`page ${i} after range TLBI_S2_IPA: events`, await d.events());
        rec.mem(`page ${i} after range TLBI_S2_IPA: old PA`, await m.readBytes(A + i * 0x1000 + 0x100, 16));
        rec.mem(`page ${i} after range TLBI_S2_IPA: new PA`, await m.readBytes(B + i * 0x1000 + 0x100, 16));
      }
    },
  },
  {
    name: 'nested invalidation: range TLBI_NH_VA with the STE VMID, then TLBI_S12_VMALL after a stage-2 change',
    peers: ONLY_10,
    async run(m, rec) {
      await primeDevice(m);
      const d = new SmmuDriver(m);
      const { s1, s2 } = await nestedSetup(m, d);
      const base = 0x3000_0000n;
      const ipaA = NEST.dataIpa;
      const ipaB = NEST.dataIpa + 0x10_0000n;
      const A = D + 0x8_0000;
      const B = D + 0x9_0000;
      for (let i = 0; i < 8; i++) {
        await s2.map(ipaA + BigInt(i) * 0x1000n, BigInt(A + i * 0x1000));
        await s2.map(ipaB + BigInt(i) * 0x1000n, BigInt(B + i * 0x1000));
        await s1.map(base + BigInt(i) * 0x1000n, ipaA + BigInt(i) * 0x1000n);
      }
      for (let i = 0; i < 8; i++) await deviceWrite(d, rec, `page ${i} first use`, base + BigInt(i) * 0x1000n, A + i * 0x1000, 16, i * 16);
      for (let i = 0; i < 8; i++) await s1.map(base + BigInt(i) * 0x1000n, ipaB + BigInt(i) * 0x1000n);
      await d.commands([['TLBI_NH_VA', { VMID: NEST.vmid, ASID: NEST.asid, TG: 1, SCALE: 0, NUM: 2, TTL: 3, VA: (base + 0x2000n) >> 12n }]]);
      for (let i = 0; i < 8; i++) {
        await m.eduDma('to-ram', base + BigInt(i) * 0x1000n + 0x100n, 16, 0x200 + i * 16);
        rec.events(`page ${i} after range TLBI_NH_VA: events`, await d.events());
        rec.mem(`page ${i} after range TLBI_NH_VA: old PA`, await m.readBytes(A + i * 0x1000 + 0x100, 16));
        rec.mem(`page ${i} after range TLBI_NH_VA: new PA`, await m.readBytes(B + i * 0x1000 + 0x100, 16));
      }
      // Stage 2 moves IPA B's page 3 to A's page 3; S2 TLBI plus TLBI_S12_VMALL (what Linux issues) makes it visible.
      await s2.map(ipaB + 0x3000n, BigInt(A + 0x3000));
      await d.commands([['TLBI_S2_IPA', { VMID: NEST.vmid, IPA: (ipaB + 0x3000n) >> 12n }], ['TLBI_S12_VMALL', { VMID: NEST.vmid }]]);
      await dmaAndRecord(d, rec, 'after the stage-2 change and TLBI_S12_VMALL', base + 0x3200n, [A + 0x3200, B + 0x3200], 16, 0x300);
    },
  },
];
