// Property tests: (1) the ITS against a deliberately simple Map-based reference model of
// MAPD/MAPC/MAPTI/DISCARD/MOVI followed by MSIs; (2) fuzzing of random commands, register writes
// and MSIs with guest-controlled garbage: nothing throws and the work per access is bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ITS_OPCODE as OP, encodeItsCommand } from '../spec/gic/its-commands.js';
import { GuestMemory } from '../memory/guest-memory.js';
import type { PhysMemory, U64 } from '../memory/types.js';
import { GicV3 } from './gicv3.js';
import { GicIts } from './its.js';
import { LpiRecorder } from './sinks.js';
import { RAM_BASE, RAM_SIZE, initIts, initRedistributors, ittFor, makeRig, pendingBit, post, setLpiConfig } from '../../test/support/its-kit.js';

type Op =
  | { k: 'mapd'; dev: number; v: boolean }
  | { k: 'mapc'; icid: number; pe: number; v: boolean }
  | { k: 'mapti'; dev: number; ev: number; intid: number; icid: number }
  | { k: 'discard'; dev: number; ev: number }
  | { k: 'movi'; dev: number; ev: number; icid: number };

// Few devices, events and collections so that commands interact often.
const dev = fc.nat(2);
const evId = fc.oneof(fc.nat(2), fc.nat(9));
const icidArb = fc.nat(2);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ k: fc.constant('mapd' as const), dev, v: fc.boolean() }),
  fc.record({ k: fc.constant('mapc' as const), icid: icidArb, pe: fc.nat(3), v: fc.boolean() }),
  fc.record({ k: fc.constant('mapti' as const), dev, ev: evId, intid: fc.integer({ min: 8192, max: 8210 }), icid: icidArb }),
  fc.record({ k: fc.constant('discard' as const), dev, ev: evId }),
  fc.record({ k: fc.constant('movi' as const), dev, ev: evId, icid: icidArb }),
);

/** The reference: what each (DeviceID, EventID) should deliver to, after a sequence of commands. */
class Reference {
  devs = new Set<number>();
  colls = new Map<number, number>();
  // ITEs live in the device's ITT (guest memory), so they survive MAPD V=0 and come back on remap.
  ites = new Map<string, { intid: number; icid: number }>();
  apply(o: Op): void {
    switch (o.k) {
      case 'mapd':
        if (o.v) this.devs.add(o.dev);
        else this.devs.delete(o.dev);
        return;
      case 'mapc':
        if (o.v) this.colls.set(o.icid, o.pe);
        else this.colls.delete(o.icid);
        return;
      case 'mapti':
        if (this.devs.has(o.dev) && o.ev < 8) this.ites.set(`${o.dev}/${o.ev}`, { intid: o.intid, icid: o.icid });
        return;
      case 'discard': {
        // DISCARD needs the interrupt's collection to be mapped (otherwise a command error).
        const ite = this.ites.get(`${o.dev}/${o.ev}`);
        if (this.devs.has(o.dev) && o.ev < 8 && ite && this.colls.has(ite.icid)) this.ites.delete(`${o.dev}/${o.ev}`);
        return;
      }
      case 'movi': {
        const ite = this.ites.get(`${o.dev}/${o.ev}`);
        if (this.devs.has(o.dev) && o.ev < 8 && ite && this.colls.has(ite.icid) && this.colls.has(o.icid)) ite.icid = o.icid;
      }
    }
  }
  target(dev: number, ev: number): { pe: number; intid: number } | null {
    if (!this.devs.has(dev) || ev >= 8) return null;
    const ite = this.ites.get(`${dev}/${ev}`);
    if (!ite) return null;
    const pe = this.colls.get(ite.icid);
    return pe === undefined ? null : { pe, intid: ite.intid };
  }
}

function encode(o: Op): bigint[] {
  switch (o.k) {
    case 'mapd':
      return encodeItsCommand(OP.MAPD, { DeviceID: o.dev, ITT_addr: ittFor(o.dev) / 256, Size: 2, V: o.v ? 1 : 0 });
    case 'mapc':
      return encodeItsCommand(OP.MAPC, { ICID: o.icid, RDbase: o.pe, V: o.v ? 1 : 0 });
    case 'mapti':
      return encodeItsCommand(OP.MAPTI, { DeviceID: o.dev, EventID: o.ev, pINTID: o.intid, ICID: o.icid });
    case 'discard':
      return encodeItsCommand(OP.DISCARD, { DeviceID: o.dev, EventID: o.ev });
    case 'movi':
      return encodeItsCommand(OP.MOVI, { DeviceID: o.dev, EventID: o.ev, ICID: o.icid });
  }
}

test('ITS translations agree with a simple reference model', () => {
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 10, maxLength: 60, size: "max" }), fc.boolean(), (ops, oneByOne) => {
      const rig = makeRig();
      initIts(rig);
      initRedistributors(rig);
      for (let i = 8192; i <= 8210; i++) setLpiConfig(rig, i, 0xa3);
      const ref = new Reference();
      if (oneByOne) for (const o of ops) post(rig, encode(o));
      else post(rig, ...ops.map(encode));
      for (const o of ops) ref.apply(o);
      for (let dev = 0; dev < 4; dev++) {
        for (let ev = 0; ev < 10; ev++) {
          const want = ref.target(dev, ev);
          const got = rig.its.signalMsi(dev, ev);
          assert.equal(got, want ? 'delivered' : 'dropped', `dev ${dev} ev ${ev}`);
          if (want) {
            assert.ok(pendingBit(rig, want.pe, want.intid), `LPI ${want.intid} on PE ${want.pe}`);
            rig.gic.redistributors[want.pe]!.acknowledge(want.intid);
          }
        }
      }
      for (let pe = 0; pe < 4; pe++) assert.deepEqual(rig.gic.redistributors[pe]!.pendingLpis(), []);
    }),
    { numRuns: 200 },
  );
});

