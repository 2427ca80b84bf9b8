// Guest input never breaks the host, across the assembled platform: random MMIO writes and reads
// to every register window (SMMU, ITS, GICR, GICD, ECAM, BARs) followed by device DMA and MSIs,
// and random scenario documents, never throw anything but UserInputError for the latter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseScenario } from '../../src/platform/scenario/load.js';
import { UserInputError } from '../../src/util/errors.js';
import { qemuVirtWithDevices, rig } from '../support/platform-fixtures.js';

test('random MMIO traffic to every window, then DMA and MSIs: no host exception', () => {
  const desc = qemuVirtWithDevices();
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          win: fc.nat(),
          off: fc.nat({ max: 0x2_0000 }),
          size: fc.constantFrom(1, 2, 4, 8),
          lo: fc.integer({ min: 0, max: 0xffff_ffff }),
          hi: fc.integer({ min: 0, max: 0xffff_ffff }),
          read: fc.boolean(),
        }),
        { maxLength: 60 },
      ),
      (ops) => {
        const r = rig(desc);
        r.guest.boot();
        const maps = r.platform.bus.mappings;
        const u = { lo: 0, hi: 0 };
        for (const o of ops) {
          const m = maps[o.win % maps.length]!;
          const addr = m.base + ((o.off & ~(o.size - 1)) % Math.min(m.size, 0x2_0000));
          if (o.size === 8) {
            if (o.read) r.platform.bus.read64(addr, u);
            else r.platform.bus.write64(addr, o.lo, o.hi);
          } else if (o.read) r.platform.bus.read(addr, o.size);
          else r.platform.bus.write(addr, o.size, o.lo);
        }
        for (const { fn } of r.platform.functions()) {
          fn.dma.read(0xffff_0000, new Uint8Array(64));
          fn.signal(0);
        }
        r.guest.drainEvents();
      },
    ),
    { numRuns: 40 },
  );
});

test('random scenario documents end in a UserInputError or a valid scenario', () => {
  const stepKey = fc.constantFrom('note', 'alloc', 'map', 'dma', 'expect', 'repeat', 'inject', 'bogus');
  const value = fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.dictionary(fc.constantFrom('device', 'buffer', 'size', 'op', 'to', 'kind', 'count', 'steps', 'dma'), fc.oneof(fc.string(), fc.integer({ min: -5, max: 0x2000 }))));
  fc.assert(
    fc.property(fc.array(fc.dictionary(stepKey, value, { maxKeys: 2 }), { maxLength: 6 }), (steps) => {
      const text = JSON.stringify({ name: 'f', platform: { preset: 'qemu-virt' }, steps });
      try {
        parseScenario(text, 'fuzz.json');
      } catch (e) {
        assert.ok(e instanceof UserInputError, String(e));
        assert.match(e.message, /^fuzz\.json:\d+: /);
      }
    }),
    { numRuns: 300 },
  );
});
