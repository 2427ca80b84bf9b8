// Guest-program fuzzer. Two kinds of runs, each seeded and deterministic:
//
// - `runDmaFuzz`: a guest that keeps an SMMUv3 (one of several feature profiles) busy the way a
//   driver does — maps and unmaps 4K pages of two streams in its own stage-1 tables, invalidates
//   with commands (plus random extra invalidation commands), and devices DMA through the streams.
//   Oracles: no exception; no register access above the work bound; every DMA lands exactly where
//   an independent model of the page tables says (the walker below reads the tables the fuzzer
//   wrote; it shares nothing with the translation engine) or faults when the model says so; a
//   stream never changes the other stream's memory; a snapshot taken at a random point and
//   restored into a fresh device replays the rest of the program with identical results.
// - `runChaosFuzz`: random MMIO reads and writes to every register window of a platform (SMMUs,
//   ITS, GIC distributor and redistributors or a GICv2m frame, ECAM) with values biased towards
//   guest RAM, random guest memory under the queues and tables they point at, device MSIs and DMA.
//   Oracles: no exception and no register access above the work bound (commands consumed, LPIs
//   visited, DMA bytes moved per access), with service() driven as a VMM would.
import { GuestMemory } from '../../src/memory/guest-memory.js';
import type { DmaFault, U64 } from '../../src/memory/types.js';
import { SmmuV3 } from '../../src/smmu/device/smmu-v3.js';
import { CMDQ_SLICE } from '../../src/smmu/device/command-queue.js';
import { DEFAULT_FEATURES, QEMU_7_2_FEATURES, type SmmuFeatures } from '../../src/smmu/features.js';
import { encodeCommand } from '../../src/spec/smmuv3/commands.js';
import { REG } from '../../src/spec/smmuv3/registers.js';
import { GITS } from '../../src/spec/gic/its-registers.js';
import { GICR } from '../../src/spec/gic/redistributor-registers.js';
import { ITS_SLICE } from '../../src/intc/its.js';
import { LPI_SLICE } from '../../src/intc/redistributor.js';
import type { LpiSink } from '../../src/intc/sinks.js';
import { Platform } from '../../src/platform/runtime/platform.js';
import { deviceFactory } from '../../src/platform/devices/factory.js';
import { DMA_ENGINE_SLICE, type DmaEngine } from '../../src/platform/devices/dma-engine.js';
import { QDEV_SLICE_BYTES, QDEV_SLICE_ENTRIES } from '../../src/platform/devices/queue-device.js';
import type { PlatformDescription } from '../../src/platform/description.js';
import { DomainBuilder, PTE_RO, PTE_RW } from '../smmu/linux-domain.js';
import { Rng } from './rng.js';

/** Every feature the SMMU model implements, at the largest sizes. */
export const MAXIMAL_FEATURES: SmmuFeatures = Object.freeze({
  ...DEFAULT_FEATURES,
  ats: true,
  pri: true,
  hyp: true,
  btm: true,
  vax: true,
  stallModel: 'stall',
  stallMax: 64,
  ssidBits: 20,
  cmdqLog2: 19,
  eventqLog2: 19,
  priqLog2: 19,
  oasBits: 52,
} satisfies SmmuFeatures);

export const DMA_PROFILES: Readonly<Record<string, SmmuFeatures>> = Object.freeze({
  default: DEFAULT_FEATURES,
  'qemu-7.2': QEMU_7_2_FEATURES,
  maximal: MAXIMAL_FEATURES,
});

export class FuzzFinding extends Error {
  override readonly name = 'FuzzFinding';
}

function check(cond: boolean, what: string): void {
  if (!cond) throw new FuzzFinding(what);
}

// ---------------------------------------------------------------- independent stage-1 model

const RAM = 0x4000_0000;
const RAM_SIZE = 0x100_0000; // 16 MiB
const TABLES = RAM + 0x10_0000; // page tables, CDs, stream table, queues
const REGION_PAGES = 32;
/** Each stream's data pages: only its own mappings point there. */
const REGION = [RAM + 0x80_0000, RAM + 0xa0_0000];
const SIDS = [1, 2];
const ASIDS = [5, 6];
const CMDQ_LOG2 = 8;

