// Property tests: the engine against a deliberately simple bigint reference walker on random
// page tables and addresses (every granule, start level, stage 1 and stage 2, with and without
// caches), and fuzzing of guest-controlled structures (random STE/CD/L1/descriptor bytes) that
// asserts no exception and a bounded number of memory reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DEFAULT_FEATURES, type SmmuFeatures } from '../features.js';
import { EVT } from '../../spec/smmuv3/events.js';
import { Translator } from './translator.js';
import { decodeStream, mappings, translateVerbose } from './inspect.js';
import { makeRequest, newResult } from './types.js';
import { Arena, PageTables, tlbiOp } from '../../../test/support/smmu-structures.js';
import { encodeS1Leaf, encodeS2Leaf, startLevel, tg0Of, s2Sl0Of } from '../../spec/smmuv3/pagetable.js';

// ---------------------------------------------------------------- reference walker (bigint, no caches)

type RefResult = { fault: number } | { pa: bigint; size: bigint };

interface RefCfg {
  stage: 1 | 2;
  shift: number;
  ia: number;
  start: number;
  root: bigint;
  ps: number; // output size bits
  /** IAS in bits: the OAS, as only VMSAv8-64 tables are implemented (IHI 0070 §3.4). */
  ias: number;
  oa52: boolean;
}

/** Reads a descriptor; walks the VMSAv8-64 tables the textbook way. Unprivileged data access. */
function refWalk(read: (a: bigint) => bigint | null, c: RefCfg, va: bigint, write: boolean): RefResult {
  // Stage 1 bypassed: an input above the IAS is a stage 1 Address Size fault before stage 2 sees
  // it; below the IAS but outside S2T0SZ's range it is a stage 2 Translation fault (IHI 0070 §3.4).
  if (c.stage === 2 && va >= 1n << BigInt(c.ias)) return { fault: EVT.F_ADDR_SIZE };
  if (va >= 1n << BigInt(c.ia)) return { fault: EVT.F_TRANSLATION };
  const g = BigInt(c.shift);
  const stride = g - 3n;
  let table = c.root;
  for (let level = c.start; level <= 3; level++) {
    const lsb = g + stride * BigInt(3 - level);
    const bits = level === c.start ? BigInt(c.ia) - lsb : stride;
    const idx = (va >> lsb) & ((1n << bits) - 1n);
    const d = read(table + idx * 8n);
    if (d === null) return { fault: EVT.F_WALK_EABT };
    if ((d & 1n) === 0n) return { fault: EVT.F_TRANSLATION };
    const addrOf = (lowBit: bigint): bigint => {
      let a = d & ((1n << 48n) - 1n) & ~((1n << lowBit) - 1n);
      if (c.shift === 16 && c.oa52) a |= ((d >> 12n) & 0xfn) << 48n;
      return a;
    };
    if (level < 3 && (d & 2n) === 2n) {
      table = addrOf(g);
      if (table >= 1n << BigInt(c.ps)) return { fault: EVT.F_ADDR_SIZE };
      continue;
    }
    if (level === 3 && (d & 2n) === 0n) return { fault: EVT.F_TRANSLATION };
    if (level < 3) {
      const ok = c.shift === 12 ? level === 1 || level === 2 : c.shift === 14 ? level === 2 : level === 2 || (level === 1 && c.oa52);
      if (!ok) return { fault: EVT.F_TRANSLATION };
    }
    const out = addrOf(lsb);
    const size = 1n << lsb;
    if (out + size > 1n << BigInt(c.ps)) return { fault: EVT.F_ADDR_SIZE };
    if (((d >> 10n) & 1n) === 0n) return { fault: EVT.F_ACCESS };
    let allowed: boolean;
    if (c.stage === 1) {
      const ap1 = (d >> 6n) & 1n; // EL0 access
      const ro = (d >> 7n) & 1n;
      allowed = ap1 === 1n && (!write || ro === 0n);
    } else {
      allowed = write ? ((d >> 7n) & 1n) === 1n : ((d >> 6n) & 1n) === 1n;
    }
    if (!allowed) return { fault: EVT.F_PERMISSION };
    return { pa: out + (va & (size - 1n)), size };
  }
  throw new Error('unreachable');
}

// ---------------------------------------------------------------- random tables

