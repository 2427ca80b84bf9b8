// `npm run bench [-- --json]`: SMMUv3 fast-path benchmarks. Each workload is printed with a
// baseline measured in the same process on the same workload, and the ratio (workload ns/op ÷
// baseline ns/op): CPU time, median of interleaved repetitions (measure.ts), plus bytes allocated
// per operation. No timing is asserted anywhere.
//
// Workload (as a C reference of the same operations uses): 65,536 mapped 4 KiB pages at random
// IOVAs in a 1 TiB range, each on a random page frame, Linux io-pgtable leaf descriptors, one
// stream with a stage-1 CD; lookups at random pages and random offsets in the page.
//   iotlb-hit     warm IOTLB                           baseline: one probe in a typed-array hash
//   iotlb-hit-dma the same hits through the DMA shortcut (Translator.lookupData: PA only)
//                                                       baseline: one probe in a typed-array hash
//   iotlb-miss    IOTLB of 16 entries: every lookup walks 4 levels and refills
//                                                       baseline: minimal 4-level walk over the same RAM
//   walk          caches disabled (configuration re-read and re-used when unchanged, 4-level walk)
//                                                       baseline: minimal 4-level walk
//   dma-4k        4 KiB page-aligned writes through the DMA port, warm   baseline: raw 4 KiB copy
//   dma-4k-walk   the same with caches disabled                          baseline: raw 4 KiB copy
//   dma-sg-64k    vectored writes of 16 random pages (64 KiB) per call   baseline: 16 raw 4 KiB copies
//   scale/*       iotlb-hit and walk with 1 / 256 / 65,536 streams (page p used by stream p % streams)
//                 and with 1K / 32K / 1M pages (dense layout: random pages within 4x their count);
//                 walk and iotlb-miss with 1K pages too: tables in the CPU's caches, what a walk
//                 costs in work alone
//   flat/*        iotlb-hit, iotlb-hit-dma and walk (caches disabled) with 65,536 streams
//                                                       baseline: the same workload with 1 stream
//   stage2/*      iotlb-hit, iotlb-hit-dma and dma-4k with a stage-2-only stream (the IOTLB keyed by IPA)
//   floor/*       the least a correct IOTLB hit does (baselines.ts MinimalSmmuHit: stream state,
//                 range check, tagged probe, permission check, as one function) against the
//                 typed-array probe and the raw copy (minimal-smmu-hit, minimal-smmu-dma-4k), and
//                 the model's iotlb-hit-dma and dma-4k against it: what correctness costs, and how
//                 close the model comes to that. The same for a walk (MinimalSmmuWalk: with caches
//                 disabled the STE and CD re-read and compared, then a 4-level walk with the
//                 architecture's checks) against the minimal walk (minimal-smmu-walk), its checked
//                 walk alone, the least of an IOTLB miss (minimal-checked-walk), and the model's
//                 walk against it; and both minimal functions with 65,536 streams against 1 (flat-*)
//   ram64g/*      iotlb-hit, iotlb-miss, walk and dma-4k with the guest RAM at 64 GiB (every PA above
//                 2^32)                                baseline: the same workload with RAM at 1 GiB
//   serial/*      walk, iotlb-miss, iotlb-hit and iotlb-hit-dma, workload and baseline alike with
//                 each lookup's address depending on the result before it (measure.ts `serial`):
//                 latency against latency. The other rows let the CPU overlap independent lookups,
//                 which it does for as many as its instruction window holds: several of a baseline's
//                 few dozen instructions, fewer of a full translation.
// Each workload runs in a process of its own (this script re-runs itself with `--child NAME`), so
// that no workload's objects shape the optimised code another workload is measured with.
// `--runs N` runs each workload's process N times and reports the run with the median ratio, with
// the smallest and largest ratio of the N (on a shared machine the ratio moves between processes
// more than within one).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { MinimalSmmuHit, MinimalSmmuWalk, MinimalTlb, minimalWalk } from './baselines.js';
import { buildFixture, rng, type Fixture } from './fixture.js';
import { pair, type Workload } from './measure.js';
import { newRequest, newResult } from '../src/smmu/translation/types.js';
import { DmaSegments } from '../src/memory/dma-segments.js';
import type { SmmuDmaPort } from '../src/smmu/device/dma-port.js';

