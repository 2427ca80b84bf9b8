// Interop tier: random differential runs. fast-check generates stage-1 address
// spaces (4 KiB pages, 2 MiB and 1 GiB blocks, read-only leaves, T0SZ 16 or 25) and edu DMAs that
// hit, miss or cross mapped ranges; QEMU (7.2 and 10.0) and our model must agree on every event record and on
// the memory the writes reached. Generated cases stay inside what QEMU 7.2 implements
// architecturally (AF=1, AP[1]=1, no level-0 blocks, IOVAs < 2^48: see lib/qemu-departures.ts).
// The seed is fixed so CI is repeatable; set VSMMU_FUZZ_SEED / VSMMU_FUZZ_RUNS to explore.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { departureDoc, runDifferential, type Scenario } from './lib/differential.js';
import { PEERS } from './lib/peers.js';
import type { DepartureId } from './lib/qemu-departures.js';
import { EDU_SID } from './lib/machine.js';
import { primeDevice } from './lib/scenario-helpers.js';
import { cdWords, LAYOUT, PageTables, SmmuDriver, STE_S1 } from './lib/smmu-driver.js';

const GiB = 0x4000_0000n;
const MiB2 = 0x20_0000n;
const D = LAYOUT.data;

type Kind = 'g1' | 'm2' | 'k4';
interface Mapping {
  readonly kind: Kind;
  readonly slot: number;
  readonly target: number;
  readonly readOnly: boolean;
}
interface Dma {
  readonly kind: Kind;
  readonly slot: number;
  readonly offset: number;
  readonly len: number;
  readonly write: boolean;
  readonly bufOff: number;
}
interface Case {
  readonly t0sz: 16 | 25;
  readonly maps: readonly Mapping[];
  readonly dmas: readonly Dma[];
}

/** IOVA of a slot: 1 GiB blocks at 8 GiB + k GiB, 2 MiB blocks at 16 GiB + k * 2 MiB, pages at 32 GiB + k * 4 KiB. */
function slotIova(kind: Kind, slot: number): bigint {
  if (kind === 'g1') return 8n * GiB + BigInt(slot) * GiB;
  if (kind === 'm2') return 16n * GiB + BigInt(slot) * MiB2;
  return 32n * GiB + BigInt(slot) * 0x1000n;
}
/** PA of a target: the 1 GiB block must be PA 0x4000_0000 (the only RAM-backed 1 GiB frame). */
function targetPa(kind: Kind, target: number): bigint {
  if (kind === 'g1') return 0x4000_0000n;
  if (kind === 'm2') return BigInt(D) + BigInt(target) * MiB2;
  return BigInt(D) + 0x80_0000n + BigInt(target) * 0x1000n;
}
/**
 * Where DMAs into a slot start: 1 GiB blocks map all of RAM, whose first MiB holds QEMU's DTB
 * (RAM our model does not share), so DMAs there aim at the data area instead.
 */
const DMA_BASE: Record<Kind, bigint> = { g1: BigInt(D) - 0x4000_0000n, m2: 0n, k4: 0n };
const LEVEL: Record<Kind, number> = { g1: 1, m2: 2, k4: 3 };
const SIZE: Record<Kind, bigint> = { g1: GiB, m2: MiB2, k4: 0x1000n };

const kindArb = fc.constantFrom<Kind>('g1', 'm2', 'k4');
const caseArb: fc.Arbitrary<Case> = fc.record({
  t0sz: fc.constantFrom<16 | 25>(16, 25),
  maps: fc.uniqueArray(
    fc.record({ kind: kindArb, slot: fc.integer({ min: 0, max: 5 }), target: fc.integer({ min: 0, max: 3 }), readOnly: fc.boolean() }),
    { minLength: 1, maxLength: 6, selector: (m) => `${m.kind}:${m.slot}` },
  ),
  dmas: fc.array(
    fc.record({
      kind: kindArb,
      slot: fc.integer({ min: 0, max: 5 }),
      // Mostly inside the first page of the slot, sometimes crossing into the next one.
      offset: fc.integer({ min: 0, max: 0x1030 }),
      len: fc.integer({ min: 1, max: 64 }),
      write: fc.boolean(),
      bufOff: fc.integer({ min: 0, max: 0xf00 }),
    }),
    { minLength: 1, maxLength: 6 },
  ),
});

/** PA where a DMA to `iova` lands under `c`'s mappings, or null when it is not mapped. */
function paOf(c: Case, iova: bigint): bigint | null {
  for (const m of c.maps) {
    const base = slotIova(m.kind, m.slot);
    if (iova >= base && iova < base + SIZE[m.kind]) return targetPa(m.kind, m.target) + (iova - base);
  }
  return null;
}

function scenarioOf(c: Case): Scenario {
  return {
    name: 'fuzz',
    async run(m, rec) {
      await primeDevice(m);
      const d = new SmmuDriver(m);
      await d.enable({ fmt: 'linear', log2size: 8 });
      const pt = new PageTables(m, d.ptAlloc, c.t0sz);
      await d.writeCd(LAYOUT.cds, cdWords({ ttb0: pt.root, t0sz: c.t0sz }));
      await d.writeSte(EDU_SID, STE_S1(LAYOUT.cds));
      for (const mp of c.maps) await pt.map(slotIova(mp.kind, mp.slot), targetPa(mp.kind, mp.target), LEVEL[mp.kind], { readOnly: mp.readOnly });
      const touched = new Set<bigint>();
      for (const [i, x] of c.dmas.entries()) {
        const iova = slotIova(x.kind, x.slot) + DMA_BASE[x.kind] + BigInt(x.offset);
        await m.eduDma(x.write ? 'to-ram' : 'from-ram', iova, x.len, x.bufOff);
        rec.events(`dma ${i} (${x.write ? 'write' : 'read'} ${x.len} at 0x${iova.toString(16)}): events`, await d.events());
        for (const a of [iova, iova + BigInt(x.len - 1)]) {
          const pa = paOf(c, a);
          if (pa !== null) touched.add(pa & ~0xfffn);
        }
      }
      for (const p of [...touched].sort((a, b) => (a < b ? -1 : 1))) rec.mem(`page at PA 0x${p.toString(16)} after all DMAs`, await m.readBytes(Number(p), 0x1000));
    },
  };
}

const runs = Number(process.env['VSMMU_FUZZ_RUNS'] ?? 10);
const seed = Number(process.env['VSMMU_FUZZ_SEED'] ?? 0x5eed);

for (const peer of PEERS) {
  test(`random stage-1 address spaces and DMAs agree with ${peer.title} (${runs} runs, seed ${seed})`, { timeout: 600_000 }, async (t) => {
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