/**
 * Walks a 4-level, 4K-granule stage-1 table (T0SZ 16) the fuzzer wrote: returns the PA of `iova`
 * and whether a write is allowed, or null when the walk faults. Reads the descriptors from guest
 * memory; knows only the descriptor bits the fuzzer writes (valid, table, AF, AP[2]).
 */
export function modelWalk(mem: GuestMemory, pgd: number, iova: number, out: { pa: number; writable: boolean }): boolean {
  const u: U64 = { lo: 0, hi: 0 };
  if (iova >= 2 ** 48) return false;
  let table = pgd;
  for (let level = 0; level <= 3; level++) {
    const idx = Math.floor(iova / 2 ** (39 - 9 * level)) % 512;
    if (!mem.read64(table + idx * 8, u)) return false;
    if ((u.lo & 1) === 0) return false;
    const addrFull = (u.hi & 0xffff) * 0x1_0000_0000 + ((u.lo & 0xffff_f000) >>> 0);
    if (level < 3) {
      if ((u.lo & 2) === 0) return false; // the fuzzer writes no blocks
      table = addrFull;
      continue;
    }
    if ((u.lo & 2) === 0) return false;
    if ((u.lo & (1 << 10)) === 0) return false; // AF = 0
    out.pa = addrFull + (iova % 4096);
    out.writable = (u.lo & (1 << 7)) === 0; // AP[2] = 0
    return true;
  }
  return false;
}

// ---------------------------------------------------------------- the DMA rig

/** Guest-side state of the DMA program (cloned with a snapshot). */
interface GuestSide {
  prod: number;
  pgd: number[];
}

interface DmaRig {
  mem: GuestMemory;
  ramBytes: Uint8Array;
  smmu: SmmuV3;
  g: GuestSide;
  builder: DomainBuilder;
}

function newRig(features: SmmuFeatures, ram?: Uint8Array): { mem: GuestMemory; ramBytes: Uint8Array; smmu: SmmuV3 } {
  const mem = new GuestMemory();
  const ramBytes = mem.addRam(RAM, ram ? ram.slice() : RAM_SIZE);
  const smmu = new SmmuV3(mem, { features });
  return { mem, ramBytes, smmu };
}

function setupDmaRig(features: SmmuFeatures): DmaRig {
  const { mem, ramBytes, smmu } = newRig(features);
  const b = new DomainBuilder(mem, TABLES, REGION[0]! - TABLES);
  const st = b.linearStreamTable(4);
  const cmdq = b.alloc(16 << CMDQ_LOG2, 16 << CMDQ_LOG2);
  const evtq = b.alloc(32 << 6, 32 << 6);
  const pgd = SIDS.map((sid, i) => {
    const p = b.newPgd();
    b.attachS1(st.base, sid, ASIDS[i]!, p);
    return p;
  });
  smmu.write64(REG.STRTAB_BASE, Number(st.strtabBase & 0xffff_ffffn), Number(st.strtabBase >> 32n));
  smmu.write(REG.STRTAB_BASE_CFG, 4, st.strtabBaseCfg);
  smmu.write64(REG.CMDQ_BASE, cmdq | CMDQ_LOG2, 0x4000_0000); // RA
  smmu.write64(REG.EVENTQ_BASE, evtq | 6, 0x4000_0000);
  smmu.write(REG.CR0, 4, 0xd); // SMMUEN | EVENTQEN | CMDQEN
  // Every table the program can need is allocated now (map, then unmap, each page), so later maps
  // only write leaves and a replay needs no allocator state.
  for (let s = 0; s < 2; s++) {
    for (let page = 0; page < 16; page++) {
      b.map4k(pgd[s]!, iovaOf(page), REGION[s]!, PTE_RW);
      b.unmap4k(pgd[s]!, iovaOf(page));
    }
  }
  const rig: DmaRig = { mem, ramBytes, smmu, g: { prod: 0, pgd }, builder: b };
  submit(rig, [encodeCommand('CFGI_STE_RANGE', { RANGE: 31 }), encodeCommand('SYNC', {})]);
  return rig;
}