const geometry = fc.oneof(
  fc.record({ shift: fc.constant(12 as const), ia: fc.integer({ min: 25, max: 48 }) }),
  fc.record({ shift: fc.constant(14 as const), ia: fc.integer({ min: 25, max: 48 }) }),
  fc.record({ shift: fc.constant(16 as const), ia: fc.integer({ min: 25, max: 52 }) }),
);

const mapping = fc.record({
  vaFrac: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
  level: fc.integer({ min: 0, max: 3 }),
  paPage: fc.bigInt({ min: 0n, max: (1n << 40n) - 1n }),
  lowBits: fc.nat(0xfff),
  hiBits: fc.integer({ min: 0, max: 7 }),
});

function stage2Start(shift: number, ia: number): number | null {
  // the start level with the fewest concatenated tables that is consistent (<= 16 tables)
  const stride = shift - 3;
  for (let level = 0; level <= 3; level++) {
    const bits = ia - (shift + stride * (3 - level));
    if (shift !== 12 && level === 0) continue; // SL0 cannot encode level 0 for 16K/64K (no DS)
    if (shift === 12 && level === 3) continue;
    if (bits >= 1 && bits <= stride + 4) return level;
  }
  return null;
}

test('engine == reference walker on random stage-1 and stage-2 tables (all granules, with and without caches)', () => {
  fc.assert(
    fc.property(
      geometry, fc.constantFrom(1, 2), fc.boolean(), fc.integer({ min: 0, max: 6 }), fc.array(mapping, { minLength: 1, maxLength: 12 }),
      fc.array(fc.record({ pick: fc.nat(), off: fc.bigInt({ min: 0n, max: (1n << 30n) - 1n }), write: fc.boolean(), random: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }) }), { minLength: 1, maxLength: 16 }),
      ({ shift, ia }, stage, oa52, psEnc, maps, queries) => {
        const f: SmmuFeatures = { ...DEFAULT_FEATURES, oasBits: oa52 ? 52 : 48, vax: true, stallModel: 'terminate' };
        if (stage === 1 && shift !== 16 && ia > 48) return;
        if (stage === 2 && ia > f.oasBits) return; // S2T0SZ below 64 - IAS is ILLEGAL
        const start = stage === 1 ? startLevel(ia, shift) : stage2Start(shift, ia);
        if (start === null || start < 0) return;
        const arena = new Arena(0x4000_0000, 48 << 20);
        const pt = new PageTables(arena, shift, ia, start);
        const ps = Math.min([32, 36, 40, 42, 44, 48, 52][psEnc]!, f.oasBits, shift === 16 ? 52 : 48);
        const vas: bigint[] = [];
        for (const m of maps) {
          let level = Math.max(m.level, start);
          const lsb = shift + (shift - 3) * (3 - level);
          const va = (BigInt(Math.floor(m.vaFrac * 2 ** (ia - lsb))) << BigInt(lsb)) & ((1n << BigInt(ia)) - 1n);
          // random leaf: PA page and attribute bits, type from hiBits (page/block/table-as-leaf/invalid)
          let d = (m.paPage << 12n) & ((1n << 52n) - 1n);
          d |= BigInt(m.lowBits) & 0xffcn;
          d |= m.hiBits === 7 ? 0n : level === 3 || m.hiBits === 6 ? 3n : 1n;
          if (m.hiBits === 5) level = Math.min(3, level + 1);
          pt.map(va, d, level);
          vas.push(va);
        }
        const strtab = arena.alloc(64 * 4, 256);
        const steFields: Record<string, bigint | number> =
          stage === 1
            ? { V: 1, CONFIG: 5 }
            : { V: 1, CONFIG: 6, S2VMID: 1, S2T0SZ: 64 - ia, S2SL0: s2Sl0Of(shift, start), S2TG: tg0Of(shift), S2PS: psEnc, S2AA64: 1, S2R: 1, S2TTB: BigInt(pt.root) >> 4n };
        if (stage === 1) {
          const cd = arena.alloc(64, 64);
          arena.writeWords(cd, arena.cd({ T0SZ: 64 - ia, TG0: tg0Of(shift), EPD1: 1, V: 1, IPS: psEnc, AA64: 1, R: 1, A: 1, ASID: 3, TTB0: BigInt(pt.root) >> 4n }));
          steFields.S1_CONTEXT_PTR = BigInt(cd) >> 6n;
        }
        arena.writeWords(strtab + 64, arena.ste(steFields));
        const engines = [false, true].map((caches) => {
          const t = new Translator(arena.mem, f, { cachesEnabled: caches });
          t.setStreamTable({ base: strtab, log2Size: 2, fmt: 0, split: 6 });
          return t;
        });
        const cfg: RefCfg = { stage: stage as 1 | 2, shift, ia, start, root: BigInt(pt.root), ps, oa52, ias: f.oasBits };
        const read = (a: bigint): bigint | null => {
          const n = Number(a);
          return arena.mem.contains(n, 8) ? arena.read64(n) : null;
        };
        const res = newResult();
        for (const q of queries) {
          const base = q.random < 0.2 ? BigInt(Math.floor(q.random * 5 * 2 ** ia)) : vas[q.pick % vas.length]!;
          const va = (base + (q.off % (1n << BigInt(shift + 9)))) & ((1n << BigInt(Math.min(ia + 1, 52))) - 1n);
          const expected = refWalk(read, cfg, va, q.write);
          for (const t of engines) {
            for (let rep = 0; rep < 2; rep++) {
              t.translate(makeRequest(1, null, va, { write: q.write }), res);
              if ('fault' in expected) {
                assert.equal(res.ok, false, `va 0x${va.toString(16)} expected fault ${expected.fault}`);
                assert.equal(res.event.type, expected.fault, `va 0x${va.toString(16)}`);
                assert.equal(res.event.s2, stage === 2 && va < 1n << BigInt(f.oasBits));
              } else {
                assert.equal(res.ok, true, `va 0x${va.toString(16)} event ${res.event.type}`);
                assert.equal(BigInt(res.pa), expected.pa);
                assert.equal(BigInt(res.size), expected.size);
              }
            }
          }
        }
      },
    ),
    {
      numRuns: 300,
      examples: [
        // Stage 2 only, IPA = 2^48 = the IAS: a stage 1 Address Size fault, not a stage 2 Translation fault.
        [{ shift: 12, ia: 48 }, 2, false, 0, [{ vaFrac: 0, level: 0, paPage: 0n, lowBits: 0, hiBits: 0 }], [{ pick: 0, off: 321518593n, write: false, random: 0.1999999995350656 }]],
      ],
    },
  );
});