interface Result {
  name: string;
  opsPerSec: number;
  nsPerOp: number;
  baseline: string;
  baselineNsPerOp: number;
  ratio: number;
  bytesPerOp: number;
  /** Processes the workload ran in (`--runs`), and the smallest and largest ratio among them. */
  runs: number;
  ratioMin: number;
  ratioMax: number;
}

const JSON_OUT = process.argv.includes('--json');
const QUICK = process.argv.includes('--quick');
function argAfter(flag: string): string | null {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? (process.argv[i + 1] ?? '') : null;
}
/** `--only SUBSTRING`: run only the workloads whose name contains it. */
const ONLY = argAfter('--only') ?? '';
/** `--child NAME`: run exactly that workload here and print its result as one JSON line. */
const CHILD = argAfter('--child');
const RUNS_ARG = argAfter('--runs');
const RUNS = RUNS_ARG === null ? 1 : Number(RUNS_ARG);
if (!(Number.isSafeInteger(RUNS) && RUNS >= 1 && RUNS <= 99)) {
  process.stderr.write(`bench: --runs wants a whole number from 1 to 99, not ${JSON.stringify(RUNS_ARG)}\n`);
  process.exit(2);
}
const wanted = (name: string): boolean => (CHILD === null ? name.includes(ONLY) : name === CHILD);
const SEQ = 1 << 20;
const MASK = SEQ - 1;
const results: Result[] = [];

function report(name: string, w: Workload, baseline: string, b: Workload): void {
  const [m, mb] = pair(w, b, QUICK ? { reps: 3, repNs: 10_000_000, warmNs: 30_000_000 } : {});
  const bytes = m.bytesPerOp;
  const ratio = +(m.nsPerOp / mb.nsPerOp).toFixed(2);
  const r: Result = {
    name,
    opsPerSec: Math.round(1e9 / m.nsPerOp),
    nsPerOp: +m.nsPerOp.toFixed(1),
    baseline,
    baselineNsPerOp: +mb.nsPerOp.toFixed(1),
    ratio,
    bytesPerOp: +bytes.toFixed(2),
    runs: 1,
    ratioMin: ratio,
    ratioMax: ratio,
  };
  results.push(r);
}

function print(r: Result): void {
  process.stdout.write(
    `${r.name.padEnd(30)} ${r.nsPerOp.toFixed(1).padStart(8)} ns/op ${(Number.isFinite(r.bytesPerOp) ? r.bytesPerOp.toFixed(1) : '?').padStart(6)} B/op | ` +
      `${r.baseline.padEnd(22)} ${r.baselineNsPerOp.toFixed(1).padStart(8)} ns/op | x${r.ratio}` +
      (r.runs > 1 ? ` (x${r.ratioMin}-x${r.ratioMax} in ${r.runs} runs)` : '') + '\n',
  );
}

/** Random lookups: page indexes, and input addresses at random 8-byte offsets in those pages. */
function lookups(f: Fixture, streams: number, seed: number): { addrs: Float64Array; sids: Uint32Array; pages: Uint32Array } {
  const r = rng(seed);
  const n = f.iovas.length;
  const pages = new Uint32Array(SEQ);
  const addrs = new Float64Array(SEQ);
  const sids = new Uint32Array(SEQ);
  for (let i = 0; i < SEQ; i++) {
    const p = Math.floor(r() * n);
    pages[i] = p;
    addrs[i] = f.iovas[p]! + Math.floor(r() * 512) * 8;
    sids[i] = p % streams; // each page belongs to one stream: the working set does not grow with streams
  }
  return { addrs, sids, pages };
}

function translateWorkload(f: Fixture, addrs: Float64Array, sids: Uint32Array): Workload {
  const ctx = { sink: 0, t: f.smmu.translator, req: newRequest(), res: newResult(), addrs, sids, mask: MASK };
  return {
    ctx,
    body: `const k = i & ctx.mask; const r = ctx.req; const a = ctx.addrs[k];
      r.sid = ctx.sids[k]; r.addrLo = a >>> 0; r.addrHi = (a / 4294967296) >>> 0;
      ctx.t.translate(r, ctx.res); sink += ctx.res.pa;`,
  };
}