/** Writes commands at PROD and rings the doorbell, as a driver does; recovers from CMDQ_ERR the way Linux does. */
function submit(r: DmaRig, cmds: bigint[][]): void {
  const smmu = r.smmu;
  const cmdqBase = Number(smmu.register('CMDQ_BASE') & 0x000f_ffff_ffff_ffe0n);
  const size = 1 << CMDQ_LOG2;
  for (const c of cmds) {
    // Wait for room (a full queue): the device consumes as it is serviced.
    let guard = 0;
    while ((((r.g.prod - (smmu.read(REG.CMDQ_CONS, 4) & 0x1ff)) & 0x1ff) >>> 0) >= size) {
      if (!serviceSmmu(r)) recoverCmdq(r);
      check(++guard < 10_000, 'command queue never drains');
    }
    const at = cmdqBase + (r.g.prod & (size - 1)) * 16;
    r.mem.write64(at, Number(c[0]! & 0xffff_ffffn), Number(c[0]! >> 32n));
    r.mem.write64(at + 8, Number(c[1]! & 0xffff_ffffn), Number(c[1]! >> 32n));
    r.g.prod = (r.g.prod + 1) & 0x1ff;
  }
  ring(r, () => smmu.write(REG.CMDQ_PROD, 4, r.g.prod));
  let guard = 0;
  while (serviceSmmu(r) || recoverCmdq(r)) check(++guard < 100_000, 'command queue never completes');
}

/** One register access with the work-bound oracle (commands consumed by this access). */
function ring(r: DmaRig, access: () => void): void {
  const s = r.smmu.cmdq.stats;
  const before = s.executed + s.errors;
  access();
  check(s.executed + s.errors - before <= CMDQ_SLICE, `one SMMU register access consumed ${s.executed + s.errors - before} commands`);
}

function serviceSmmu(r: DmaRig): boolean {
  let more = false;
  ring(r, () => (more = r.smmu.service()));
  return more;
}

/** CMDQ_ERR: replace the faulting command with a CMD_SYNC and acknowledge (Linux's recovery). Returns whether it acted. */
function recoverCmdq(r: DmaRig): boolean {
  const smmu = r.smmu;
  if (!smmu.cmdqErrorActive()) return false;
  const cons = smmu.read(REG.CMDQ_CONS, 4) & ((1 << CMDQ_LOG2) - 1);
  const cmdqBase = Number(smmu.register('CMDQ_BASE') & 0x000f_ffff_ffff_ffe0n);
  const sync = encodeCommand('SYNC', {});
  r.mem.write64(cmdqBase + cons * 16, Number(sync[0]! & 0xffff_ffffn), Number(sync[0]! >> 32n));
  r.mem.write64(cmdqBase + cons * 16 + 8, 0, 0);
  ring(r, () => smmu.write(REG.GERRORN, 4, smmu.read(REG.GERROR, 4)));
  return true;
}

type DmaOp =
  | { k: 'map'; s: number; page: number; frame: number; ro: boolean }
  | { k: 'unmap'; s: number; page: number }
  | { k: 'write'; s: number; page: number; off: number; data: Uint8Array }
  | { k: 'read'; s: number; page: number; off: number; len: number }
  | { k: 'junk'; cmds: bigint[][] };

/** IOVA page numbers the program uses: spread over every table level. */
function iovaOf(page: number): number {
  // 16 pages per stream, spread so that they share some tables and not others.
  const hi = [0, 1, 0x1ff, 0x3_fe00][page & 3]!; // 1 GiB units: level-0 indexes 0 and 511 both used
  return (hi * 512 * 512 + (page >> 2) * 513) * 4096;
}

