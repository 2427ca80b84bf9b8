// Bus numbering tests: a known topology numbered as Linux/firmware do (depth-first), and a
// property over random topologies: bridges' [secondary, subordinate] windows nest and contain
// exactly the buses of the functions below them, RIDs are unique.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { enumerateRootComplex } from './enumerate.js';
import type { EndpointDesc, PortDesc, RootComplexDesc, SwitchDesc } from './description.js';

function rc(ports: PortDesc[], endpoints: EndpointDesc[] = [], start = 0): RootComplexDesc {
  return {
    name: 'rc',
    segment: 2,
    ecam: { base: 0x40_0000_0000, size: 0x1000_0000 },
    buses: { start, end: 255 },
    mmio32: null,
    mmio64: null,
    io: null,
    streamIdBase: 0,
    deviceIdBase: 0x2_0000,
    iommuBypass: [],
    ats: false,
    addressLimitBits: 64,
    dmaCoherent: true,
    intx: null,
    ports,
    endpoints,
  };
}
const ep = (name: string, functions = 1, device = 0): EndpointDesc => ({ kind: 'endpoint', name, device, functions });
const port = (name: string, device: number, child: EndpointDesc | SwitchDesc | null = null): PortDesc => ({ name, device, hotplug: false, child });

test('a root port, a switch with two downstream ports and integrated endpoints are numbered depth-first', () => {
  const sw: SwitchDesc = { kind: 'switch', name: 'sw', downstreamPorts: [port('dp0', 0, ep('nic', 2)), port('dp1', 1)] };
  const e = enumerateRootComplex(rc([port('rp1', 2, sw), port('rp0', 1, ep('nvme'))], [ep('hb', 1, 0)], 0x10));
  assert.deepEqual(
    e.functions.map((f) => [f.bdf, f.path, f.kind, f.secondary, f.subordinate]),
    [
      ['0002:10:00.0', 'hb', 'endpoint', null, null],
      ['0002:10:01.0', 'rp0', 'root-port', 0x11, 0x11],
      ['0002:11:00.0', 'rp0/nvme', 'endpoint', null, null],
      ['0002:10:02.0', 'rp1', 'root-port', 0x12, 0x15],
      ['0002:12:00.0', 'rp1/sw', 'switch-upstream', 0x13, 0x15],
      ['0002:13:00.0', 'rp1/sw/dp0', 'switch-downstream', 0x14, 0x14],
      ['0002:14:00.0', 'rp1/sw/dp0/nic', 'endpoint', null, null],
      ['0002:14:00.1', 'rp1/sw/dp0/nic', 'endpoint', null, null],
      ['0002:13:00.1', 'rp1/sw/dp1', 'switch-downstream', 0x15, 0x15],
    ],
  );
  assert.equal(e.lastBus, 0x15);
  assert.equal(e.functions.find((f) => f.bdf === '0002:14:00.1')?.rid, 0x1401);
});

const epArb = fc.record({ kind: fc.constant('endpoint' as const), name: fc.constant('e'), device: fc.constant(0), functions: fc.integer({ min: 1, max: 8 }) });
function childArb(depth: number): fc.Arbitrary<EndpointDesc | SwitchDesc | null> {
  if (depth === 0) return fc.option(epArb, { nil: null });
  return fc.oneof(
    fc.constant(null),
    epArb,
    fc.array(childArb(depth - 1), { minLength: 1, maxLength: 3 }).map((cs): SwitchDesc => ({ kind: 'switch', name: 's', downstreamPorts: cs.map((c, i) => port(`d${i}`, i, c)) })),
  );
}

test('property: bridge windows nest and hold exactly the buses below them; RIDs are unique', () => {
  fc.assert(
    fc.property(fc.uniqueArray(fc.nat({ max: 31 }), { maxLength: 4 }), fc.array(childArb(2), { minLength: 4, maxLength: 4 }), (devs, kids) => {
      const e = enumerateRootComplex(rc(devs.map((d, i) => port(`p${d}`, d, kids[i] ?? null))));
      const rids = e.functions.map((f) => f.rid);
      assert.equal(new Set(rids).size, rids.length);
      for (const b of e.functions.filter((f) => f.secondary !== null)) {
        const below = e.functions.filter((f) => f.path.startsWith(b.path + '/'));
        for (const f of below) assert.ok(f.bus >= b.secondary! && f.bus <= b.subordinate!, `${f.path} inside ${b.path}`);
        const others = e.functions.filter((f) => f !== b && !f.path.startsWith(b.path + '/'));
        for (const f of others) assert.ok(f.bus < b.secondary! || f.bus > b.subordinate!, `${f.path} outside ${b.path}`);
        assert.ok(b.bus < b.secondary!);
      }
      // Root bus devices are scanned in device order.
      const rootDevs = e.functions.filter((f) => f.bus === 0).map((f) => f.device);
      assert.deepEqual(rootDevs, [...rootDevs].sort((a, b) => a - b));
    }),
    { numRuns: 300 },
  );
});
