// With caches disabled an unchanged STE or CD is not decoded again: the fetch compares the words
// the decoders read (STE_DECODED_WORDS, CD_DECODED_WORDS) with those of the last decode. These
// tests hold that the decoders read no further, and that the translation then answers as a fresh
// engine would whichever word of the structures changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DEFAULT_FEATURES } from '../features.js';
import { decodeSte, STE_DECODED_WORDS } from './ste-config.js';
import { decodeCd, CD_DECODED_WORDS } from './cd-config.js';
import { Translator } from './translator.js';
import { makeRequest, newResult } from './types.js';
import { encodeS1Leaf, encodeS2Leaf } from '../../spec/smmuv3/pagetable.js';
import { Arena, PageTables } from '../../../test/support/smmu-structures.js';

/** A decode without its raw words, as text (bigints as strings). */
function decoded(d: unknown): string {
  return JSON.stringify(d, (k, v: unknown) => (k === 'words' ? undefined : typeof v === 'bigint' ? `${v}n` : v));
}

const word = fc.integer({ min: 0, max: 0xffff_ffff });
const arena = new Arena();
const validSte = fc.constantFrom(
  arena.ste({ V: 1, CONFIG: 5, S1_CONTEXT_PTR: 0x4000_0000n >> 6n, S1DSS: 2 }),
  arena.ste({ V: 1, CONFIG: 6, S2VMID: 3, S2T0SZ: 24, S2SL0: 1, S2TG: 0, S2PS: 5, S2AA64: 1, S2R: 1, S2TTB: 0x4000_1000n >> 4n }),
  arena.ste({ V: 1, CONFIG: 7, S1_CONTEXT_PTR: 0x4000_0040n >> 6n, S1CDMAX: 3, S2VMID: 3, S2T0SZ: 24, S2SL0: 1, S2TG: 0, S2PS: 5, S2AA64: 1, S2TTB: 0x4000_1000n >> 4n }),
  arena.ste({ V: 1, CONFIG: 4 }),
);

/** The STE or CD `words` with words [from, 16) replaced by `tail`. */
function withTail(words: Uint32Array, from: number, tail: number[]): Uint32Array {
  const w = words.slice();
  for (let i = from; i < 16; i++) w[i] = tail[i - from]!;
  return w;
}

function wordsOf(dwords: bigint[]): Uint32Array {
  const w = new Uint32Array(16);
  dwords.forEach((d, i) => {
    w[2 * i] = Number(d & 0xffff_ffffn);
    w[2 * i + 1] = Number(d >> 32n);
  });
  return w;
}

test('decodeSte reads no word after STE_DECODED_WORDS: STEs that differ only there decode the same', () => {
  const heads = fc.oneof(validSte.map(wordsOf), fc.array(word, { minLength: 16, maxLength: 16 }).map((a) => Uint32Array.from(a)));
  fc.assert(
    fc.property(heads, fc.array(word, { minLength: 16, maxLength: 16 }), fc.boolean(), (w, tail, e2h) => {
      const a = decodeSte(w, DEFAULT_FEATURES, e2h);
      const b = decodeSte(withTail(w, STE_DECODED_WORDS, tail), DEFAULT_FEATURES, e2h);
      assert.equal(decoded(b), decoded(a));
    }),
    { numRuns: 2000 },
  );
});

test('decodeCd reads no word after CD_DECODED_WORDS: CDs that differ only there decode the same', () => {
  const ste = decodeSte(wordsOf(arena.ste({ V: 1, CONFIG: 5, S1_CONTEXT_PTR: 0x4000_0000n >> 6n, S1DSS: 2 })), DEFAULT_FEATURES, false);
  assert.ok(ste.ok);
  const validCd = fc.record({ t0sz: fc.integer({ min: 16, max: 39 }), tg: fc.constantFrom(0, 1, 2), ips: fc.integer({ min: 0, max: 5 }), asid: fc.integer({ min: 0, max: 0xffff }) }).map((c) =>
    wordsOf(arena.cd({ T0SZ: c.t0sz, TG0: c.tg, EPD1: 1, V: 1, IPS: c.ips, AA64: 1, R: 1, A: 1, ASID: c.asid, TTB0: 0x4000_2000n >> 4n, MAIR0: 0x44ff04n })),
  );
  const heads = fc.oneof(validCd, fc.array(word, { minLength: 16, maxLength: 16 }).map((a) => Uint32Array.from(a)));
  fc.assert(
    fc.property(heads, fc.array(word, { minLength: 16, maxLength: 16 }), (w, tail) => {
      const a = decodeCd(w, ste.ste!, DEFAULT_FEATURES);
      const b = decodeCd(withTail(w, CD_DECODED_WORDS, tail), ste.ste!, DEFAULT_FEATURES);
      assert.equal(decoded(b), decoded(a));
    }),
    { numRuns: 2000 },
  );
});