function genOps(rng: Rng, n: number): DmaOp[] {
  const ops: DmaOp[] = [];
  const junkOps = ['TLBI_NH_ALL', 'TLBI_NSNH_ALL', 'CFGI_STE_RANGE', 'CFGI_STE', 'PREFETCH_CONFIG', 'SYNC'] as const;
  for (let i = 0; i < n; i++) {
    const s = rng.int(2);
    const page = rng.int(16);
    const p = rng.int(100);
    if (p < 25) ops.push({ k: 'map', s, page, frame: rng.int(REGION_PAGES), ro: rng.bool(0.25) });
    else if (p < 35) ops.push({ k: 'unmap', s, page });
    else if (p < 70) {
      const off = rng.int(4096);
      ops.push({ k: 'write', s, page, off, data: rng.bytes(1 + rng.int(Math.min(64, 4096 - off))) });
    } else if (p < 92) {
      const off = rng.int(4096);
      ops.push({ k: 'read', s, page, off, len: 1 + rng.int(Math.min(64, 4096 - off)) });
    } else {
      const cmds: bigint[][] = [];
      for (let j = 1 + rng.int(4); j > 0; j--) {
        // Random invalidations and raw random commands (most are ILLEGAL: CMDQ_ERR recovery).
        if (rng.bool(0.6)) cmds.push(encodeCommand(rng.pick(junkOps), {}));
        else {
          // Raw words; a CMD_SYNC among them must not write an MSI into the program's tables
          // (that would be the guest corrupting its own tables without invalidation).
          let w0 = BigInt(rng.u32()) | (BigInt(rng.u32()) << 32n);
          if ((w0 & 0xffn) === 0x46n) w0 &= ~(3n << 12n); // CS = SIG_NONE
          cmds.push([w0, BigInt(rng.u32()) | (BigInt(rng.u32()) << 32n)]);
        }
      }
      ops.push({ k: 'junk', cmds });
    }
  }
  return ops;
}

function fnv(bytes: Uint8Array, start: number, len: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < start + len; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}

/** Runs one op; returns its observable result (compared in the replay). */
function runOp(r: DmaRig, op: DmaOp): string {
  const w = { pa: 0, writable: false };
  switch (op.k) {
    case 'map':
    case 'unmap': {
      const iova = iovaOf(op.page);
      if (op.k === 'map') r.builder.map4k(r.g.pgd[op.s]!, iova, REGION[op.s]! + op.frame * 4096, op.ro ? PTE_RO : PTE_RW);
      else r.builder.unmap4k(r.g.pgd[op.s]!, iova);
      submit(r, [encodeCommand('TLBI_NH_VA', { ASID: ASIDS[op.s]!, VA: BigInt(iova) >> 12n }), encodeCommand('SYNC', {})]);
      return op.k;
    }
    case 'junk':
      submit(r, op.cmds);
      return 'junk';
    case 'write':
    case 'read': {
      const iova = iovaOf(op.page) + op.off;
      const other = 1 - op.s;
      const otherOff = REGION[other]! - RAM;
      const otherHash = fnv(r.ramBytes, otherOff, REGION_PAGES * 4096);
      const mapped = modelWalk(r.mem, r.g.pgd[op.s]!, iova, w);
      const port = r.smmu.dma(SIDS[op.s]!, null);
      let f: DmaFault | null;
      let result: string;
      if (op.k === 'write') {
        f = port.write(iova, op.data);
        const ok = mapped && w.writable;
        check((f === null) === ok, `DMA write ${op.s}@0x${iova.toString(16)}: device says ${f?.reason ?? 'ok'}, model says ${ok ? 'ok' : 'fault'} (CR0 0x${r.smmu.read(REG.CR0, 4).toString(16)} GBPA 0x${r.smmu.read(REG.GBPA, 4).toString(16)})`);
        if (ok) {
          const got = new Uint8Array(op.data.length);
          r.mem.readBytes(w.pa, got);
          check(got.every((b, i) => b === op.data[i]), `DMA write ${op.s}@0x${iova.toString(16)} did not land at PA 0x${w.pa.toString(16)}`);
        }
        result = f === null ? 'w-ok' : `w-${f.reason}`;
      } else {
        const buf = new Uint8Array(op.len);
        f = port.read(iova, buf);
        check((f === null) === mapped, `DMA read ${op.s}@0x${iova.toString(16)}: device says ${f?.reason ?? 'ok'}, model says ${mapped ? 'ok' : 'fault'}`);
        if (mapped) {
          const want = new Uint8Array(op.len);
          r.mem.readBytes(w.pa, want);
          check(want.every((b, i) => b === buf[i]), `DMA read ${op.s}@0x${iova.toString(16)} did not come from PA 0x${w.pa.toString(16)}`);
        }
        result = f === null ? `r-${fnv(buf, 0, buf.length)}` : `r-${f.reason}`;
      }
      check(fnv(r.ramBytes, otherOff, REGION_PAGES * 4096) === otherHash, `stream ${op.s} changed stream ${other}'s memory`);
      return result;
    }
  }
}

