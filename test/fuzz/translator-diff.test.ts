// The translator differential fuzz finds differences and reports none between an engine and
// itself: run against the current engine twice (must agree on every access), and against an
// engine altered to answer one kind of access wrongly (must report it, with the seed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Translator } from '../../src/smmu/translation/translator.js';
import type { TranslationRequest, TranslationResult } from '../../src/smmu/translation/types.js';
import { runTranslatorDiff, type EngineFactory } from './translator-diff.js';

const current: EngineFactory = (mem, features, options) => new Translator(mem, features, options);

test('the current engine agrees with itself over many random runs that reach translations and faults', () => {
  let ok = 0;
  let faults = 0;
  for (let seed = 1; seed <= 60; seed++) {
    const r = runTranslatorDiff(current, current, seed, 400);
    assert.equal(r.finding, null, JSON.stringify(r.finding));
    ok += r.ok;
    faults += r.faults;
  }
  assert.ok(ok > 1000 && faults > 1000, `translations ${ok}, faults ${faults}`);
});

test('an engine that answers writes to 2 MiB blocks one page off is found', () => {
  class Altered extends Translator {
    override translate(req: TranslationRequest, out: TranslationResult): boolean {
      const ok = super.translate(req, out);
      if (ok && req.write && out.size === 0x20_0000) out.pa += 0x1000;
      return ok;
    }
  }
  const altered: EngineFactory = (mem, features, options) => new Altered(mem, features, options);
  let found = null;
  for (let seed = 1; seed <= 200 && found === null; seed++) found = runTranslatorDiff(current, altered, seed, 400).finding;
  assert.notEqual(found, null);
  assert.match(found!.what, /pa differs/);
});
