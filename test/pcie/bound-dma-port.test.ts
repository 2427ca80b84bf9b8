// A function's DMA port is bound to its route: resolved once, again only after a routing change
// (configuration write, attach/detach, IOMMU connection). Counted: a bound access neither walks the
// bridges nor asks the IOMMU for its port. Checked against a port created at that moment (which
// resolves the route from scratch) over random guest and host changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { GuestMemory } from '../../src/memory/guest-memory.js';
import type { IdMapping } from '../../src/pcie/id-map.js';
import { PciBus } from '../../src/pcie/bus.js';
import { PcieDevice, RootComplex } from '../../src/pcie/index.js';
import { EcamGuest, FakeSmmu, PAGE } from '../support/pcie-fakes.js';

const RAM = 0x4000_0000;
// RIDs on buses 0..0x7f go through the SMMU (StreamID = RID); buses 0x80 and up reach memory
// untranslated (identity).
const HALF_SMMU: IdMapping[] = [{ inputBase: 0, count: 0x8000, outputBase: 0, target: 'smmu0' }];

function setup() {
  const mem = new GuestMemory();
  mem.addRam(RAM, 0x200_0000);
  const rc = new RootComplex({ name: 'pcie0', segment: 0, buses: { start: 0, end: 0xff }, memory: mem, ids: { toSmmu: HALF_SMMU } });
  const smmu = new FakeSmmu(mem);
  rc.attachIommu('smmu0', smmu);
  const rp = rc.addRootPort('rp0', 1);
  const dev = new PcieDevice('ep', [{ vendorId: 0x1af4, pciDeviceId: 0x1040, classCode: 0xff0000 }]);
  rp.plug(dev, 'cold');
  // Every StreamID the tests can produce maps IOVA 0x1000 to its own page: where a write lands
  // tells which stream carried it.
  for (let bus = 0; bus < 0x80; bus++) smmu.map(bus << 8, 0x1000, RAM + bus * PAGE);
  const g = new EcamGuest(rc.ecam, 0);
  g.enumerate();
  g.enable(0, 8);
  g.enable(1, 0);
  return { mem, rc, smmu, rp, dev, g, f0: dev.functions[0]! };
}

function countResolves<T>(run: () => T): { value: T; resolves: number } {
  const original = PciBus.prototype.resolve;
  let resolves = 0;
  PciBus.prototype.resolve = function (this: PciBus): number {
    resolves++;
    return original.call(this);
  };
  try {
    return { value: run(), resolves };
  } finally {
    PciBus.prototype.resolve = original;
  }
}

test('a bound port resolves its route once: 10,000 accesses walk no bridge and ask the SMMU for no port', () => {
  const s = setup();
  const buf = Uint8Array.of(0x5a);
  assert.equal(s.f0.dma.write(0x1000, buf), null); // binds
  const ports = s.smmu.dmaCalls.length;
  const { value: faults, resolves } = countResolves(() => {
    let n = 0;
    for (let i = 0; i < 10_000; i++) if (s.f0.dma.write(0x1000, buf) !== null) n++;
    return n;
  });
  assert.equal(faults, 0);
  assert.equal(resolves, 0, 'no bus resolution per access');
  assert.equal(s.smmu.dmaCalls.length, ports, 'no SMMU port lookup per access');
  assert.equal(s.mem.read8(RAM + 1 * PAGE), 0x5a, 'the stream of bus 1 carried it');
  // One configuration write anywhere: the next access resolves again (once), then it is bound.
  s.g.write(0, 8, 0x3c, 1, 0x0b); // the root port's Interrupt Line: irrelevant, still a change
  const again = countResolves(() => [s.f0.dma.write(0x1000, buf), s.f0.dma.write(0x1000, buf)]);
  assert.deepEqual(again.value, [null, null]);
  assert.ok(again.resolves >= 1 && again.resolves <= 2, `resolved ${again.resolves} times (one route: the function's bus and its parent)`);
});

