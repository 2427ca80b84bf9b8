// The walks read little-endian descriptors straight out of the RAM word view their TableReader
// holds, unless a trace is being kept (then every read goes through TableReader.readPa, which
// records it). These tests hold the two ways to the same answers: the same leaf or fault, the same
// number of reads, with tables spread over two RAM regions (below and above 4 GiB); and a read at
// or beyond the OAS aborts on either way whatever the walk configuration says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { GuestMemory } from '../../memory/guest-memory.js';
import { DEFAULT_FEATURES } from '../features.js';
import { EVT } from '../../spec/smmuv3/events.js';
import { TableReader } from './table-reader.js';
import { Walker } from './walker.js';
import { WC_WORDS, packWalk, type TtConfig } from './cd-config.js';
import type { S2Config } from './ste-config.js';
import type { WalkStep } from './types.js';

const TWO32 = 2 ** 32;
const LOW = 0x4000_0000;
const HIGH = 0x2_0000_0000;
const PAGES = 64;

function tt(ttb: number, ps = 48): TtConfig {
  return {
    enabled: true, tsz: 16, ia: 48, shift: 12, startLevel: 0, ttb, tbi: false, had: false,
    ps, be: false, affd: false, ha: false, hd: false, wxn: false, pan: false, mairLo: 0x44ff04, mairHi: 0,
  };
}

function s2Config(ttb: number): S2Config {
  return { vmid: 1, t0sz: 16, ia: 48, shift: 12, startLevel: 0, ps: 48, ttb, be: false, affd: false, ha: false, hd: false, ptw: false, s: false, r: false };
}

/** Two RAM regions of PAGES pages, one below and one above 4 GiB, and a page allocator in either. */
function memory(): { mem: GuestMemory; page: (high: boolean) => number } {
  const mem = new GuestMemory();
  mem.addRam(LOW, PAGES * 4096, 'low');
  mem.addRam(HIGH, PAGES * 4096, 'high');
  const next = [LOW, HIGH];
  return {
    mem,
    page: (high) => {
      const k = high ? 1 : 0;
      const a = next[k]!;
      next[k] = a + 4096;
      return a;
    },
  };
}

function w64(mem: GuestMemory, addr: number, v: number): void {
  mem.write64(addr, v >>> 0, Math.floor(v / TWO32) >>> 0);
}

/**
 * 4-level tables (4 KiB granule, 48-bit VA) mapping `vas` page by page to `pas`, each table in
 * the region `high[i]` picks; leaves are `leaf` (AF, AP, ...) ORed with the output address.
 */
function build(mem: GuestMemory, page: (high: boolean) => number, vas: number[], pas: number[], high: boolean[], leaf: number): number {
  let h = 0;
  const root = page(high[h++ % high.length]!);
  const tables = new Map<string, number>();
  vas.forEach((va, n) => {
    let table = root;
    for (let level = 0; level < 3; level++) {
      const key = `${level}:${Math.floor(va / 2 ** (39 - 9 * level))}`;
      let next = tables.get(key);
      if (next === undefined) {
        next = page(high[h++ % high.length]!);
        tables.set(key, next);
        w64(mem, table + (Math.floor(va / 2 ** (39 - 9 * level)) % 512) * 8, next + 3);
      }
      table = next;
    }
    w64(mem, table + (Math.floor(va / 4096) % 512) * 8, pas[n]! + leaf);
  });
  return root;
}

interface Outcome {
  ok: boolean;
  oa: number;
  shift: number;
  perms: number;
  fault: number;
  reads: number;
}

function walkS1(w: Walker, r: TableReader, cfg: TtConfig, va: number, traced: boolean): Outcome {
  const packed = new Uint32Array(WC_WORDS);
  packWalk(cfg, packed, 0);
  w.useS1Packed(packed, 0);
  w.s1VaLo = va | 0;
  w.s1VaHi = Math.floor(va / TWO32);
  const trace: WalkStep[] = [];
  r.trace = traced ? trace : null;
  const before = r.reads;
  const ok = w.s1(false, false, false, null);
  r.trace = null;
  if (traced) assert.equal(trace.length, r.reads - before, 'a traced walk records every read');
  return { ok, oa: ok ? w.s1Oa : -1, shift: ok ? w.s1Shift : -1, perms: ok ? w.s1PermsPriv : -1, fault: ok ? 0 : w.fType, reads: r.reads - before };
}

