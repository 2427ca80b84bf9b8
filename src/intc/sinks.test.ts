// The recording sinks stay bounded whatever the guest does: the LPI log is a ring of the last
// `logLimit` calls with running counts; the SPI recorder keeps the last `limit` SPIs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LPI_LOG_DEFAULT, LpiRecorder, SpiRecorder } from './sinks.js';

test('LpiRecorder: a million calls keep a ring of the last logLimit entries and exact counts', () => {
  const r = new LpiRecorder();
  const n = 1_000_000;
  for (let i = 0; i < n; i++) {
    if (i % 4 === 3) r.lpiCleared(i & 3, 8192 + (i % 50_000));
    else r.lpiPending(i & 3, 8192 + (i % 50_000), 0xa0);
  }
  const log = r.log;
  assert.equal(log.length, LPI_LOG_DEFAULT);
  assert.equal(r.counts.pending + r.counts.cleared, n);
  assert.equal(r.counts.cleared, n / 4);
  assert.equal(r.counts.overwritten, n - LPI_LOG_DEFAULT);
  // Oldest first, ending with the most recent call.
  const last = n - 1;
  assert.deepEqual(log.at(-1), { kind: 'cleared', pe: last & 3, intid: 8192 + (last % 50_000) });
  const first = n - LPI_LOG_DEFAULT;
  assert.deepEqual(log[0], { kind: first % 4 === 3 ? 'cleared' : 'pending', pe: first & 3, intid: 8192 + (first % 50_000) });
  // The forwardable state is exact and bounded by the INTIDs used.
  assert.ok(r.pendingOn(0).length <= 50_000);
  r.clearLog();
  assert.deepEqual(r.log, []);
  assert.equal(r.counts.pending, 0);
});

test('LpiRecorder: logLimit 0 and logEnabled = false log nothing but still count; a small ring wraps in order', () => {
  const none = new LpiRecorder({ logLimit: 0 });
  none.lpiPending(0, 8192, 0);
  assert.deepEqual(none.log, []);
  assert.equal(none.counts.pending, 1);
  assert.deepEqual(none.pendingOn(0), [8192]);
  const off = new LpiRecorder();
  off.logEnabled = false;
  off.lpiPending(1, 8193, 0);
  assert.deepEqual(off.log, []);
  assert.equal(off.counts.pending, 1);
  const small = new LpiRecorder({ logLimit: 3 });
  for (let i = 0; i < 5; i++) small.lpiPending(0, 8192 + i, 0);
  assert.deepEqual(small.log.map((e) => e.intid), [8194, 8195, 8196]);
  assert.throws(() => new LpiRecorder({ logLimit: -1 }), RangeError);
});

test('SpiRecorder keeps the last `limit` SPIs and a total', () => {
  const s = new SpiRecorder(4);
  for (let i = 0; i < 10; i++) s.spiPending(32 + i);
  assert.deepEqual(s.spis, [38, 39, 40, 41]);
  assert.equal(s.total, 10);
});