/** Checks the workload's first translations against the fixture (a wrong fixture must not be timed). */
function check(f: Fixture, addrs: Float64Array, sids: Uint32Array, pages: Uint32Array): void {
  const req = newRequest();
  const res = newResult();
  for (let k = 0; k < 256; k++) {
    const off = addrs[k]! - f.iovas[pages[k]!]!;
    if (!f.smmu.translator.translateAddress(sids[k]!, null, addrs[k]!, false, res) || res.pa !== f.pas[pages[k]!]! + off) {
      throw new Error(`bench fixture: translation ${k} is wrong`);
    }
  }
  void req;
}

function walkBaseline(f: Fixture, addrs: Float64Array): Workload {
  const words = new Uint32Array(f.ram.buffer, f.ram.byteOffset, f.ram.byteLength >>> 2);
  return { ctx: { sink: 0, walk: minimalWalk, words, base: f.ramBase, pgd: f.pgd, addrs, mask: MASK }, body: `sink += ctx.walk(ctx.words, ctx.base, ctx.pgd, ctx.addrs[i & ctx.mask]);` };
}

function hitBaseline(f: Fixture, addrs: Float64Array): Workload {
  return { ctx: { sink: 0, tlb: new MinimalTlb(f.iovas, f.pas), addrs, mask: MASK }, body: `sink += ctx.tlb.lookup(ctx.addrs[i & ctx.mask]);` };
}

/** Translates every page once through its stream, so that every stream's configuration is warm (the first use of a stream is not what is measured). */
function visitAll(f: Fixture, pages: number, streams: number): void {
  const res = newResult();
  for (let p = 0; p < pages; p++) f.smmu.translator.translateAddress(p % streams, null, f.iovas[p]!, false, res);
}

/** The workload with each operation depending on the one before it (Workload.serial) when `on`. */
function serialIf(on: boolean, w: Workload): Workload {
  return on ? { ...w, serial: true } : w;
}

function walkAndHit(label: string, pages: number, streams: number, layout: 'sparse' | 'dense', which: 'all' | 'walk' | 'hit', serial = false): void {
  if (which !== 'hit' && wanted(label.replace('%', 'walk'))) {
    const f = buildFixture({ pages, streams, layout, cachesEnabled: false });
    const { addrs, sids, pages: pg } = lookups(f, streams, 7);
    check(f, addrs, sids, pg);
    visitAll(f, pages, streams);
    report(label.replace('%', 'walk'), serialIf(serial, translateWorkload(f, addrs, sids)), 'minimal JS walk', serialIf(serial, walkBaseline(f, addrs)));
  }
  if (which === 'all' && wanted(label.replace('%', 'iotlb-miss'))) {
    const f = buildFixture({ pages, streams, layout, cachesEnabled: true, tlbSize: 16 });
    const { addrs, sids, pages: pg } = lookups(f, streams, 7);
    check(f, addrs, sids, pg);
    visitAll(f, pages, streams);
    report(label.replace('%', 'iotlb-miss'), serialIf(serial, translateWorkload(f, addrs, sids)), 'minimal JS walk', serialIf(serial, walkBaseline(f, addrs)));
  }
  if (which !== 'walk' && wanted(label.replace('%', 'iotlb-hit'))) {
    hitRow(label.replace('%', 'iotlb-hit'), buildFixture({ pages, streams, layout, cachesEnabled: true }), streams, serial);
  }
}

/** IOTLB hits through translate on fixture `f` (warmed here), against one probe in a typed-array hash. */
function hitRow(label: string, f: Fixture, streams: number, serial = false): void {
  const { addrs, sids, pages: pg } = lookups(f, streams, 7);
  check(f, addrs, sids, pg);
  visitAll(f, f.iovas.length, streams);
  const w = translateWorkload(f, addrs, sids);
  const before = f.smmu.translator.stats();
  report(label, serialIf(serial, w), 'typed-array hash probe', serialIf(serial, hitBaseline(f, addrs)));
  const after = f.smmu.translator.stats();
  const misses = after.tlbMisses - before.tlbMisses;
  if (misses > (after.tlbHits - before.tlbHits) / 100) process.stderr.write(`warning: ${label}: ${misses} IOTLB misses during the hit benchmark\n`);
}

