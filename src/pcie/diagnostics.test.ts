// The diagnostics log keeps counters for everything and only the last N records, oldest first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PcieDiagnostics } from './diagnostics.js';

test('ring keeps the last N records in order; counters count everything', () => {
  const d = new PcieDiagnostics(3);
  for (let i = 0; i < 5; i++) d.record(i % 2 ? 'msi-dropped' : 'dma-fault', `f${i}`, 1, 0x0100 + i, 0x1000 * i, 4, i % 2 ? '' : 'F_TRANSLATION');
  assert.equal(d.count(), 5);
  assert.equal(d.count('dma-fault'), 3);
  assert.equal(d.count('msi-dropped'), 2);
  assert.deepEqual(d.counts(), { 'dma-fault': 3, 'msi-dropped': 2 });
  assert.deepEqual(d.recent().map((r) => [r.seq, r.source]), [[2, 'f2'], [3, 'f3'], [4, 'f4']]);
  assert.deepEqual(d.messages(), [
    'dma-fault: f2 (0001:01:00.2) iova 0x2000 len 4 (F_TRANSLATION)',
    'msi-dropped: f3 (0001:01:00.3) address 0x3000 data 0x4',
    'dma-fault: f4 (0001:01:00.4) iova 0x4000 len 4 (F_TRANSLATION)',
  ]);
  d.clear();
  assert.equal(d.count(), 0);
  assert.deepEqual(d.recent(), []);
  assert.throws(() => new PcieDiagnostics(0), RangeError);
});