type Op =
  | { op: 'renumber'; sec: number; sub: number }
  | { op: 'bme-fn'; on: boolean }
  | { op: 'bme-port'; on: boolean }
  | { op: 'replug' }
  | { op: 'unplug' }
  | { op: 'iommu'; on: boolean }
  | { op: 'host-bus'; sec: number }
  | { op: 'dma'; iova: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('renumber' as const), sec: fc.integer({ min: 0, max: 0xff }), sub: fc.integer({ min: 0, max: 0xff }) }),
  fc.record({ op: fc.constant('bme-fn' as const), on: fc.boolean() }),
  fc.record({ op: fc.constant('bme-port' as const), on: fc.boolean() }),
  fc.constant({ op: 'replug' as const }),
  fc.constant({ op: 'unplug' as const }),
  fc.record({ op: fc.constant('iommu' as const), on: fc.boolean() }),
  fc.record({ op: fc.constant('host-bus' as const), sec: fc.integer({ min: 0, max: 0xff }) }),
  fc.record({ op: fc.constant('dma' as const), iova: fc.constantFrom(0x1000, 0x1004, 0x2000, RAM + 0x10, RAM + 0x80_0000) }),
);

test('over random renumbering, Bus Master Enable, hot-plug and IOMMU changes, the bound port does what a freshly resolved one does', () => {
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 1, maxLength: 40 }), (ops) => {
      const s = setup();
      const bound = s.f0.dma; // created at construction, bound on first use
      let seq = 1;
      for (const o of ops) {
        switch (o.op) {
          case 'renumber':
            s.g.write(0, 8, 0x18, 4, (o.sub << 16) | (o.sec << 8));
            break;
          case 'bme-fn':
            s.f0.config.set(0x04, 2, o.on ? 0x6 : 0x2);
            break;
          case 'bme-port':
            s.g.write(0, 8, 0x04, 2, o.on ? 0x6 : 0x2);
            break;
          case 'replug':
            if (s.rp.child === null) s.rp.plug(s.dev, 'hot');
            break;
          case 'unplug':
            s.rp.unplug();
            break;
          case 'iommu':
            s.rc.attachIommu('smmu0', o.on ? s.smmu : null);
            break;
          case 'host-bus':
            s.rp.config.set(0x19, 1, o.sec);
            break;
          case 'dma': {
            const a = Uint8Array.of(seq++ & 0xff);
            const b = Uint8Array.of(seq++ & 0xff);
            const before = s.rc.diagnostics.messages().length;
            const fa = bound.write(o.iova, a);
            const whereA = where(s.mem, a[0]!);
            const kindsA = s.rc.diagnostics.messages().slice(before);
            const fresh = s.f0.dmaPort(null);
            const fb = fresh.write(o.iova, b);
            const whereB = where(s.mem, b[0]!);
            const kindsB = s.rc.diagnostics.messages().slice(before + kindsA.length);
            assert.deepEqual(fa, fb === null ? null : { ...fb, iova: o.iova });
            assert.deepEqual(whereA, whereB, 'both writes landed on the same page (same stream or memory)');
            assert.deepEqual(kindsA.map(kindOf), kindsB.map(kindOf));
            break;
          }
        }
      }
    }),
    { numRuns: 300 },
  );
});

/** The RAM pages (offsets from RAM) whose first bytes hold `v`, scanning the pages the test uses. */
function where(mem: GuestMemory, v: number): number[] {
  const hits: number[] = [];
  for (let p = 0; p < 0x80; p++) for (const off of [0, 4]) if (mem.read8(RAM + p * PAGE + off) === v) hits.push(p * PAGE + off);
  for (const off of [0x10, 0x80_0000]) if (mem.read8(RAM + off) === v) hits.push(off);
  return hits;
}

const kindOf = (m: string): string => m.split(':')[0]!;
