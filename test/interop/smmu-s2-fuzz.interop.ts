// Interop tier: random differential runs over stage-2-only and nested address spaces, against the
// peers that implement stage 2 (QEMU 10.0). fast-check generates stage-2 tables (4, 16 or 64 KiB
// granule, level-2 blocks and pages, S2AP none / read-only / read-write) and, for nested STEs,
// stage-1 tables (4 KiB pages and 2 MiB blocks, read-only leaves) whose output IPAs stage 2
// translates; edu DMAs hit, miss or cross mapped ranges in both directions. QEMU and our model
// must agree on every event record and on the memory the writes reached. Generated cases avoid
// the QEMU 10.0 departures (no concatenated start tables, no write-only stage-2 pages; see
// lib/qemu-departures.ts). Seed and run count as for the stage-1 fuzz (VSMMU_FUZZ_SEED / _RUNS).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { departureDoc, runDifferential, type Scenario } from './lib/differential.js';
import type { DepartureId } from './lib/qemu-departures.js';
import { EDU_SID } from './lib/machine.js';
import { PEERS } from './lib/peers.js';
import { NEST, nestedSetup } from './lib/s2-scenarios.js';
import { S2Tables, STE_S2 } from './lib/s2-tables.js';
import { primeDevice } from './lib/scenario-helpers.js';
import { LAYOUT, SmmuDriver } from './lib/smmu-driver.js';

const D = BigInt(LAYOUT.data);
type Granule = 12 | 14 | 16;

/** Stage-2 geometry without concatenation: one full start table (4K: 39-bit IPA at level 1; 16K: 36 at 2; 64K: 42 at 2). */
const GEOMETRY: Record<Granule, { ia: number; level: number }> = { 12: { ia: 39, level: 1 }, 14: { ia: 36, level: 2 }, 16: { ia: 42, level: 2 } };
const blockSize = (g: Granule): bigint => 1n << BigInt(g + 2 * (g - 3));
/** A block-aligned PA in RAM for block target t, away from the tables and the pattern source. */
function blockPa(g: Granule, t: number): bigint {
  if (g === 12) return D + BigInt(t) * 0x20_0000n;
  if (g === 14) return 0x4200_0000n + BigInt(t) * 0x200_0000n;
  return 0x4000_0000n; // 512 MiB: all of RAM
}
const pagePa = (g: Granule, t: number): bigint => D + 0x80_0000n + BigInt(t) * (1n << BigInt(g));

interface S2Map { readonly kind: 'blk' | 'pg'; readonly slot: number; readonly target: number; readonly s2ap: 0 | 1 | 3 }
interface S1Map { readonly kind: 'm2' | 'k4'; readonly slot: number; readonly ipaSlot: number; readonly readOnly: boolean }
interface Dma { readonly space: 'blk' | 'pg'; readonly slot: number; readonly offset: number; readonly len: number; readonly write: boolean; readonly bufOff: number }
interface Case {
  readonly nested: boolean;
  readonly granule: Granule;
  readonly s2: readonly S2Map[];
  readonly s1: readonly S1Map[];
  readonly dmas: readonly Dma[];
}

/** IPA regions: blocks from IPA 2^32 (block-size apart), pages from IPA 2^31 (page apart); nested uses NEST.dataIpa. */
function ipaOf(c: Case, kind: 'blk' | 'pg', slot: number): bigint {
  const base = c.nested ? NEST.dataIpa : 0n;
  return kind === 'blk' ? base + (1n << 32n) + BigInt(slot) * blockSize(c.granule) : base + (1n << 31n) + BigInt(slot) * (1n << BigInt(c.granule));
}
/** Where DMAs into a block start: the 512 MiB block maps all of RAM, so aim at the data area. */
const blockDmaBase = (g: Granule): bigint => (g === 16 ? D + 0x100_0000n - 0x4000_0000n : 0n);
/** Nested IOVAs: 2 MiB stage-1 blocks from 1 GiB, 4 KiB stage-1 pages from 256 MiB. */
const iovaOf = (kind: 'm2' | 'k4', slot: number): bigint => (kind === 'm2' ? 0x4000_0000n + BigInt(slot) * 0x20_0000n : 0x1000_0000n + BigInt(slot) * 0x1000n);

const s2Arb = fc.uniqueArray(
  fc.record({ kind: fc.constantFrom<'blk' | 'pg'>('blk', 'pg'), slot: fc.integer({ min: 0, max: 3 }), target: fc.integer({ min: 0, max: 3 }), s2ap: fc.constantFrom<0 | 1 | 3>(3, 3, 1, 0) }),
  { minLength: 1, maxLength: 6, selector: (m) => `${m.kind}:${m.slot}` },
);
const caseArb: fc.Arbitrary<Case> = fc.record({
  nested: fc.boolean(),
  granule: fc.constantFrom<Granule>(12, 14, 16),
  s2: s2Arb,
  s1: fc.uniqueArray(
    fc.record({ kind: fc.constantFrom<'m2' | 'k4'>('m2', 'k4'), slot: fc.integer({ min: 0, max: 3 }), ipaSlot: fc.integer({ min: 0, max: 3 }), readOnly: fc.boolean() }),
    { minLength: 1, maxLength: 5, selector: (m) => `${m.kind}:${m.slot}` },
  ),
  dmas: fc.array(
    fc.record({
      space: fc.constantFrom<'blk' | 'pg'>('blk', 'pg'),
      slot: fc.integer({ min: 0, max: 3 }),
      offset: fc.integer({ min: 0, max: 0x1030 }),
      len: fc.integer({ min: 1, max: 64 }),
      write: fc.boolean(),
      bufOff: fc.integer({ min: 0, max: 0xf00 }),
    }),
    { minLength: 1, maxLength: 6 },
  ),
}).map((c) => (c.nested ? { ...c, granule: 12 as Granule } : c));

