// User YAML is read within bounds: nesting beyond MAX_YAML_DEPTH, alias bombs and keys that are
// mappings or sequences are one UserInputError naming file and line (never a stack overflow, an out-of-memory abort or the
// YAML library's internal error), and the one-pass depth scan never underestimates the nesting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { UserInputError } from '../util/errors.js';
import { lineExceedingDepth, MAX_YAML_DEPTH, readYamlInput } from './yaml-input.js';

function depthOf(v: unknown): number {
  if (v === null || typeof v !== 'object') return 0;
  const kids = Array.isArray(v) ? v : Object.values(v as object);
  return 1 + Math.max(0, ...kids.map(depthOf));
}

function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof UserInputError, `expected a UserInputError, got ${String(e)}`);
    return e.message;
  }
  assert.fail('no error');
}

test('deep flow and block nesting is refused at the line where it goes too deep', () => {
  const d = 20_000;
  const flow = `a: 1\nx: ${'['.repeat(d)}${']'.repeat(d)}\n`;
  assert.equal(errorOf(() => readYamlInput(flow, 'f.yaml')), `f.yaml:2: nested deeper than ${MAX_YAML_DEPTH} levels (mappings and sequences); flatten the document`);
  let block = 'top: 1\n';
  for (let i = 0; i < 400; i++) block += `${' '.repeat(i)}k:\n`;
  assert.match(errorOf(() => readYamlInput(block, 'b.yaml')), new RegExp(`^b\\.yaml:${MAX_YAML_DEPTH + 2}: nested deeper than`));
  assert.match(errorOf(() => readYamlInput(`${'- '.repeat(1000)}x\n`, 'c.yaml')), /^c\.yaml:1: nested deeper than/);
  // Just under the limit the document is read.
  const ok = `x: ${'['.repeat(MAX_YAML_DEPTH - 1)}${']'.repeat(MAX_YAML_DEPTH - 1)}\n`;
  assert.equal(depthOf(readYamlInput(ok, 'ok.yaml').data), MAX_YAML_DEPTH);
});

test('brackets inside quoted strings, comments and plain words do not count as nesting', () => {
  const text = [`a: "${'['.repeat(500)}"`, `b: '${'{'.repeat(500)}'`, `c: 1 # ${'['.repeat(500)}`, `d: x${'['.repeat(500)}`, ''].join('\n');
  assert.equal(lineExceedingDepth(text, 4), 0);
  assert.deepEqual(readYamlInput(text, 't.yaml').data, { a: '['.repeat(500), b: '{'.repeat(500), c: 1, d: `x${'['.repeat(500)}` });
});

test('an alias bomb is one error naming the line of an alias', () => {
  const refs = Array.from({ length: 150 }, () => '*a').join(', ');
  const text = `base: &a [1, 2]\nmany: [${refs}]\n`;
  assert.equal(errorOf(() => readYamlInput(text, 'a.yaml')), 'a.yaml:2: aliases expand to too many nodes (more than 100 alias references, the guard against alias bombs); write the values out');
  // A few aliases are fine.
  assert.deepEqual(readYamlInput('base: &a [1]\nuse: [*a, *a]\n', 'ok.yaml').data, { base: [1], use: [[1], [1]] });
});

test('a mapping or sequence as a mapping key is one error naming its line, with no warning from the YAML library', async () => {
  const warnings: string[] = [];
  const onWarning = (w: Error): void => void warnings.push(w.message);
  process.on('warning', onWarning);
  try {
    const msg = 'a mapping key must be a plain value (a name or a number), not a mapping or a sequence';
    assert.equal(errorOf(() => readYamlInput('a: 1\n? [x, y]\n: 2\n', 'k.yaml')), `k.yaml:2: ${msg}`);
    assert.equal(errorOf(() => readYamlInput('a: 1\nb:\n  {c: 1}: 2\n', 'm.yaml')), `m.yaml:3: ${msg}`);
    assert.equal(errorOf(() => readYamlInput('{"a": 1, [1]: 2}', 'j.json')), `j.json:1: ${msg}`);
    // An alias of a mapping, used as a key.
    assert.equal(errorOf(() => readYamlInput('base: &b {x: 1}\nuse:\n  ? *b\n  : 2\n', 'a.yaml')), `a.yaml:3: ${msg}`);
    // Plain keys, numbers and an alias of a plain value are read.
    assert.deepEqual(readYamlInput('n: &k name\n1: one\n? *k\n: v\n', 'ok.yaml').data, { n: 'name', 1: 'one', name: 'v' });
  } finally {
    process.off('warning', onWarning);
  }
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(warnings, []);
});

test('property: the depth scan never underestimates the nesting of YAML or JSON text', () => {
  const value = fc.letrec((tie) => ({
    v: fc.oneof({ depthSize: 'small' }, fc.integer(), fc.string(), fc.constant(null), fc.array(tie('v'), { maxLength: 3 }), fc.dictionary(fc.string(), tie('v'), { maxKeys: 3 })),
  })).v;
  fc.assert(
    fc.property(value, (v) => {
      const d = depthOf(v);
      for (const text of [stringify(v), JSON.stringify(v), stringify(v, { collectionStyle: 'flow' })]) {
        if (d > 0) assert.ok(lineExceedingDepth(text, d - 1) > 0, text);
      }
    }),
    { numRuns: 300, seed: 12 },
  );
});

test('property: JSON text is not overestimated (at most one level for the document itself)', () => {
  const value = fc.letrec((tie) => ({
    v: fc.oneof({ depthSize: 'small' }, fc.integer(), fc.string(), fc.array(tie('v'), { maxLength: 3 }), fc.dictionary(fc.string(), tie('v'), { maxKeys: 3 })),
  })).v;
  fc.assert(
    fc.property(value, (v) => {
      const d = depthOf(v);
      assert.equal(lineExceedingDepth(JSON.stringify(v), d + 1), 0);
    }),
    { numRuns: 300, seed: 13 },
  );
});
