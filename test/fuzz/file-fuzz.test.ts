// A short fixed-seed run of the file fuzzer (test/fuzz/file-fuzz.ts): mutated IORT/MADT/DTB images
// through decode and lint, mutated platform and scenario YAML through the loaders and the firmware
// build. Only UserInputError may come out; no case may exceed its time or heap limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runFileFuzz } from './file-fuzz.js';

test('mutated firmware images and YAML files: only UserInputError, each case within its time and heap limits', () => {
  const r = runFileFuzz(20_251_205, 80, 5000, 256);
  assert.deepEqual(r.findings, []);
  assert.ok(r.rejected > 0 && r.rejected < r.cases, `mutations both rejected and accepted (${r.rejected}/${r.cases} rejected)`);
});