function walkS2(w: Walker, r: TableReader, c: S2Config, ipa: number, traced: boolean): Outcome {
  w.s2Ipa = ipa;
  const trace: WalkStep[] = [];
  r.trace = traced ? trace : null;
  const before = r.reads;
  const ok = w.s2(c, false, false, 0);
  r.trace = null;
  return { ok, oa: ok ? w.s2Pa : -1, shift: ok ? w.s2Shift : -1, perms: ok ? w.s2Perms : -1, fault: ok ? 0 : w.fType, reads: r.reads - before };
}

const page = fc.integer({ min: 0, max: 2 ** 36 - 1 });

test('a stage-1 walk gives the same leaf, fault and read count read directly as traced through readPa, with tables in two RAM regions', () => {
  fc.assert(
    fc.property(fc.uniqueArray(page, { minLength: 1, maxLength: 8 }), fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }), page, fc.boolean(), (pages, high, probe, af) => {
      const { mem, page: alloc } = memory();
      const vas = pages.map((p) => p * 4096);
      const pas = vas.map((_, i) => 0x1_0000_0000 + i * 0x20_0000);
      const root = build(mem, alloc, vas, pas, high, af ? 0xf47 : 0xb47);
      const r = new TableReader(mem, 48);
      const w = new Walker(r, DEFAULT_FEATURES);
      const cfg = tt(root);
      for (const va of [vas[0]! + 0x123, vas.at(-1)! + 0xff8, probe * 4096 + 8]) {
        const direct = walkS1(w, r, cfg, va, false);
        const traced = walkS1(w, r, cfg, va, true);
        assert.deepEqual(direct, traced, `VA 0x${va.toString(16)}`);
        const i = vas.indexOf(va - (va % 4096));
        if (i >= 0) {
          assert.equal(direct.ok, af, 'a leaf without AF faults (no HA, no AFFD)');
          if (af) assert.equal(direct.oa, pas[i]! + (va % 4096));
          else assert.equal(direct.fault, EVT.F_ACCESS);
        }
      }
    }),
    { numRuns: 300 },
  );
});

test('a stage-2 walk gives the same leaf, fault and read count read directly as traced through readPa', () => {
  fc.assert(
    fc.property(fc.uniqueArray(page, { minLength: 1, maxLength: 8 }), fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }), page, (pages, high, probe) => {
      const { mem, page: alloc } = memory();
      const ipas = pages.map((p) => p * 4096);
      const pas = ipas.map((_, i) => 0x3_0000_0000 + i * 0x1000);
      const root = build(mem, alloc, ipas, pas, high, 0x7ff);
      const r = new TableReader(mem, 48);
      const w = new Walker(r, DEFAULT_FEATURES);
      for (const ipa of [ipas[0]! + 0x10, probe * 4096]) {
        const direct = walkS2(w, r, s2Config(root), ipa, false);
        assert.deepEqual(direct, walkS2(w, r, s2Config(root), ipa, true), `IPA 0x${ipa.toString(16)}`);
        const i = ipas.indexOf(ipa - (ipa % 4096));
        if (i >= 0) assert.equal(direct.oa, pas[i]! + (ipa % 4096));
      }
    }),
    { numRuns: 200 },
  );
});

test('a descriptor read at or beyond the OAS aborts read directly as through readPa, even in RAM and under the walk’s own output size', () => {
  // RAM across 4 GiB, an SMMU with a 32-bit OAS, and a walk configuration whose output size (48
  // bits) exceeds it (the CD and STE decoders never give one: they cap it at the OAS).
  const mem = new GuestMemory();
  mem.addRam(TWO32 - 0x10_0000, 0x20_0000);
  const root = TWO32;
  w64(mem, root, TWO32 - 0x1000 + 3);
  const r = new TableReader(mem, 32);
  const w = new Walker(r, { ...DEFAULT_FEATURES, oasBits: 32 });
  // Give the reader a view of the region first (a read below 4 GiB), as any earlier walk would.
  assert.equal(r.read64(TWO32 - 8, false, { lo: 0, hi: 0 }), true);
  const cfg = tt(root, 48);
  // And a walk that starts below the OAS, whose first table descriptor points at a table at it.
  const low = TWO32 - 0x2000;
  w64(mem, low, TWO32 + 3);
  for (const [c, what] of [[cfg, 'root at the OAS'], [tt(low, 48), 'table at the OAS']] as const) {
    for (const traced of [false, true]) {
      const o = walkS1(w, r, c, 0x1000, traced);
      assert.equal(o.ok, false, `${what}, ${traced ? 'traced' : 'direct'}`);
      assert.equal(o.fault, EVT.F_WALK_EABT, `${what}, ${traced ? 'traced' : 'direct'}`);
    }
  }
});
