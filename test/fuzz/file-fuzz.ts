// File fuzzer for the tools that read user files: mutated IORT, MADT and DTB images (built from
// the example platforms) go through decode (text and JSON) and lint; mutated platform and scenario
// YAML through the loaders, the firmware build and, for scenarios that load, a bounded run. Runs
// in-process with limits per case: the only acceptable failure is UserInputError (the CLI's exit
// 2); any other exception, a case slower than `msLimit` or one that grows the heap by more than
// `heapLimitMiB` is a finding.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodedToJson, decodedToText } from '../../src/cli/commands/decode.js';
import { decodeFirmware } from '../../src/firmware/lint/input.js';
import { lintFiles } from '../../src/firmware/lint/index.js';
import { buildPlatformArtifacts } from '../../src/platform/artifacts.js';
import { parsePlatform } from '../../src/platform/load.js';
import { parseScenario } from '../../src/platform/scenario/load.js';
import { UserInputError } from '../../src/util/errors.js';
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
}

interface Seeds {
  readonly binaries: { name: string; bytes: Uint8Array }[];
  readonly platforms: string[];
  readonly scenarios: string[];
}

let cached: Seeds | null = null;

function seeds(): Seeds {
  if (cached) return cached;
  const platforms = ['qemu-virt', 'gicv2-v2m', 'two-segments'].map((n) => readFileSync(join(root, 'examples', 'platforms', `${n}.yaml`), 'utf8'));
  const scenarios = ['default', 'gicv2m'].map((n) => readFileSync(join(root, 'examples', 'scenarios', `${n}.yaml`), 'utf8'));
  const binaries: { name: string; bytes: Uint8Array }[] = [];
  for (const [i, text] of platforms.entries()) {
    const a = buildPlatformArtifacts(parsePlatform(text, `p${i}.yaml`));
    binaries.push({ name: `IORT${i}.dat`, bytes: a['IORT.dat'] }, { name: `MADT${i}.dat`, bytes: a['MADT.dat'] }, { name: `p${i}.dtb`, bytes: a['platform.dtb'] });
  }
  cached = { binaries, platforms, scenarios };
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

function makeCase(rng: Rng): Case {
  const s = seeds();
  const k = rng.int(3);
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
  const text = mutateText(rng, rng.pick(s.scenarios));
  return { kind: 'scenario yaml', run: () => void parseScenario(text, 'fuzz.yaml') };
}

/** Runs `cases` mutated inputs from `seed`. */
export function runFileFuzz(seed: number, cases: number, msLimit = 2000, heapLimitMiB = 256): FileFuzzResult {
  const findings: FileFinding[] = [];
  let rejected = 0;
  let worstMs = 0;
  for (let i = 0; i < cases; i++) {
    const caseSeed = (seed + i) >>> 0;
    const c = makeCase(new Rng(caseSeed));
    const heap0 = process.memoryUsage().heapUsed;
    const t0 = performance.now();
    try {
      c.run();
    } catch (e) {
      if (e instanceof UserInputError) rejected++;
      else findings.push({ kind: c.kind, seed: caseSeed, what: `${(e as Error).name}: ${(e as Error).message}`.slice(0, 300) });
    }
    const ms = performance.now() - t0;
    worstMs = Math.max(worstMs, ms);
    const grown = (process.memoryUsage().heapUsed - heap0) / 2 ** 20;
    if (ms > msLimit) findings.push({ kind: c.kind, seed: caseSeed, what: `took ${ms.toFixed(0)} ms (limit ${msLimit})` });
    if (grown > heapLimitMiB) findings.push({ kind: c.kind, seed: caseSeed, what: `heap grew ${grown.toFixed(0)} MiB (limit ${heapLimitMiB})` });
  }
  return { cases, rejected, findings, worstMs };
}
