// Fuzz: `inspect` over random guest memory and random register dumps never throws anything but a
// thing (a table outside RAM is answered with the abort the SMMU reports there), and its JSON keeps
// the contract's shape.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { GuestMemory } from '../../src/memory/guest-memory.js';
import { inspect, SmmuSnapshot } from '../../src/smmu/inspect/inspect.js';
import type { RegisterDump } from '../../src/smmu/inspect/inputs.js';
import type { RegName } from '../../src/spec/smmuv3/registers.js';

const BASE = 0x4000_0000;
const SIZE = 0x4000;
const FAR = 2 ** 40;

test('inspect never throws on random memory and registers', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: SIZE, maxLength: SIZE }),
      fc.record({
        strtab: fc.integer({ min: 0, max: SIZE - 64 }),
        cfg: fc.integer({ min: 0, max: 0x3ffff }),
        cmdq: fc.integer({ min: 0, max: SIZE - 64 }),
        cmdqLog: fc.integer({ min: 0, max: 31 }),
        prod: fc.integer({ min: 0, max: 0xffff_ffff }),
        cons: fc.integer({ min: 0, max: 0xffff_ffff }),
        far: fc.boolean(),
        iova: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        sid: fc.integer({ min: 0, max: 300 }),
      }),
      (bytes, r) => {
        const mem = new GuestMemory();
        mem.addRam(BASE, bytes);
        const regs: RegisterDump = new Map<RegName, bigint>([
          // Far: 2^40, outside RAM and aligned to any table size LOG2SIZE can give (the SMMU
          // aligns the base to the table, so a less aligned address would move the table).
          ['STRTAB_BASE', BigInt(r.far ? FAR : BASE + r.strtab) & ~0x3fn],
          ['STRTAB_BASE_CFG', BigInt(r.cfg & 0x3001f) | (BigInt(r.cfg) & 0x7c0n)],
          ['CMDQ_BASE', BigInt(BASE + r.cmdq) | BigInt(r.cmdqLog)],
          ['CMDQ_PROD', BigInt(r.prod)],
          ['CMDQ_CONS', BigInt(r.cons)],
          ['EVENTQ_BASE', BigInt(BASE) | 3n],
          ['EVENTQ_PROD', BigInt(r.prod)],
          ['IDR1', 0x0b0_8010n], // SIDSIZE 16, small queues
        ]);
        const snap = new SmmuSnapshot(mem, regs);
        const out = inspect(snap, { streams: true, queues: true, mappings: { sid: r.sid, ssid: null }, translate: [{ sid: r.sid, ssid: null, iova: r.iova, access: 'r', priv: false, text: '' }] });
        const t = (out.translations as { ok: boolean; recorded?: boolean; steps: unknown[] }[])[0]!;
        assert.equal(typeof t.ok, 'boolean');
        if (!t.ok) assert.equal(typeof t.recorded, 'boolean');
        assert.ok(Array.isArray(t.steps));
        if (r.far) assert.ok((out.warnings as string[]).some((w) => w.includes(`0x${FAR.toString(16)}`)), JSON.stringify(out.warnings));
      },
    ),
    { numRuns: 60 },
  );
});