test('caches disabled: after any word of an STE or CD changes, the next access answers as an engine that never saw the old one', () => {
  // SID 0: stage 1 through one CD, VA 0x1000 and 0x2000 with the attributes of MAIR bytes 1 and 5
  // (one in each word of MAIR); SID 1: stage 2 only. VA/IPA 0x1000 maps to a page of its own.
  const a = new Arena();
  const strtab = a.alloc(64 * 4, 256);
  const pt = new PageTables(a, 12, 48, 0);
  pt.map(0x1000n, encodeS1Leaf({ oa: 0x4100_0000n, level3: true, attrIndx: 1, ap: 1, sh: 3, ng: true }), 3);
  pt.map(0x2000n, encodeS1Leaf({ oa: 0x4100_2000n, level3: true, attrIndx: 5, ap: 1, sh: 3, ng: true }), 3);
  const s2 = new PageTables(a, 12, 40, 1);
  s2.map(0x1000n, encodeS2Leaf({ oa: 0x4100_1000n, level3: true }), 3);
  const cd = a.alloc(64, 64);
  const cdWords = a.cd({ T0SZ: 16, TG0: 0, EPD1: 1, V: 1, IPS: 5, AA64: 1, R: 1, A: 1, ASID: 5, TTB0: BigInt(pt.root) >> 4n, MAIR0: 0x44ff04n });
  const steWords = [
    a.ste({ V: 1, CONFIG: 5, S1_CONTEXT_PTR: BigInt(cd) >> 6n }),
    a.ste({ V: 1, CONFIG: 6, S2VMID: 7, S2T0SZ: 24, S2SL0: 1, S2TG: 0, S2PS: 5, S2AA64: 1, S2R: 1, S2TTB: BigInt(s2.root) >> 4n }),
  ];
  const memo = new Translator(a.mem, DEFAULT_FEATURES, { cachesEnabled: false });
  const base = { base: strtab, log2Size: 2, fmt: 0, split: 0 };
  memo.setStreamTable(base);
  const one = (t: Translator, sid: number, va: number): string => {
    const r = newResult();
    return t.translate(makeRequest(sid, null, va, {}), r) ? `pa 0x${r.pa.toString(16)} perms ${r.perms} asid ${r.asid} vmid ${r.vmid} attr ${r.mairAttr} sh ${r.sh}` : `fault 0x${r.event.type.toString(16)}`;
  };
  const outcome = (t: Translator, sid: number): string => `${one(t, sid, 0x1234)}; ${one(t, sid, 0x2234)}`;
  let changed = 0;
  fc.assert(
    fc.property(fc.constantFrom(0, 1), fc.constantFrom('ste', 'cd'), fc.integer({ min: 0, max: 15 }), fc.integer({ min: 0, max: 31 }), (sid, which, w, bit) => {
      a.writeWords(cd, cdWords);
      a.writeWords(strtab, steWords[0]!);
      a.writeWords(strtab + 64, steWords[1]!);
      // The unchanged structures translate (each a page of its own), whatever an earlier run left memoised.
      const before = outcome(memo, sid);
      assert.ok(before.startsWith(sid === 0 ? 'pa 0x41000234 ' : 'pa 0x41001234 '), before);
      const at = (which === 'ste' ? strtab + 64 * sid : cd) + 4 * w;
      const o = a.mem.read32(at)!;
      a.mem.write32(at, (o ^ (1 << bit)) >>> 0);
      const fresh = new Translator(a.mem, DEFAULT_FEATURES, { cachesEnabled: false });
      fresh.setStreamTable(base);
      const want = outcome(fresh, sid);
      if (want !== before) changed++;
      assert.equal(outcome(memo, sid), want, `${which} word ${w} bit ${bit}`);
    }),
    { numRuns: 1500 },
  );
  assert.ok(changed > 150, `${changed} of 1,500 changes changed the answer`);
});