/** PA of `ipa` under the case's stage-2 mappings (permissions ignored), or null. */
function s2Pa(c: Case, ipa: bigint): bigint | null {
  for (const m of c.s2) {
    const base = ipaOf(c, m.kind, m.slot);
    const size = m.kind === 'blk' ? blockSize(c.granule) : 1n << BigInt(c.granule);
    if (ipa >= base && ipa < base + size) return (m.kind === 'blk' ? blockPa(c.granule, m.target) : pagePa(c.granule, m.target)) + (ipa - base);
  }
  return null;
}
/** The stage-1 output IPA of an S1 mapping: 2 MiB blocks onto the block region, pages onto the page region. */
const s1Ipa = (c: Case, m: S1Map): bigint => (m.kind === 'm2' ? ipaOf(c, 'blk', m.ipaSlot) : ipaOf(c, 'pg', m.ipaSlot));

function scenarioOf(c: Case): Scenario {
  return {
    name: 'stage-2 fuzz',
    async run(m, rec) {
      await primeDevice(m);
      const d = new SmmuDriver(m);
      let s2: S2Tables;
      if (c.nested) {
        const n = await nestedSetup(m, d);
        s2 = n.s2;
        for (const x of c.s1) await n.s1.map(iovaOf(x.kind, x.slot), s1Ipa(c, x), x.kind === 'm2' ? 2 : 3, { readOnly: x.readOnly });
      } else {
        await d.enable({ fmt: 'linear', log2size: 8 });
        const g = GEOMETRY[c.granule];
        s2 = new S2Tables(m, d.ptAlloc, g.ia, c.granule, g.level);
        await d.writeSte(EDU_SID, STE_S2(s2, { vmid: 7 }));
      }
      for (const x of c.s2) {
        const pa = x.kind === 'blk' ? blockPa(c.granule, x.target) : pagePa(c.granule, x.target);
        await s2.map(ipaOf(c, x.kind, x.slot), pa, x.kind === 'blk' ? 2 : 3, { s2ap: x.s2ap });
      }
      const touched = new Set<bigint>();
      for (const [i, x] of c.dmas.entries()) {
        let input: bigint;
        if (c.nested) input = iovaOf(x.space === 'blk' ? 'm2' : 'k4', x.slot) + BigInt(x.offset);
        else input = ipaOf(c, x.space, x.slot) + (x.space === 'blk' ? blockDmaBase(c.granule) : 0n) + BigInt(x.offset);
        await m.eduDma(x.write ? 'to-ram' : 'from-ram', input, x.len, x.bufOff);
        rec.events(`dma ${i} (${x.write ? 'write' : 'read'} ${x.len} at 0x${input.toString(16)}): events`, await d.events());
        for (const a of [input, input + BigInt(x.len - 1)]) {
          let ipa: bigint | null = a;
          if (c.nested) {
            ipa = null;
            for (const s of c.s1) {
              const base = iovaOf(s.kind, s.slot);
              const size = s.kind === 'm2' ? 0x20_0000n : 0x1000n;
              if (a >= base && a < base + size) ipa = s1Ipa(c, s) + (a - base);
            }
          }
          const pa = ipa === null ? null : s2Pa(c, ipa);
          if (pa !== null) touched.add(pa & ~0xfffn);
        }
      }
      for (const p of [...touched].sort((a, b) => (a < b ? -1 : 1))) rec.mem(`page at PA 0x${p.toString(16)} after all DMAs`, await m.readBytes(Number(p), 0x1000));
    },
  };
}

const runs = Number(process.env['VSMMU_FUZZ_RUNS'] ?? 10);
const seed = Number(process.env['VSMMU_FUZZ_SEED'] ?? 0x5eed);

for (const peer of PEERS.filter((p) => p.smmuProfile === 'qemu-10.0')) {
  test(`random stage-2 and nested address spaces and DMAs agree with ${peer.title} (${runs} runs, seed ${seed})`, { timeout: 600_000 }, async (t) => {
    const seen = new Set<DepartureId>();
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const r = await runDifferential(scenarioOf(c), peer);
        for (const id of r.departuresSeen) seen.add(id);
        assert.deepEqual(r.mismatches, [], JSON.stringify(c));
      }),
      { numRuns: runs, seed, endOnFailure: true, includeErrorInReport: true },
    );
    for (const id of seen) t.diagnostic(`QEMU departure: ${departureDoc(id)}`);
  });
}