/** IOTLB hits through Translator.lookupData (what the DMA port asks first), on the iotlb-hit workload. */
function hitDma(label: string, streams: number, serial = false, stage2 = false): void {
  if (!wanted(label)) return;
  const d = dataLookups(streams, stage2);
  report(label, serialIf(serial, d.w), 'typed-array hash probe', serialIf(serial, hitBaseline(d.f, d.addrs)));
}

/** The iotlb-hit-dma workload with `streams` streams (warm IOTLB, lookupData at the lookups' addresses), with its fixture and addresses. */
function dataLookups(streams: number, stage2 = false): { w: Workload; f: Fixture; addrs: Float64Array; los: Int32Array; his: Int32Array } {
  const f = buildFixture({ pages: 65536, streams, layout: 'sparse', cachesEnabled: true, stage2 });
  const { addrs, sids, pages: pg } = lookups(f, streams, 7);
  check(f, addrs, sids, pg);
  visitAll(f, 65536, streams);
  const t = f.smmu.translator;
  const { los, his } = halves(addrs);
  const res = newResult();
  for (let k = 0; k < 256; k++) {
    t.translateAddress(sids[k]!, null, addrs[k]!, false, res);
    if (t.lookupData(sids[k]!, los[k]!, his[k]!, false) !== 12 || t.dataPa !== res.pa) throw new Error(`bench fixture: lookupData ${k} differs from translate`);
  }
  return {
    w: { ctx: { sink: 0, t, los, his, sids, mask: MASK }, body: `const k = i & ctx.mask; if (ctx.t.lookupData(ctx.sids[k], ctx.los[k], ctx.his[k], false) >= 0) sink += ctx.t.dataPa;` },
    f,
    addrs,
    los,
    his,
  };
}

/** The iotlb-hit (caches on, warm) or walk (caches off) workload through translate with `streams` streams. */
function translateWith(streams: number, cachesEnabled: boolean, ramBase?: number, tlbSize?: number): Workload {
  const f = buildFixture({ pages: 65536, streams, layout: 'sparse', cachesEnabled, ...(ramBase === undefined ? {} : { ramBase }), ...(tlbSize === undefined ? {} : { tlbSize }) });
  const { addrs, sids, pages: pg } = lookups(f, streams, 7);
  check(f, addrs, sids, pg);
  visitAll(f, 65536, streams);
  return translateWorkload(f, addrs, sids);
}

/**
 * Flatness: a workload with 65,536 streams against the same workload with one stream, measured
 * interleaved in one process (each page belongs to one stream, so only the per-stream state grows).
 */
function flat(label: string, make: (streams: number) => Workload): void {
  if (!wanted(label)) return;
  report(label, make(65536), 'the same, 1 stream', make(1));
}

/** The dma-4k workload's setup: fixture, DMA port of stream 0, page-aligned IOVAs as int32 halves, and their PAs' offsets in RAM. */
function dmaSetup(cachesEnabled: boolean, stage2 = false, ramBase?: number): { f: Fixture; port: SmmuDmaPort; buf: Uint8Array; los: Int32Array; his: Int32Array; offs: Float64Array } {
  const f = buildFixture({ pages: 65536, streams: 1, layout: 'sparse', cachesEnabled, stage2, ...(ramBase === undefined ? {} : { ramBase }) });
  const { pages } = lookups(f, 1, 13);
  const port = f.smmu.dma(0, null);
  const buf = new Uint8Array(4096).map((_, i) => i & 0xff);
  // IOVAs as int32 halves (SmmuDmaPort.writeAt): numbers outside the int32 range are boxed at a call.
  const los = new Int32Array(SEQ);
  const his = new Int32Array(SEQ);
  const offs = new Float64Array(SEQ);
  for (let i = 0; i < SEQ; i++) {
    los[i] = f.iovas[pages[i]!]! | 0;
    his[i] = Math.floor(f.iovas[pages[i]!]! / 2 ** 32);
    offs[i] = f.pas[pages[i]!]! - f.ramBase;
  }
  for (let i = 0; i < 1024; i++) if (port.writeAt(los[i]!, his[i]!, buf) !== null) throw new Error('bench fixture: DMA failed');
  if (cachesEnabled) for (let p = 0; p < f.iovas.length; p++) port.write(f.iovas[p]!, buf); // every page in the IOTLB
  if (!f.ram.subarray(offs[5]!, offs[5]! + 4096).every((b, i) => b === (i & 0xff))) throw new Error('bench fixture: DMA landed elsewhere');
  return { f, port, buf, los, his, offs };
}

