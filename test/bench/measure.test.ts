// The benchmark's allocation figure (bench/measure.ts): counted on the young generation of the loop
// that was timed, it reads 0 for an operation that allocates nothing and at least the size of a
// heap object for one that allocates one per call. No timing is asserted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pair, type Workload } from '../../bench/measure.js';

const quick = { reps: 3, repNs: 2_000_000, warmNs: 5_000_000 };

test('bytes per operation: 0 for arithmetic on numbers, >= 12 for an object kept per call', () => {
  const none: Workload = { ctx: { sink: 0, xs: new Float64Array(1024).map((_, i) => i * 1.5e9) }, body: 'sink += ctx.xs[i & 1023] * 3;' };
  // Storing the object in a field makes it escape: the optimising compiler cannot remove it.
  const one: Workload = { ctx: { sink: 0, kept: null }, body: 'ctx.kept = { i }; sink += i;' };
  const [a, b] = pair(one, none, quick);
  assert.ok(a.bytesPerOp >= 12, `an object per call: ${a.bytesPerOp} B/op`);
  assert.equal(b.bytesPerOp, 0);
});