export interface DmaFuzzResult {
  readonly ops: number;
  readonly dmaOk: number;
  readonly dmaFaults: number;
  readonly replayedFrom: number;
}

/** Runs `n` ops of a seeded DMA program on `profile`, then replays its tail from a snapshot. */
export function runDmaFuzz(profile: string, seed: number, n: number): DmaFuzzResult {
  const features = DMA_PROFILES[profile];
  if (!features) throw new RangeError(`unknown profile ${profile}`);
  const rng = new Rng(seed);
  const ops = genOps(rng, n);
  const cut = rng.int(n + 1);
  const r = setupDmaRig(features);
  const results: string[] = [];
  let snap: { state: string; ram: Uint8Array; g: GuestSide } | null = null;
  let dmaOk = 0;
  let dmaFaults = 0;
  for (let i = 0; i < ops.length; i++) {
    if (i === cut) snap = { state: JSON.stringify(r.smmu.saveState()), ram: r.ramBytes.slice(), g: structuredClone(r.g) };
    const res = runOp(r, ops[i]!);
    if (res === 'w-ok' || res.startsWith('r-') && !res.startsWith('r-F') && !res.startsWith('r-a')) dmaOk++;
    else if (res.startsWith('w-') || res.startsWith('r-')) dmaFaults++;
    results.push(res);
  }
  if (snap === null) snap = { state: JSON.stringify(r.smmu.saveState()), ram: r.ramBytes.slice(), g: structuredClone(r.g) };
  // Replay: a fresh device restored from the snapshot, over a copy of the memory at that point.
  const fresh = newRig(features, snap.ram);
  fresh.smmu.restoreState(JSON.parse(snap.state));
  // Tables are all allocated at setup: the replay's builder only rewrites leaves.
  const r2: DmaRig = { ...fresh, g: snap.g, builder: new DomainBuilder(fresh.mem, REGION[0]!, 0) };
  for (let i = cut; i < ops.length; i++) {
    const res = runOp(r2, ops[i]!);
    check(res === results[i], `replay after restore differs at op ${i}: ${res} vs ${results[i]}`);
  }
  check(fnv(r2.ramBytes, 0, RAM_SIZE) === fnv(r.ramBytes, 0, RAM_SIZE), 'replay after restore ends with different memory');
  return { ops: n, dmaOk, dmaFaults, replayedFrom: cut };
}

// ---------------------------------------------------------------- chaos over a platform

class CountingSink implements LpiSink {
  calls = 0;
  lpiPending(): void {
    this.calls++;
  }
  lpiCleared(): void {
    this.calls++;
  }
}

export interface ChaosResult {
  readonly ops: number;
  readonly accesses: number;
  readonly worstCommands: number;
  readonly worstLpis: number;
  readonly worstDmaBytes: number;
}