const DMA_BODY = `const k = i & ctx.mask; if (ctx.port.writeAt(ctx.los[k], ctx.his[k], ctx.buf) !== null) sink++;`;
const COPY_BODY = `ctx.ram.set(ctx.buf, ctx.offs[i & ctx.mask]);`;

function dma(label: string, cachesEnabled: boolean, stage2 = false): void {
  if (!wanted(label)) return;
  const { f, port, buf, los, his, offs } = dmaSetup(cachesEnabled, stage2);
  report(label, { ctx: { sink: 0, port, buf, los, his, mask: MASK }, body: DMA_BODY }, 'raw 4 KiB copy', { ctx: { sink: 0, ram: f.ram, buf, offs, mask: MASK }, body: COPY_BODY });
}

/** The dma-4k workload (DMA_BODY) on a fixture with its RAM at `ramBase`. */
function dmaWith(ramBase?: number): Workload {
  const { port, buf, los, his } = dmaSetup(true, false, ramBase);
  return { ctx: { sink: 0, port, buf, los, his, mask: MASK }, body: DMA_BODY };
}

/** MinimalSmmuHit over the fixture's pages (each page's stream as the fixture assigns it), checked against the fixture. */
function minimalSmmu(f: Fixture, streams: number): MinimalSmmuHit {
  const m = new MinimalSmmuHit(streams, f.iovas, f.pas, (p) => p % streams);
  for (let p = 0; p < 256; p++) {
    if (m.lookup(p % streams, f.iovas[p]! | 0, Math.floor(f.iovas[p]! / 2 ** 32), true) !== 12 || m.pa !== f.pas[p]!) throw new Error(`bench fixture: minimal SMMU hit ${p} is wrong`);
  }
  return m;
}

/** floor/*: the least a correct hit does (MinimalSmmuHit) against the baselines of the other rows, and the model against it. */
function floorRow(label: string): void {
  if (!wanted(label)) return;
  if (label.endsWith('dma-4k')) {
    const { f, port, buf, los, his, offs } = dmaSetup(true);
    const m = minimalSmmu(f, 1);
    const minimal: Workload = {
      ctx: { sink: 0, m, ram: f.ram, base: f.ramBase, buf, los, his, mask: MASK },
      body: `const k = i & ctx.mask; if (ctx.m.lookup(0, ctx.los[k], ctx.his[k], true) >= 0) ctx.ram.set(ctx.buf, ctx.m.pa - ctx.base); else sink++;`,
    };
    if (label === 'floor/minimal-smmu-dma-4k') report(label, minimal, 'raw 4 KiB copy', { ctx: { sink: 0, ram: f.ram, buf, offs, mask: MASK }, body: COPY_BODY });
    else report(label, { ctx: { sink: 0, port, buf, los, his, mask: MASK }, body: DMA_BODY }, 'minimal SMMU hit + copy', minimal);
    return;
  }
  const d = dataLookups(1);
  const m = minimalSmmu(d.f, 1);
  const minimal: Workload = { ctx: { sink: 0, m, los: d.los, his: d.his, mask: MASK }, body: `const k = i & ctx.mask; if (ctx.m.lookup(0, ctx.los[k], ctx.his[k], false) >= 0) sink += ctx.m.pa;` };
  if (label === 'floor/minimal-smmu-hit') report(label, minimal, 'typed-array hash probe', hitBaseline(d.f, d.addrs));
  else report(label, d.w, 'minimal SMMU hit', minimal);
}

/** The lookups' addresses as int32 halves. */
function halves(addrs: Float64Array): { los: Int32Array; his: Int32Array } {
  const los = new Int32Array(SEQ);
  const his = new Int32Array(SEQ);
  for (let i = 0; i < SEQ; i++) {
    los[i] = addrs[i]! | 0;
    his[i] = Math.floor(addrs[i]! / 2 ** 32);
  }
  return { los, his };
}

