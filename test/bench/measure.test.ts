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

test('a serial workload visits the same indexes as the plain one, each once and in order', () => {
  const seen = (serial: boolean): Float64Array => {
    const ctx = { sink: 0, n: 0, idx: new Float64Array(4096) };
    // The result added to sink is large (so a wrong dependency term would show), and the index is recorded.
    const w: Workload = { ctx, body: 'ctx.idx[ctx.n++ & 4095] = i; sink += 1e15 + i;', serial };
    pair(w, { ctx: { sink: 0 }, body: 'sink += i;' }, quick);
    assert.ok(ctx.n > 4096);
    return ctx.idx;
  };
  for (const serial of [false, true]) {
    const idx = seen(serial);
    let steps = 0;
    // Consecutive records are consecutive indexes, except where one batch ends and the next begins.
    for (let k = 1; k < idx.length; k++) if (idx[k] === idx[k - 1]! + 1) steps++;
    assert.ok(steps >= idx.length - 16, `serial=${serial}: ${steps} of ${idx.length - 1} steps are +1`);
  }
});