const SMMU_OFFSETS = Object.values(REG);
const ITS_OFFSETS = [GITS.CTLR, GITS.CBASER, GITS.CBASER + 4, GITS.CWRITER, GITS.CREADR, GITS.BASER0, GITS.BASER0 + 4, GITS.BASER0 + 8, GITS.BASER0 + 12, GITS.TRANSLATER];
const GICR_OFFSETS = [GICR.CTLR, GICR.WAKER, GICR.PROPBASER, GICR.PROPBASER + 4, GICR.PENDBASER, GICR.PENDBASER + 4, GICR.SETLPIR, GICR.CLRLPIR, GICR.INVLPIR, GICR.INVALLR, GICR.SYNCR];

/**
 * Random guest activity over `desc`'s platform: `n` operations. `models` names endpoint device
 * models (e.g. a DMA engine) by endpoint name.
 */
export function runChaosFuzz(desc: PlatformDescription, seed: number, n: number, models: Record<string, 'dma-engine' | 'queue'> = {}): ChaosResult {
  const rng = new Rng(seed);
  const sink = new CountingSink();
  const factory = deviceFactory(models);
  const p = new Platform(desc, { callbacks: { lpi: sink }, endpoint: factory.endpoint });
  const ram = desc.memory[0]!;
  const ramPtr = (): number => ram.base + rng.int(Math.min(ram.size, 0x100_0000) / 4096) * 4096;
  // Windows: [base, offsets]
  const windows: { base: number; offsets: readonly number[]; size: number }[] = [];
  for (const s of desc.smmus) windows.push({ base: s.base, offsets: SMMU_OFFSETS, size: 0x2_0000 });
  if (desc.gic.its) windows.push({ base: desc.gic.its.base, offsets: ITS_OFFSETS, size: 0x2_0000 });
  const rd = desc.gic.redistributors[0];
  if (rd) windows.push({ base: rd.base, offsets: GICR_OFFSETS, size: 0x2_0000 });
  windows.push({ base: desc.gic.distributor.base, offsets: [0, 4, 8], size: 0x1_0000 });
  if (desc.gic.v2m) windows.push({ base: desc.gic.v2m.base, offsets: [0x8, 0x40, 0xfcc], size: 0x1000 });
  for (const rc of desc.rootComplexes) windows.push({ base: rc.ecam.base, offsets: [0, 4, 0x10, 0x3c, 0x8004], size: 0x10_0000 });
  const smmus = [...p.smmus.values()];
  const engines = [...factory.models.dmaEngines.values()];
  const queues = [...factory.models.queues.values()];
  let worstCommands = 0;
  let worstLpis = 0;
  let worstDmaBytes = 0;
  let accesses = 0;
  const u: U64 = { lo: 0, hi: 0 };
  // One access (or one service() round) with the work-bound oracles.
  const bounded = (what: string, f: () => void): void => {
    const cmds = smmus.map((s) => s.cmdq.stats.executed + s.cmdq.stats.errors);
    const lpis = sink.calls;
    f();
    accesses++;
    smmus.forEach((s, i) => {
      const d = s.cmdq.stats.executed + s.cmdq.stats.errors - cmds[i]!;
      worstCommands = Math.max(worstCommands, d);
      check(d <= CMDQ_SLICE, `${what}: ${d} SMMU commands in one access`);
    });
    if (p.its) {
      worstCommands = Math.max(worstCommands, p.its.lastSliceCommands);
      check(p.its.lastSliceCommands <= ITS_SLICE, `${what}: ${p.its.lastSliceCommands} ITS commands in one access`);
    }
    const l = sink.calls - lpis;
    worstLpis = Math.max(worstLpis, l);
    // An ITS slice may spend LPI_SLICE inline plus the GIC's own slice; a step may finish its item.
    check(l <= 2 * LPI_SLICE + 64, `${what}: ${l} LPIs visited in one access`);
    for (const e of engines) {
      worstDmaBytes = Math.max(worstDmaBytes, e.lastSliceBytes);
      check(e.lastSliceBytes <= DMA_ENGINE_SLICE, `${what}: ${e.lastSliceBytes} DMA bytes in one access`);
    }
    for (const q of queues) {
      worstDmaBytes = Math.max(worstDmaBytes, q.lastSlice.bytes);
      check(q.lastSlice.bytes <= QDEV_SLICE_BYTES && q.lastSlice.entries <= QDEV_SLICE_ENTRIES, `${what}: queue device moved ${q.lastSlice.bytes} bytes / ${q.lastSlice.entries} entries in one access`);
    }
  };
  const value = (): number => {
    const k = rng.int(10);
    if (k < 3) return ramPtr() | rng.int(0x100);
    if (k < 5) return rng.int(0x100);
    if (k < 6) return 0xffff_ffff;
    return rng.u32();
  };
  const fillPattern = (at: number, bytes: number, entry: number, words: () => bigint[]): void => {
    const buf = new Uint8Array(bytes);
    const dv = new DataView(buf.buffer);
    const w = words();
    for (let o = 0; o + entry <= bytes; o += entry) w.forEach((v, j) => dv.setBigUint64(o + j * 8, v, true));
    p.memory.writeBytes(at, buf);
  };
  const itsCmds = [0x0dn, 0x05n, 0x0en, 0x03n, 0x0cn, 0x08n, 0x09n]; // INVALL SYNC MOVALL INT INV MAPD MAPC
  // Guest-maximal setups: queues as large as the device allows, full LPI pending tables.
  const recipes: (() => void)[] = [
    () => {
      const s = rng.pick(desc.smmus);
      const log2 = rng.int(20);
      const base = ram.base + 0x100_0000 + rng.int(8) * 0x80_0000;
      fillPattern(base, Math.min(16 << log2, 0x80_0000), 16, () => [rng.bool(0.7) ? BigInt(rng.pick([0x30, 0x10, 0x46, 0x01, 0x04])) : BigInt(rng.u32()), 0n]);
      bounded('smmu CMDQ_BASE', () => p.bus.write64(s.base + REG.CMDQ_BASE, (base | log2) >>> 0, 0));
      bounded('smmu CR0', () => p.bus.write(s.base + REG.CR0, 4, rng.bool(0.8) ? 0xd : rng.u32()));
      bounded('smmu CMDQ_PROD', () => p.bus.write(s.base + REG.CMDQ_PROD, 4, rng.u32() & 0xf_ffff));
    },
    () => {
      const its = desc.gic.its;
      if (!its) return;
      const q = ram.base + 0x100_0000 + rng.int(8) * 0x10_0000;
      fillPattern(q, 0x10_0000, 32, () => [rng.pick(itsCmds) | (BigInt(rng.int(4)) << 32n), 0n, BigInt(rng.int(4)) << 16n | BigInt(rng.int(4)), 0n]);
      bounded('its CTLR', () => p.bus.write(its.base + GITS.CTLR, 4, 0));
      bounded('its CBASER', () => p.bus.write64(its.base + GITS.CBASER, (q | 0xff) >>> 0, 0xb800_0000));
      bounded('its BASER1', () => p.bus.write64(its.base + GITS.BASER0 + 8, (ram.base + 0x90_0000) >>> 0, 0xbc07_0000));
      bounded('its CTLR', () => p.bus.write(its.base + GITS.CTLR, 4, 1));
      bounded('its CWRITER', () => p.bus.write(its.base + GITS.CWRITER, 4, (rng.int(0x8000) * 32) >>> 0));
    },
    () => {
      const r0 = desc.gic.redistributors[0];
      if (!r0) return;
      const pe = rng.int(desc.cpus.count);
      const rdb = r0.base + pe * 0x2_0000;
      const pend = ram.base + 0x60_0000 + pe * 0x1_0000;
      p.memory.writeBytes(ram.base + 0x40_0000, new Uint8Array(0x1_0000).fill(rng.bool() ? 0xa3 : 0xa2));
      p.memory.writeBytes(pend, new Uint8Array(0x2000).fill(0xff));
      bounded('gicr CTLR', () => p.bus.write(rdb + GICR.CTLR, 4, 0));
      bounded('gicr PROPBASER', () => p.bus.write64(rdb + GICR.PROPBASER, (ram.base + 0x40_0000) | 0x78f, 0));
      bounded('gicr PENDBASER', () => p.bus.write64(rdb + GICR.PENDBASER, pend | 0x780, 0));
      bounded('gicr CTLR', () => p.bus.write(rdb + GICR.CTLR, 4, 1));
    },
    () => {
      if (engines.length === 0) return;
      const e = rng.pick(engines);
      e.fn.config.guestWrite(0x04, 2, 0x6); // memory space + bus master
      // SMMUs off with GBPA bypass, so the 16 MiB transfer runs (in slices) rather than faulting.
      for (const s of desc.smmus) {
        bounded('smmu CR0', () => p.bus.write(s.base + REG.CR0, 4, 0));
        bounded('smmu GBPA', () => p.bus.write(s.base + REG.GBPA, 4, 0x8000_0000));
      }
      bounded('dma-engine', () => {
        e.write(0, 0x08, 4, ram.base);
        e.write(0, 0x10, 4, ram.base + 0x100_0000);
        e.write(0, 0x18, 4, 0x100_0000);
        e.write(0, 0x20, 4, 1 + rng.int(2));
      });
    },
  ];
  for (let i = 0; i < n; i++) {
    const k = rng.int(100);
    if (k < 4) rng.pick(recipes)();
    else if (k < 45) {
      const w = rng.pick(windows);
      const off = rng.bool(0.85) ? rng.pick(w.offsets) : rng.int(w.size) & ~3;
      const addr = w.base + off;
      if (rng.bool(0.7)) {
        if (rng.bool(0.3)) bounded(`write64 0x${addr.toString(16)}`, () => p.bus.write64(addr, value(), rng.bool(0.8) ? 0 : rng.u32()));
        else bounded(`write 0x${addr.toString(16)}`, () => p.bus.write(addr, 4, value()));
      } else if (rng.bool(0.5)) bounded(`read 0x${addr.toString(16)}`, () => p.bus.read(addr, 4));
      else bounded(`read64 0x${addr.toString(16)}`, () => p.bus.read64(addr, u));
    } else if (k < 60) {
      // Guest memory: random bytes, or a whole page of 0xff / one repeated command-like pattern.
      const at = ramPtr();
      const r = rng.int(3);
      p.memory.writeBytes(at, r === 0 ? rng.bytes(64 + rng.int(4032)) : new Uint8Array(4096).fill(r === 1 ? 0xff : rng.int(256)));
    } else if (k < 70) {
      // A device MSI through the ITS (random DeviceID / EventID) or the platform's MSI routing.
      if (p.its) bounded('msi', () => p.its!.signalMsi(rng.int(0x1_0000), rng.int(64)));
      else bounded('msi', () => p.msi.msiWrite(value(), rng.int(1024), rng.int(0x1_0000)));
    } else if (k < 80) {
      // DMA by a random stream.
      if (smmus.length > 0) {
        const s = rng.pick(smmus);
        const buf = new Uint8Array(1 + rng.int(256));
        const iova = rng.bool(0.5) ? ramPtr() : rng.int(2 ** 40);
        bounded('dma', () => void (rng.bool(0.5) ? s.dma(rng.int(64)).write(iova, buf) : s.dma(rng.int(64)).read(iova, buf)));
      }
    } else if (k < 85 && engines.length > 0) {
      const e = rng.pick(engines);
      bounded('dma-engine', () => {
        e.write(0, 0x08, 4, ramPtr());
        e.write(0, 0x10, 4, ramPtr());
        e.write(0, 0x18, 4, rng.int(0x100_0001));
        e.write(0, 0x20, 4, 1 + rng.int(2));
      });
    } else {
      // The VMM's service step: each device's service() is one bounded step.
      for (const d of p.serviceables()) bounded('service', () => void d.service());
    }
  }
  // Quiescence is reachable and bounded per step.
  for (let k = 0; k < 100_000; k++) {
    let more = false;
    for (const d of p.serviceables()) bounded('settle', () => (more = d.service() || more));
    if (!more) break;
  }
  return { ops: n, accesses, worstCommands, worstLpis, worstDmaBytes };
}

export type { DmaEngine };
