// docs/translation.md's example runs as written and prints what its comments say it prints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, runExample, tsBlocks } from './run-example.js';

/** The expected output of each `console.log(...); // a b c (note)` line: "a b c". */
export function expectedOutputs(code: string): string[] {
  return code
    .split('\n')
    .filter((l) => l.trimStart().startsWith('console.log(') && l.includes('//'))
    .map((l) => l.slice(l.indexOf('//') + 2).replace(/\(.*\)/, '').trim());
}

test('expected outputs are read from the comments', () => {
  assert.deepEqual(expectedOutputs('x();\nconsole.log(a, b); // true 16 (why)\nconsole.log(c);'), ['true 16']);
});

test('docs/translation.md: the example prints what its comments say', () => {
  const blocks = tsBlocks(readFileSync(join(ROOT, 'docs', 'translation.md'), 'utf8'));
  const example = blocks.find((b) => b.includes('console.log'));
  assert.ok(example, 'the example block');
  const want = expectedOutputs(example);
  assert.ok(want.length >= 4);
  const r = runExample(example);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), want);
});
