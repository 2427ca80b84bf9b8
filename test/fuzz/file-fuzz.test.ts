// A short fixed-seed run of the file fuzzer (test/fuzz/file-fuzz.ts): mutated IORT/MADT/DTB images
// through decode and lint, mutated platform YAML through the loader and the firmware build,
// mutated scenarios through `run`, mutated RAM images and register dumps through `inspect`. Only
// UserInputError may come out; no case may exceed its time or heap limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runFileFuzz } from './file-fuzz.js';

test('mutated firmware images, YAML files, scenarios and SMMU dumps: only UserInputError, each case within its time and heap limits', () => {
  const r = runFileFuzz(20_251_205, 160, 5000, 256);
  assert.deepEqual(r.findings, []);
  assert.ok(r.rejected > 0 && r.rejected < r.cases, `mutations both rejected and accepted (${r.rejected}/${r.cases} rejected)`);
  // Every command was exercised with inputs it accepted, not only with ones it refused.
  for (const kind of ['decode+lint', 'platform', 'run', 'inspect']) {
    const k = r.byKind[kind];
    assert.ok(k && k.cases - k.rejected > 0, `${kind}: ${JSON.stringify(k)}`);
  }
});