/** PhysMemory that counts accesses (bounded-work check). */
class CountingMemory implements PhysMemory {
  count = 0;
  constructor(private readonly m: GuestMemory) {}
  read8(a: number): number { this.count++; return this.m.read8(a); }
  read16(a: number): number { this.count++; return this.m.read16(a); }
  read32(a: number): number { this.count++; return this.m.read32(a); }
  read64(a: number, out: U64): boolean { this.count++; return this.m.read64(a, out); }
  write8(a: number, v: number): boolean { this.count++; return this.m.write8(a, v); }
  write16(a: number, v: number): boolean { this.count++; return this.m.write16(a, v); }
  write32(a: number, v: number): boolean { this.count++; return this.m.write32(a, v); }
  write64(a: number, lo: number, hi: number): boolean { this.count++; return this.m.write64(a, lo, hi); }
  readBytes(a: number, d: Uint8Array): boolean { this.count++; return this.m.readBytes(a, d); }
  writeBytes(a: number, s: Uint8Array): boolean { this.count++; return this.m.writeBytes(a, s); }
}

const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
type GarbageCommand = [number, number, number, number, number, boolean, number];
const garbageCommand: fc.Arbitrary<GarbageCommand> = fc.tuple(
  fc.oneof(fc.constantFrom(...Object.values(OP)), fc.nat(0xff)),
  fc.oneof(fc.nat(8), u32),
  fc.oneof(fc.nat(40), u32),
  fc.oneof(fc.integer({ min: 8180, max: 8300 }), u32),
  fc.oneof(fc.nat(6), u32),
  fc.boolean(),
  u32,
);
type Action =
  | { k: 'cmds'; cmds: GarbageCommand[] }
  | { k: 'reg'; off: number; lo: number; hi: number; wide: boolean }
  | { k: 'msi'; dev: number; ev: number }
  | { k: 'poke'; addr: number; value: number };

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ k: fc.constant('cmds' as const), cmds: fc.array(garbageCommand, { minLength: 1, maxLength: 12 }) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constant('reg' as const),
      off: fc.oneof(fc.constantFrom(0, 4, 8, 0x80, 0x84, 0x88, 0x90, 0x100, 0x104, 0x108, 0x10c, 0x138), fc.nat(0xffff)),
      lo: u32,
      hi: u32,
      wide: fc.boolean(),
    }),
  },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('msi' as const), dev: fc.oneof(fc.nat(8), u32), ev: fc.oneof(fc.nat(40), u32) }) },
  // The guest scribbles on its own tables (device table L1/L2, ITTs, collection table).
  { weight: 1, arbitrary: fc.record({ k: fc.constant('poke' as const), addr: fc.integer({ min: 0x4008_0000, max: 0x400b_ffff }), value: u32 }) },
);

test('fuzz: random commands, register writes, table scribbles and MSIs never throw and do bounded work', () => {
  fc.assert(
    fc.property(fc.array(actionArb, { maxLength: 30 }), fc.constantFrom<'skip' | 'stall'>('skip', 'stall'), (actions, policy) => {
      const gm = new GuestMemory();
      gm.addRam(RAM_BASE, RAM_SIZE);
      const mem = new CountingMemory(gm);
      const sink = new LpiRecorder();
      sink.logEnabled = false;
      const gic = new GicV3(mem, { peCount: 4, lpiSink: sink, directLpi: true });
      const its = new GicIts(mem, gic, { commandErrorPolicy: policy });
      const rig = { mem: gm, gic, its, sink, widx: 0 };
      initIts(rig);
      initRedistributors(rig);
      // Bound per access: one queue (2048 commands) x (4 fetches + a MOVALL/INVALL scan of the
      // 2^16 LPI space in 4 KiB chunks + a few table accesses each).
      const bound = 2048 * (4 + 2 * (8192 / 4096 + 1) + 16);
      for (const a of actions) {
        mem.count = 0;
        if (a.k === 'cmds') {
          post(
            rig,
            ...a.cmds.map(([op, dev, ev, intid, icid, v, rdb]) => [
              BigInt(op) | (BigInt(dev) << 32n),
              BigInt(ev) | (BigInt(intid) << 32n),
              BigInt(icid & 0xffff) | (BigInt(rdb & 0xffff) << 16n) | (BigInt(0x4100_0000 / 256 + (ev & 3) * 16) << 8n) | (v ? 1n << 63n : 0n),
              BigInt(rdb & 7) << 16n,
            ]),
          );
        } else if (a.k === 'reg') {
          if (a.wide) its.write64(a.off & ~7, a.lo, a.hi);
          else its.write(a.off & ~3, 4, a.lo);
          its.read(a.off & ~3, 4);
        } else if (a.k === 'msi') {
          const r = its.signalMsi(a.dev, a.ev);
          assert.ok(r === 'delivered' || r === 'dropped' || r === 'aborted');
        } else {
          gm.write32(a.addr & ~3, a.value);
        }
        assert.ok(mem.count <= bound, `work ${mem.count} > ${bound}`);
      }
      // Whatever happened, everything the sink holds is an LPI in range on a real PE.
      for (let pe = 0; pe < 4; pe++) for (const i of sink.pendingOn(pe)) assert.ok(i >= 8192 && i < 65536);
    }),
    { numRuns: 200 },
  );
});