/** MinimalSmmuHit over the iotlb-hit-dma workload with `streams` streams, as a workload. */
function minimalHitWith(streams: number): Workload {
  const d = dataLookups(streams);
  const m = minimalSmmu(d.f, streams);
  const { sids } = d.w.ctx as unknown as { sids: Uint32Array };
  return { ctx: { sink: 0, m, los: d.los, his: d.his, sids, mask: MASK }, body: `const k = i & ctx.mask; if (ctx.m.lookup(ctx.sids[k], ctx.los[k], ctx.his[k], false) >= 0) sink += ctx.m.pa;` };
}

/**
 * The walk workload (caches disabled; `pages` pages, sparse or dense, `streams` streams) through
 * the model and through MinimalSmmuWalk, with the minimal walk's baseline, each checked against the
 * fixture first.
 */
function walkFloor(pages: number, streams: number, layout: 'sparse' | 'dense'): { model: Workload; minimal: Workload; held: Workload; walk: Workload } {
  const f = buildFixture({ pages, streams, layout, cachesEnabled: false });
  const { addrs, sids, pages: pg } = lookups(f, streams, 7);
  check(f, addrs, sids, pg);
  visitAll(f, pages, streams);
  const m = new MinimalSmmuWalk(f.ram, f.ramBase, f.strtab, streams);
  const { los, his } = halves(addrs);
  for (let k = 0; k < 256; k++) {
    if (m.lookup(sids[k]!, los[k]!, his[k]!, false) !== 12 || m.pa !== f.pas[pg[k]!]! + (addrs[k]! - f.iovas[pg[k]!]!)) throw new Error(`bench fixture: minimal SMMU walk ${k} is wrong`);
  }
  return {
    model: translateWorkload(f, addrs, sids),
    minimal: { ctx: { sink: 0, m, los, his, sids, mask: MASK }, body: `const k = i & ctx.mask; if (ctx.m.lookup(ctx.sids[k], ctx.los[k], ctx.his[k], false) >= 0) sink += ctx.m.pa;` },
    held: { ctx: { sink: 0, m, los, his, sids, mask: MASK }, body: `const k = i & ctx.mask; if (ctx.m.lookupHeldConfig(ctx.sids[k], ctx.los[k], ctx.his[k], false) >= 0) sink += ctx.m.pa;` },
    walk: walkBaseline(f, addrs),
  };
}

/** floor/*walk*: the least a correct caches-disabled translation does (MinimalSmmuWalk) against the minimal walk, the model against it, and its own growth with the streams. */
function walkFloorRow(label: string): void {
  if (!wanted(label)) return;
  if (label.startsWith('floor/flat-')) {
    report(label, walkFloor(65536, 65536, 'sparse').minimal, 'the same, 1 stream', walkFloor(65536, 1, 'sparse').minimal);
    return;
  }
  const w = label.endsWith('pages=1024') ? walkFloor(1024, 1, 'dense') : walkFloor(65536, 1, 'sparse');
  if (label.startsWith('floor/minimal-smmu-walk')) report(label, w.minimal, 'minimal JS walk', w.walk);
  else if (label.startsWith('floor/minimal-checked-walk')) report(label, w.held, 'minimal JS walk', w.walk);
  else report(label, w.model, 'minimal SMMU walk', w.minimal);
}

