// Guest input never breaks the host: fast-check drives arbitrary ECAM accesses (any offset, size,
// value, including bus-number, command, MSI/MSI-X and slot registers) and BAR writes against a
// topology with a switch, then DMA and MSI from every function. Nothing throws; every outcome
// is a DmaFault/null or an MsiOutcome; the diagnostics log stays bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { GuestMemory } from '../../src/memory/guest-memory.js';
import { PcieDevice, PcieDiagnostics, PcieSwitch, RootComplex } from '../../src/pcie/index.js';
import { FakeIts, FakeSmmu, msiRouter } from '../support/pcie-fakes.js';

function topology() {
  const mem = new GuestMemory();
  mem.addRam(0x4000_0000, 0x1_0000);
  const diagnostics = new PcieDiagnostics(16);
  const rc = new RootComplex({
    name: 'f',
    segment: 0,
    buses: { start: 0, end: 7 },
    memory: mem,
    diagnostics,
    ids: { toSmmu: [{ inputBase: 0x100, count: 0x300, outputBase: 0, target: 'smmu0' }] },
  });
  rc.attachIommu('smmu0', new FakeSmmu(mem));
  rc.connectMsi(msiRouter(new FakeIts(), null, mem));
  const rp = rc.addRootPort('rp', 1);
  const sw = new PcieSwitch('sw', { downstreamPorts: 2 });
  rp.plug(sw, 'cold');
  sw.downstream[0]!.plug(
    new PcieDevice('d', [
      { vendorId: 1, pciDeviceId: 2, classCode: 0, bars: [{ index: 0, size: 0x1000, kind: 'mem32' }], msix: { vectors: 4, tableBar: 0, tableOffset: 0, pbaOffset: 0x800 } },
      { vendorId: 1, pciDeviceId: 3, classCode: 0, msi: { vectors: 8 } },
    ]),
    'cold',
  );
  return { rc, diagnostics };
}

const access = fc.record({
  bus: fc.integer({ min: 0, max: 8 }),
  devfn: fc.oneof(fc.constantFrom(0, 1, 8), fc.integer({ min: 0, max: 255 })),
  reg: fc.oneof(fc.constantFrom(0x04, 0x18, 0x19, 0x1a, 0x20, 0x24, 0x3e, 0x40, 0x42, 0x50, 0x58, 0x5a, 0x7c, 0x7e, 0x80), fc.integer({ min: 0, max: 0xfff })),
  size: fc.constantFrom(1 as const, 2 as const, 4 as const),
  value: fc.integer({ min: 0, max: 0xffff_ffff }),
});

test('fuzz: arbitrary ECAM and BAR accesses followed by DMA and MSI from every function never throw', () => {
  fc.assert(
    fc.property(fc.array(access, { maxLength: 80 }), fc.array(fc.tuple(fc.integer({ min: 0, max: 2 ** 40 }), fc.integer({ min: 0, max: 0xffff_ffff })), { maxLength: 10 }), (ops, mmio) => {
      const { rc, diagnostics } = topology();
      for (const o of ops) {
        const off = (o.bus << 20) | (o.devfn << 12) | o.reg;
        rc.ecam.write(off, o.size, o.value);
        const r = rc.ecam.read(off, o.size);
        assert.ok(r >= 0 && r < 2 ** (8 * o.size));
      }
      rc.ecam.write(rc.ecam.mmioSize - 2, 4, 1);
      assert.equal(rc.ecam.read(-4, 4), 0xffff_ffff);
      for (const [a, v] of mmio) {
        rc.mmioWrite(a, 4, v);
        const r = rc.mmioRead(a, 4);
        assert.ok(r >= 0 && r <= 0xffff_ffff);
      }
      for (const f of rc.functions()) {
        const fault = f.dma.write(0x4000_0000, Uint8Array.of(1));
        assert.ok(fault === null || typeof fault.reason === 'string');
        for (let v = 0; v < 9; v++) assert.ok(['delivered', 'memory', 'dropped', 'aborted', 'pending'].includes(f.signal(v)));
        f.identity();
      }
      assert.ok(diagnostics.recent().length <= 16);
    }),
    { numRuns: 200 },
  );
});