// ---------------------------------------------------------------- fuzzing guest-controlled structures

test('random STE/CD/L1/descriptor contents never throw and reads stay bounded', () => {
  fc.assert(
    fc.property(
      fc.array(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), { minLength: 8, maxLength: 8 }),
      fc.array(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), { minLength: 8, maxLength: 8 }),
      fc.array(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), { minLength: 16, maxLength: 16 }),
      fc.record({ fmt: fc.nat(3), split: fc.nat(31), log2: fc.nat(63), ssid: fc.integer({ min: -1, max: 0xfffff }), addr: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), write: fc.boolean(), instr: fc.boolean(), priv: fc.boolean(), sid: fc.nat(0xffff) }),
      fc.boolean(),
      (steWords, cdWords, junk, q, caches) => {
        const arena = new Arena(0x4000_0000, 1 << 20);
        const t = new Translator(arena.mem, { ...DEFAULT_FEATURES, ssidBits: 20, stallModel: 'stall', termModel: false, hyp: true, attrPermsOvr: true }, { cachesEnabled: caches, tlbSize: 8, configCacheSize: 4 });
        // Fill the first 4 KiB with junk descriptors, point the STE/CD at RAM most of the time.
        for (let i = 0; i < 512; i++) arena.write64(0x4000_0000 + i * 8, junk[i % 16]! ^ BigInt(i));
        const strtab = 0x4000_1000;
        const ste = steWords.map((w, i) => (i === 0 ? (w & ~(((1n << 50n) - 1n) << 6n)) | (0x4000_2000n & ~0x3fn) : i === 3 ? (w & ~(((1n << 52n) - 1n) << 4n)) | 0x4000_0000n : w));
        for (let s = 0; s < 16; s++) arena.writeWords(strtab + s * 64, ste);
        const cd = cdWords.map((w, i) => (i === 1 || i === 2 ? (w & ~(((1n << 52n) - 1n) << 4n)) | 0x4000_0000n : w));
        for (let s = 0; s < 16; s++) arena.writeWords(0x4000_2000 + s * 64, cd);
        t.setStreamTable({ base: strtab, log2Size: q.log2, fmt: q.fmt, split: q.split });
        t.setRecordInvalidSid(true);
        const res = newResult();
        for (let rep = 0; rep < 3; rep++) {
          const before = t.stats().memReads;
          t.translate(makeRequest(q.sid % 16, q.ssid, q.addr, q), res);
          const reads = t.stats().memReads - before;
          // STE (8) + L1STD + L1CD + CD (8) via stage 2 (<= 4 + 4 per structure) + stage 1 (4 levels, each via stage 2) + final stage 2
          assert.ok(reads <= 8 + 1 + 2 * 4 + 1 + 8 * 5 + 4 * 5 + 4, `reads ${reads}`);
          assert.equal(typeof res.ok, 'boolean');
          if (!res.ok) assert.ok(res.event.type === 0 || res.event.type <= 0x25);
          if (q.ssid >= 0) t.invalidation.cfgiCd(q.sid % 16, q.ssid, true);
          t.invalidation.tlbiNhVa(tlbiOp(rep, q.ssid & 0xffff, Number(q.addr & ~0xfffn & ((1n << 52n) - 1n)), true, { tg: rep, num: q.split, scale: q.log2 & 31, ttl: rep }));
        }
        decodeStream(t, q.sid % 16, { maxCds: 4 });
        mappings(t, q.sid % 16, q.ssid < 0 ? null : q.ssid, { limit: 16 });
        translateVerbose(t, makeRequest(q.sid % 16, q.ssid, q.addr, q));
      },
    ),
    { numRuns: 400 },
  );
});