/** Vectored writes: 16 random pages (64 KiB) per call, translated ahead of the copies. */
function dmaSg(label: string): void {
  if (!wanted(label)) return;
  const f = buildFixture({ pages: 65536, streams: 1, layout: 'sparse', cachesEnabled: true });
  const { pages } = lookups(f, 1, 17);
  const port = f.smmu.dma(0, null);
  const page = new Uint8Array(4096).map((_, i) => i & 0xff);
  for (let p = 0; p < f.iovas.length; p++) port.write(f.iovas[p]!, page); // every page in the IOTLB
  const SG = 16;
  const lists: DmaSegments[] = [];
  const offs: Float64Array[] = [];
  for (let l = 0; l < 4096; l++) {
    const segs = new DmaSegments(SG);
    const o = new Float64Array(SG);
    for (let s = 0; s < SG; s++) {
      const p = pages[l * SG + s]!;
      segs.push(f.iovas[p]! | 0, Math.floor(f.iovas[p]! / 2 ** 32), page);
      o[s] = f.pas[p]! - f.ramBase;
    }
    lists.push(segs);
    offs.push(o);
  }
  const src = new Uint8Array(SG * 4096).map((_, i) => (i * 7) & 0xff);
  const views = Array.from({ length: SG }, (_, s) => src.subarray(s * 4096, (s + 1) * 4096));
  for (const l of lists) for (let s = 0; s < SG; s++) l.bufs[s] = views[s]!;
  if (port.writev(lists[3]!) !== null) throw new Error('bench fixture: vectored DMA failed');
  const o3 = offs[3]![5]!;
  if (!f.ram.subarray(o3, o3 + 4096).every((b, i) => b === src[5 * 4096 + i])) throw new Error('bench fixture: vectored DMA landed elsewhere');
  const model: Workload = { ctx: { sink: 0, port, lists }, body: `if (ctx.port.writev(ctx.lists[i & 4095]) !== null) sink++;` };
  const copies: Workload = { ctx: { sink: 0, ram: f.ram, views, offs }, body: `const o = ctx.offs[i & 4095]; for (let s = 0; s < 16; s++) ctx.ram.set(ctx.views[s], o[s]);` };
  if (label === 'dma-sg-64k') {
    report(label, model, '16 raw 4 KiB copies', copies);
    return;
  }
  // The least a correct vectored write does: the 16 minimal correct hits first (their cache misses
  // overlap), then the 16 copies.
  const m = minimalSmmu(f, 1);
  const pas = new Float64Array(SG);
  const minimal: Workload = {
    ctx: { sink: 0, m, lists, pas, ram: f.ram, base: f.ramBase },
    body: `const l = ctx.lists[i & 4095]; const m = ctx.m; const pas = ctx.pas; let ok = true;
      for (let s = 0; s < 16; s++) { if (m.lookup(0, l.lo[s], l.hi[s], true) < 0) ok = false; pas[s] = m.pa; }
      if (ok) for (let s = 0; s < 16; s++) ctx.ram.set(l.bufs[s], pas[s] - ctx.base); else sink++;`,
  };
  if (label === 'floor/minimal-smmu-dma-sg-64k') report(label, minimal, '16 raw 4 KiB copies', copies);
  else report(label, model, 'minimal SMMU hits + copies', minimal);
}

