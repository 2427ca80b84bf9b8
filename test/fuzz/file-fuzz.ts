// File fuzzer for the tools that read user files, one per command: mutated IORT, MADT and DTB
// images (built from the example platforms) through decode (text and JSON) and lint; mutated
// platform YAML through the loader and the firmware build; mutated scenario YAML through the
// loader and, when it still loads, `run` (report, rendering, SVG); mutated guest-RAM images and
// REGS.json (an SMMU state a Linux-like driver left) through `inspect`'s every view, as text and
// as JSON. Runs in-process with limits per case: the only acceptable failure is UserInputError
// (the CLI's exit 2); any other exception, JSON output that does not parse, a case slower than
// `msLimit` or one that grows the heap by more than `heapLimitMiB` is a finding.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodedToJson, decodedToText } from '../../src/cli/commands/decode.js';
import { decodeFirmware } from '../../src/firmware/lint/input.js';
import { lintFiles } from '../../src/firmware/lint/index.js';
import { buildPlatformArtifacts } from '../../src/platform/artifacts.js';
import { parsePlatform } from '../../src/platform/load.js';
import { parseScenario } from '../../src/platform/scenario/load.js';
import { renderReport } from '../../src/platform/scenario/render.js';
import { runScenario } from '../../src/platform/scenario/runner.js';
import type { Step } from '../../src/platform/scenario/schema.js';
import { renderSvg } from '../../src/platform/scenario/svg.js';
import { GuestMemory } from '../../src/memory/guest-memory.js';
import { parseRegisterDump, parseTranslateQuery } from '../../src/smmu/inspect/inputs.js';
import { JsonSink, SmmuSnapshot, writeReport, type InspectRequest } from '../../src/smmu/inspect/inspect.js';
import { TextSink } from '../../src/smmu/inspect/render.js';
import { encodeCommand } from '../../src/spec/smmuv3/commands.js';
import { emptyEvent, encodeEvent, EVT } from '../../src/spec/smmuv3/events.js';
import { UserInputError } from '../../src/util/errors.js';
import { DomainBuilder, PTE_RO, PTE_RW } from '../smmu/linux-domain.js';
import { Rng } from './rng.js';

const root = join(import.meta.dirname, '..', '..');

export interface FileFinding {
  readonly kind: string;
  readonly seed: number;
  readonly what: string;
}

export interface FileFuzzResult {
  readonly cases: number;
  readonly rejected: number;
  readonly findings: FileFinding[];
  readonly worstMs: number;
  /** Per kind of case (the command it exercises): cases run, rejected as unusable input, milliseconds. */
  readonly byKind: Record<string, { cases: number; rejected: number; ms: number }>;
}

interface Seeds {
  readonly binaries: { name: string; bytes: Uint8Array }[];
  readonly platforms: string[];
  readonly scenarios: string[];
  readonly inspect: { readonly ram: Uint8Array; readonly regs: string };
}

const RAM_BASE = 0x4000_0000;
const RAM_SIZE = 0x4_0000;

/**
 * An SMMU state as a Linux-like driver leaves it: a linear stream table with a stage-1 stream
 * (two page-table levels of mappings), a bypass stream and an abort stream, a command queue with
 * pending commands and an event queue with a record; REGS.json one register per line.
 */
