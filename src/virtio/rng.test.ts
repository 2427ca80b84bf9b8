// virtio-rng (virtio 1.2 §5.4): writable buffers filled from the injected source, at most 4 KiB
// per request, readable buffers ignored, DMA faults counted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtioRng } from './rng.js';
import { F_ACCESS_PLATFORM, F_VERSION_1, rig } from '../../test/support/virtio-kit.js';

function rngRig() {
  let counter = 0;
  const dev = new VirtioRng({ random: (d) => d.forEach((_, i) => (d[i] = counter++ & 0xff)) });
  const r = rig(dev);
  r.drv.init(F_VERSION_1 | F_ACCESS_PLATFORM, 16);
  return { ...r, dev };
}

test('fills every writable segment in order and skips readable ones', () => {
  const { drv, dev, mem } = rngRig();
  const a = drv.buffer(0x2000);
  drv.add([
    { iova: a.iova, len: 10, write: false },
    { iova: a.iova + 0x100, len: 3, write: true },
    { iova: a.iova + 0x200, len: 5, write: true },
  ]);
  drv.kick();
  assert.deepEqual(drv.takeUsed(), [{ id: 0, len: 8 }]);
  const x = new Uint8Array(8);
  mem.readBytes(a.pa + 0x100, x.subarray(0, 3));
  mem.readBytes(a.pa + 0x200, x.subarray(3));
  assert.deepEqual([...x], [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.equal(mem.read8(a.pa), 0); // the readable buffer is untouched
  assert.deepEqual(dev.stats, { requests: 1, bytes: 8, faults: 0 });
});

test('at most 4 KiB per request; a faulting buffer ends the request with what was written', () => {
  const { drv, dev, port } = rngRig();
  const a = drv.buffer(0x3000);
  drv.add([{ iova: a.iova, len: 0x3000, write: true }]);
  drv.kick();
  assert.deepEqual(drv.takeUsed(), [{ id: 0, len: 4096 }]);
  port.holes.push([a.iova + 0x1000, 0x1000]);
  drv.add([
    { iova: a.iova, len: 16, write: true },
    { iova: a.iova + 0x1000, len: 16, write: true },
  ]);
  drv.kick();
  assert.deepEqual(drv.takeUsed().map((u) => u.len), [16]);
  assert.equal(dev.stats.faults, 1);
});