// ---------------------------------------------------------------- nested: reference composition

type NestedRef = { fault: number; s2: boolean; cls: number } | { pa: bigint };

test('nested engine == reference composition of stage-1 and stage-2 walks (random tables)', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(12, 16) as fc.Arbitrary<12 | 16>, fc.constantFrom(12, 14, 16) as fc.Arbitrary<12 | 14 | 16>,
      fc.array(fc.record({ vaPage: fc.nat(63), ipaPage: fc.nat(127), ok: fc.nat(9) }), { minLength: 1, maxLength: 10 }),
      fc.array(fc.record({ ipaPage: fc.nat(127), paPage: fc.nat(255), ok: fc.nat(9), ro: fc.boolean() }), { minLength: 1, maxLength: 12 }),
      fc.nat(5), fc.array(fc.record({ vaPage: fc.nat(70), pick: fc.nat(), mapped: fc.nat(4), write: fc.boolean() }), { minLength: 1, maxLength: 8 }),
      (g1, g2, s1maps, s2maps, holes, queries) => {
        const arena = new Arena(0x4000_0000, 32 << 20);
        const f: SmmuFeatures = { ...DEFAULT_FEATURES };
        // stage 2: IPA [0, 2^32) ; tables region identity-mapped except `holes` pages
        const s2Start = stage2Start(g2, 32)!;
        const s2 = new PageTables(arena, g2, 32, s2Start);
        const s1 = new PageTables(arena, g1, 39, startLevel(39, g1));
        const cd = arena.alloc(64, 64);
        arena.writeWords(cd, arena.cd({ T0SZ: 25, TG0: tg0Of(g1), EPD1: 1, V: 1, IPS: 5, AA64: 1, R: 1, A: 1, ASID: 2, TTB0: BigInt(s1.root) >> 4n }));
        const page1 = 2 ** g1;
        for (const m of s1maps) {
          // mostly point at an IPA that stage 2 maps, sometimes anywhere
          const ipaPage = m.ok === 9 ? m.ipaPage : s2maps[m.ipaPage % s2maps.length]!.ipaPage;
          const d = encodeS1Leaf({ oa: 0x8000_0000n + BigInt(ipaPage) * 0x1_0000n, level3: true, attrIndx: 1, ap: 1, sh: 3, ng: true, af: m.ok !== 0, granuleShift: g1 });
          s1.map(BigInt(m.vaPage * page1), d, 3);
        }
        // identity-map every page the stage-1 tables and the CD live in (S2 granule pages), minus holes
        const tablePages = new Set<number>();
        const g2size = 2 ** g2;
        for (let a = 0x4000_0000; a < 0x4000_0000 + (2 << 20); a += g2size) tablePages.add(a);
        let k = 0;
        for (const a of tablePages) {
          if (holes > 0 && k++ % 7 === holes) continue;
          s2.map(BigInt(a), encodeS2Leaf({ oa: BigInt(a), level3: true, granuleShift: g2 }), 3);
        }
        for (const m of s2maps) {
          const ipa = 0x8000_0000 + m.ipaPage * 0x1_0000;
          s2.map(BigInt(ipa - (ipa % g2size)), encodeS2Leaf({ oa: 0x4100_0000n + BigInt(m.paPage) * 0x1_0000n, level3: true, s2ap: m.ro ? 1 : 3, af: m.ok !== 0, granuleShift: g2 }), 3);
        }
        const strtab = arena.alloc(256, 256);
        arena.writeWords(strtab + 64, arena.ste({
          V: 1, CONFIG: 7, S1_CONTEXT_PTR: BigInt(cd) >> 6n, S2VMID: 3, S2T0SZ: 32, S2SL0: s2Sl0Of(g2, s2Start),
          S2TG: tg0Of(g2), S2PS: 5, S2AA64: 1, S2R: 1, S2TTB: BigInt(s2.root) >> 4n,
        }));
        const read = (a: bigint): bigint | null => (arena.mem.contains(Number(a), 8) ? arena.read64(Number(a)) : null);
        const s2cfg: RefCfg = { stage: 2, shift: g2, ia: 32, start: s2Start, root: BigInt(s2.root), ps: 48, oa52: false, ias: f.oasBits };
        const s1cfg: RefCfg = { stage: 1, shift: g1, ia: 39, start: startLevel(39, g1), root: BigInt(s1.root), ps: 48, oa52: false, ias: f.oasBits };
        const ref = (va: bigint, write: boolean): NestedRef => {
          // CD fetch through stage 2 (CLASS CD)
          const c = refWalk(read, s2cfg, BigInt(cd), false);
          if ('fault' in c) return { fault: c.fault, s2: true, cls: 0 };
          // stage-1 walk whose table reads go through stage 2 (CLASS TT)
          let ttFault: NestedRef | null = null;
          const s1read = (ipa: bigint): bigint | null => {
            const r = refWalk(read, s2cfg, ipa, false);
            if ('fault' in r) {
              ttFault ??= { fault: r.fault, s2: true, cls: 1 };
              return 0n; // makes the stage-1 walk stop with a translation fault; the stage-2 fault wins
            }
            return read(r.pa);
          };
          const r1 = refWalk(s1read, s1cfg, va, write);
          if (ttFault !== null) return ttFault;
          if ('fault' in r1) return { fault: r1.fault, s2: false, cls: r1.fault === EVT.F_WALK_EABT ? 1 : 2 };
          const r2 = refWalk(read, s2cfg, r1.pa, write);
          if ('fault' in r2) return { fault: r2.fault, s2: true, cls: 2 };
          return { pa: r2.pa };
        };
        const t = new Translator(arena.mem, f, { cachesEnabled: true });
        t.setStreamTable({ base: strtab, log2Size: 2, fmt: 0, split: 6 });
        const res = newResult();
        for (const q of queries) {
          const vaPage = q.mapped === 0 ? q.vaPage : s1maps[q.pick % s1maps.length]!.vaPage;
          const va = BigInt(vaPage * page1 + 0x18);
          const e = ref(va, q.write);
          for (let rep = 0; rep < 2; rep++) {
            t.translate(makeRequest(1, null, va, { write: q.write }), res);
            if ('fault' in e) {
              assert.equal(res.ok, false, `va 0x${va.toString(16)}`);
              assert.deepEqual([res.event.type, res.event.s2, res.event.cls], [e.fault, e.s2, e.cls], `va 0x${va.toString(16)}`);
            } else {
              assert.equal(res.ok, true, `va 0x${va.toString(16)} event ${res.event.type}`);
              assert.equal(BigInt(res.pa), e.pa);
            }
          }
        }
      },
    ),
    { numRuns: 150 },
  );
});