function inspectSeed(): { ram: Uint8Array; regs: string } {
  const mem = new GuestMemory();
  const ram = mem.addRam(RAM_BASE, RAM_SIZE);
  const b = new DomainBuilder(mem, RAM_BASE, RAM_SIZE);
  const st = b.linearStreamTable(5);
  const pgd = b.newPgd();
  for (let i = 0; i < 4; i++) b.map4k(pgd, 0x100000 + i * 0x1000, 0x4800_0000 + i * 0x1000, PTE_RW);
  b.map4k(pgd, 0x200000, 0x4900_0000, PTE_RO);
  b.attachS1(st.base, 8, 1, pgd, 5);
  b.writeWords(st.base + 9 * 64, b.bypassSte());
  b.writeWords(st.base + 10 * 64, b.abortSte());
  const cmdq = b.alloc(256, 256);
  b.writeWords(cmdq + 16, encodeCommand('CFGI_STE', { SID: 8, LEAF: 1 }));
  b.writeWords(cmdq + 32, encodeCommand('SYNC', { CS: 2, MSH: 3, MSIATTR: 0xf }));
  const evtq = b.alloc(256, 256);
  b.writeWords(evtq, encodeEvent({ ...emptyEvent(), type: EVT.F_TRANSLATION, sid: 8, rnw: false, inputLo: 0x300000 }));
  const regs = {
    CR0: '0xd',
    CR2: '0x2',
    IDR0: '0x0a0c12af',
    IDR1: '0x00e73c58',
    STRTAB_BASE: '0x' + st.strtabBase.toString(16),
    STRTAB_BASE_CFG: '0x' + st.strtabBaseCfg.toString(16),
    CMDQ_BASE: '0x' + (BigInt(cmdq) | 4n).toString(16),
    CMDQ_PROD: '0x3',
    CMDQ_CONS: '0x1',
    EVENTQ_BASE: '0x' + (BigInt(evtq) | 3n).toString(16),
    EVENTQ_PROD: '0x1',
    EVENTQ_CONS: '0x0',
  };
  return { ram: ram.slice(), regs: JSON.stringify(regs, null, 1) };
}

/** Steps a scenario runs with repeats expanded (the loader caps it; the fuzzer runs only small ones). */
function expandedSteps(steps: readonly Step[]): number {
  let n = 0;
  for (const s of steps) n += s.kind === 'repeat' ? s.body.count * expandedSteps(s.body.steps) : 1;
  return n;
}

/** Scenarios the fuzzer runs (larger ones are only loaded: running them is bounded, but slow). */
const RUN_STEP_LIMIT = 2000;

let cached: Seeds | null = null;

function seeds(): Seeds {
  if (cached) return cached;
  const platforms = ['qemu-virt', 'gicv2-v2m', 'two-segments'].map((n) => readFileSync(join(root, 'examples', 'platforms', `${n}.yaml`), 'utf8'));
  const scenarios = ['default', 'gicv2m', 'two-segments', 'bad-config'].map((n) => readFileSync(join(root, 'examples', 'scenarios', `${n}.yaml`), 'utf8'));
  const binaries: { name: string; bytes: Uint8Array }[] = [];
  for (const [i, text] of platforms.entries()) {
    const a = buildPlatformArtifacts(parsePlatform(text, `p${i}.yaml`));
    binaries.push({ name: `IORT${i}.dat`, bytes: a['IORT.dat'] }, { name: `MADT${i}.dat`, bytes: a['MADT.dat'] }, { name: `p${i}.dtb`, bytes: a['platform.dtb'] });
  }
  cached = { binaries, platforms, scenarios, inspect: inspectSeed() };
  return cached;
}

/** Byte-level mutations: flips, little-endian field overwrites with boundary values, splices, truncation. */
function mutateBytes(rng: Rng, src: Uint8Array): Uint8Array {
  let b: Uint8Array = src.slice();
  for (let n = 1 + rng.int(6); n > 0; n--) {
    const k = rng.int(6);
    const at = rng.int(Math.max(1, b.length));
    if (k === 0) b[at] = (b[at] ?? 0) ^ (1 << rng.int(8));
    else if (k === 1) {
      const v = rng.pick([0, 1, 0xff, 0xffff, 0xffff_ffff, 0x7fff_ffff, 0x8000_0000, b.length, rng.u32()]);
      for (let j = 0; j < 4 && at + j < b.length; j++) b[at + j] = (v >>> (8 * j)) & 0xff;
    } else if (k === 2) b = b.slice(0, at);
    else if (k === 3) {
      // Duplicate a chunk (node lists, properties) in place.
      const len = Math.min(rng.int(256), b.length - at);
      const out = new Uint8Array(b.length + len);
      out.set(b.subarray(0, at + len));
      out.set(b.subarray(at, at + len), at + len);
      out.set(b.subarray(at + len), at + 2 * len);
      b = out;
    } else if (k === 4) b[at] = rng.u32() & 0xff;
    else b = b.slice(0, Math.min(b.length, 1 << 20));
  }
  return b;
}