/** Every workload, in report order: its name and how to run it (in this process). */
const WORKLOADS: [string, () => void][] = [];
for (const kind of ['walk', 'iotlb-miss', 'iotlb-hit'] as const) {
  WORKLOADS.push([kind, () => walkAndHit('%', 65536, 1, 'sparse', 'all')]);
}
WORKLOADS.push(['iotlb-hit-dma', () => hitDma('iotlb-hit-dma', 1)]);
WORKLOADS.push(['dma-4k', () => dma('dma-4k', true)], ['dma-4k-walk', () => dma('dma-4k-walk', false)], ['dma-sg-64k', () => dmaSg('dma-sg-64k')]);
for (const s of [1, 256, 65536]) {
  for (const kind of ['walk', 'iotlb-miss', 'iotlb-hit']) WORKLOADS.push([`scale/${kind}/streams=${s}`, () => walkAndHit(`scale/%/streams=${s}`, 65536, s, 'sparse', 'all')]);
  WORKLOADS.push([`scale/iotlb-hit-dma/streams=${s}`, () => hitDma(`scale/iotlb-hit-dma/streams=${s}`, s)]);
}
for (const kind of ['walk', 'iotlb-miss']) WORKLOADS.push([`scale/${kind}/pages=1024`, () => walkAndHit('scale/%/pages=1024', 1024, 1, 'dense', 'all')]);
for (const n of [1024, 32768, 1048576]) WORKLOADS.push([`scale/iotlb-hit/pages=${n}`, () => walkAndHit(`scale/%/pages=${n}`, n, 1, 'dense', 'hit')]);
for (const kind of ['walk', 'iotlb-miss', 'iotlb-hit'] as const) {
  WORKLOADS.push([`serial/${kind}`, () => walkAndHit('serial/%', 65536, 1, 'sparse', 'all', true)]);
}
WORKLOADS.push(['serial/iotlb-hit-dma', () => hitDma('serial/iotlb-hit-dma', 1, true)]);
WORKLOADS.push(
  ['stage2/iotlb-hit', () => wanted('stage2/iotlb-hit') && hitRow('stage2/iotlb-hit', buildFixture({ pages: 65536, streams: 1, layout: 'sparse', cachesEnabled: true, stage2: true }), 1)],
  ['stage2/iotlb-hit-dma', () => hitDma('stage2/iotlb-hit-dma', 1, false, true)],
  ['stage2/dma-4k', () => dma('stage2/dma-4k', true, true)],
);
WORKLOADS.push(
  ['flat/iotlb-hit/streams=65536', () => flat('flat/iotlb-hit/streams=65536', (s) => translateWith(s, true))],
  ['flat/iotlb-hit-dma/streams=65536', () => flat('flat/iotlb-hit-dma/streams=65536', (s) => dataLookups(s).w)],
  ['flat/walk/streams=65536', () => flat('flat/walk/streams=65536', (s) => translateWith(s, false))],
);
for (const name of ['floor/minimal-smmu-hit', 'floor/iotlb-hit-dma', 'floor/minimal-smmu-dma-4k', 'floor/dma-4k']) WORKLOADS.push([name, () => floorRow(name)]);
WORKLOADS.push(['floor/minimal-smmu-dma-sg-64k', () => dmaSg('floor/minimal-smmu-dma-sg-64k')], ['floor/dma-sg-64k', () => dmaSg('floor/dma-sg-64k')]);
WORKLOADS.push(['floor/flat-minimal-smmu-hit/streams=65536', () => wanted('floor/flat-minimal-smmu-hit/streams=65536') && report('floor/flat-minimal-smmu-hit/streams=65536', minimalHitWith(65536), 'the same, 1 stream', minimalHitWith(1))]);
for (const name of ['floor/minimal-smmu-walk', 'floor/minimal-checked-walk', 'floor/walk', 'floor/minimal-smmu-walk/pages=1024', 'floor/minimal-checked-walk/pages=1024', 'floor/walk/pages=1024', 'floor/flat-minimal-smmu-walk/streams=65536']) {
  WORKLOADS.push([name, () => walkFloorRow(name)]);
}
/** Guest RAM at 64 GiB (every PA above 2^32): the workload against itself with RAM at 1 GiB, in the same process. */
const HIGH_RAM = 0x10_0000_0000;
WORKLOADS.push(
  ['ram64g/iotlb-hit', () => wanted('ram64g/iotlb-hit') && report('ram64g/iotlb-hit', translateWith(1, true, HIGH_RAM), 'the same, RAM at 1 GiB', translateWith(1, true))],
  ['ram64g/iotlb-miss', () => wanted('ram64g/iotlb-miss') && report('ram64g/iotlb-miss', translateWith(1, true, HIGH_RAM, 16), 'the same, RAM at 1 GiB', translateWith(1, true, undefined, 16))],
  ['ram64g/walk', () => wanted('ram64g/walk') && report('ram64g/walk', translateWith(1, false, HIGH_RAM), 'the same, RAM at 1 GiB', translateWith(1, false))],
  ['ram64g/dma-4k', () => wanted('ram64g/dma-4k') && report('ram64g/dma-4k', dmaWith(HIGH_RAM), 'the same, RAM at 1 GiB', dmaWith())],
);

if (CHILD !== null) {
  const w = WORKLOADS.find(([name]) => name === CHILD);
  if (w === undefined) throw new Error(`no workload ${CHILD}`);
  w[1]();
  process.stdout.write(JSON.stringify(results[0]) + '\n');
} else {
  const self = fileURLToPath(import.meta.url);
  for (const [name] of WORKLOADS) {
    if (!wanted(name)) continue;
    const runs: Result[] = [];
    for (let k = 0; k < RUNS; k++) {
      const out = execFileSync(process.execPath, [...process.execArgv, self, '--child', name, ...(QUICK ? ['--quick'] : [])], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
        maxBuffer: 1 << 20,
      });
      runs.push(JSON.parse(out.trim().split('\n').at(-1)!) as Result);
    }
    runs.sort((x, y) => x.ratio - y.ratio);
    const r = { ...runs[(runs.length - 1) >> 1]!, runs: RUNS, ratioMin: runs[0]!.ratio, ratioMax: runs.at(-1)!.ratio };
    results.push(r);
    if (!JSON_OUT) print(r);
  }
  if (JSON_OUT) process.stdout.write(JSON.stringify({ results }) + '\n');
}