/** Text mutations: numbers changed, lines duplicated or dropped, characters flipped. */
function mutateText(rng: Rng, src: string): string {
  const lines = src.split('\n');
  for (let n = 1 + rng.int(4); n > 0; n--) {
    const i = rng.int(lines.length);
    const k = rng.int(5);
    if (k === 0) lines[i] = lines[i]!.replace(/\d+/, () => String(rng.pick([0, 1, 255, 65535, 0xffff_ffff, 2 ** 53, rng.u32(), -1])));
    else if (k === 1) lines.splice(i, 0, lines[i]!);
    else if (k === 2) lines.splice(i, 1);
    else if (k === 3 && lines[i]!.length > 0) {
      const j = rng.int(lines[i]!.length);
      lines[i] = lines[i]!.slice(0, j) + String.fromCharCode(32 + rng.int(95)) + lines[i]!.slice(j + 1);
    } else lines[i] = lines[i]!.replace(/0x[0-9a-f]+/i, () => `0x${rng.u32().toString(16)}${rng.bool() ? '000' : ''}`);
  }
  return lines.join('\n');
}

type Case = { kind: string; run: () => void };

/** A JSON document written by a sink must parse. */
function parsesAsJson(text: string, what: string): void {
  try {
    JSON.parse(text);
  } catch (e) {
    throw new Error(`${what} JSON does not parse: ${(e as Error).message}`);
  }
}

const INSPECT_QUERIES = ['8:0x101234:w', '8:0x300000', '9:0x5000', '10:0x1000', '8:0x200000:w:priv', '31:0xfffffffff000'];

function makeCase(rng: Rng): Case {
  const s = seeds();
  const k = rng.int(5);
  if (k === 0) {
    const src = rng.pick(s.binaries);
    const bytes = mutateBytes(rng, src.bytes);
    const others = s.binaries.filter((b) => b !== src && b.name.endsWith('0.dat'));
    return {
      kind: `decode+lint ${src.name}`,
      run: () => {
        const d = decodeFirmware(src.name, bytes);
        decodedToText(d);
        JSON.stringify(decodedToJson(d));
        lintFiles([{ file: src.name, bytes }, ...others.map((o) => ({ file: o.name, bytes: o.bytes }))]);
      },
    };
  }
  if (k === 1) {
    const text = mutateText(rng, rng.pick(s.platforms));
    return {
      kind: 'platform yaml',
      run: () => {
        const desc = parsePlatform(text, 'fuzz.yaml');
        buildPlatformArtifacts(desc);
      },
    };
  }
  if (k === 2) {
    const text = mutateText(rng, rng.pick(s.scenarios));
    return {
      kind: 'run',
      run: () => {
        const { scenario, platform } = parseScenario(text, 'fuzz.yaml');
        if (expandedSteps(scenario.steps) > RUN_STEP_LIMIT) return;
        const report = runScenario(scenario, platform);
        renderReport(report, { color: false });
        parsesAsJson(JSON.stringify(report), 'run report');
        renderSvg(report);
      },
    };
  }
  // inspect: mutated RAM, mutated REGS.json, or both.
  const ram = rng.bool() ? mutateRam(rng, s.inspect.ram) : s.inspect.ram;
  const regs = ram === s.inspect.ram || rng.bool() ? mutateText(rng, s.inspect.regs) : s.inspect.regs;
  const streams = rng.bool() ? true : { first: rng.int(40), last: 40 + rng.int(1 << rng.int(14)) };
  const req: InspectRequest = {
    streams,
    mappings: rng.bool() ? true : { sid: rng.pick([8, 9, 10, rng.int(64)]), ssid: rng.bool() ? null : rng.int(4) },
    queues: true,
    translate: INSPECT_QUERIES.map(parseTranslateQuery),
    // `--limit 0` lists everything asked for: over the whole StreamID space that is up to
    // MAX_SCANNED_STES streams (a 2-level table whose every L2 pointer aborts lists each of its
    // SIDs with its F_STE_FETCH: hundreds of MB of JSON), bounded but beyond a case's limits. So
    // unlimited listings are fuzzed over a bounded StreamID range.
    limit: rng.pick(streams === true ? [1, 16, 1000] : [0, 1, 16, 1000]),
  };
  return {
    kind: 'inspect',
    run: () => {
      const dump = parseRegisterDump(regs, 'REGS.json');
      const mem = new GuestMemory();
      mem.addRam(RAM_BASE, ram.slice());
      const snap = new SmmuSnapshot(mem, dump);
      let json = '';
      writeReport(snap, req, new JsonSink((t) => void (json += t)));
      parsesAsJson(json, 'inspect');
      let text = 0;
      writeReport(snap, req, new TextSink((t) => void (text += t.length), () => {}));
    },
  };
}

/** RAM mutations: the table area only (the image is mostly zero), words overwritten with boundary values. */
function mutateRam(rng: Rng, src: Uint8Array): Uint8Array {
  const b = src.slice();
  const dv = new DataView(b.buffer);
  for (let n = 1 + rng.int(12); n > 0; n--) {
    const at = rng.int(0x4000 / 4) * 4;
    const v = rng.pick([0, 1, 0xffff_ffff, 0x8000_0000, 0x4000_0000, 0x4000_1003, rng.u32(), 1 << rng.int(32)]);
    if (rng.bool()) dv.setUint32(at, v >>> 0, true);
    else b[at + rng.int(4)] = (b[at] ?? 0) ^ (1 << rng.int(8));
  }
  return b;
}

/** Runs `cases` mutated inputs from `seed`. */
export function runFileFuzz(seed: number, cases: number, msLimit = 2000, heapLimitMiB = 256): FileFuzzResult {
  const findings: FileFinding[] = [];
  let rejected = 0;
  let worstMs = 0;
  const byKind: Record<string, { cases: number; rejected: number; ms: number }> = {};
  for (let i = 0; i < cases; i++) {
    const caseSeed = (seed + i) >>> 0;
    const c = makeCase(new Rng(caseSeed));
    const heap0 = process.memoryUsage().heapUsed;
    const t0 = performance.now();
    const kind = c.kind.split(' ')[0]!;
    const k = (byKind[kind] ??= { cases: 0, rejected: 0, ms: 0 });
    k.cases++;
    try {
      c.run();
    } catch (e) {
      if (e instanceof UserInputError) rejected++, k.rejected++;
      else findings.push({ kind: c.kind, seed: caseSeed, what: `${(e as Error).name}: ${(e as Error).message}`.slice(0, 300) });
    }
    const ms = performance.now() - t0;
    k.ms += ms;
    worstMs = Math.max(worstMs, ms);
    const grown = (process.memoryUsage().heapUsed - heap0) / 2 ** 20;
    if (ms > msLimit) findings.push({ kind: c.kind, seed: caseSeed, what: `took ${ms.toFixed(0)} ms (limit ${msLimit})` });
    if (grown > heapLimitMiB) findings.push({ kind: c.kind, seed: caseSeed, what: `heap grew ${grown.toFixed(0)} MiB (limit ${heapLimitMiB})` });
  }
  return { cases, rejected, findings, worstMs, byKind };
}
