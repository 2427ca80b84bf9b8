// virtio-blk requests (virtio 1.2 §5.2.6): IN/OUT/FLUSH/GET_ID, status bytes, used lengths,
// range and length checks, DMA faults on data buffers, segmented and indirect requests, counters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtioBlk } from './blk.js';
import { FileBlockBackend, MemoryBlockBackend, type BlockBackend } from './block-backend.js';
import { UserInputError } from '../util/errors.js';
import { BLK_FLUSH, BLK_GET_ID, F_ACCESS_PLATFORM, F_INDIRECT, F_VERSION_1, REG, S_NEEDS_RESET, TestBlkDriver, rig } from '../../test/support/virtio-kit.js';

const OK = 0, IOERR = 1, UNSUPP = 2;

function blkRig(backend: BlockBackend, opts: ConstructorParameters<typeof VirtioBlk>[1] = {}) {
  const dev = new VirtioBlk(backend, opts);
  const r = rig(dev);
  r.drv.init(F_VERSION_1 | F_ACCESS_PLATFORM | F_INDIRECT, 64);
  return { ...r, dev, blk: new TestBlkDriver(r.drv) };
}

function pattern(len: number, seed: number): Uint8Array {
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = (i * 131 + seed * 7 + (i >> 9)) & 0xff;
  return b;
}

test('capacity in 512-byte sectors; a partial trailing sector is not exposed', () => {
  const { blk, dev } = blkRig(new MemoryBlockBackend(1000 * 512 + 100));
  assert.equal(blk.capacity(), 1000);
  assert.equal(dev.capacity, 1000);
});

test('OUT then IN round-trips data; used length = data + status for IN, status only for OUT', () => {
  const mem = new MemoryBlockBackend(1 << 20);
  const { blk, dev } = blkRig(mem);
  const data = pattern(8192, 1);
  assert.deepEqual(blk.write(10, data), { status: OK, len: 1 });
  assert.deepEqual(mem.bytes.subarray(10 * 512, 10 * 512 + 8192), data);
  const r = blk.read(10, 8192);
  assert.equal(r.status, OK);
  assert.equal(r.len, 8193);
  assert.deepEqual(r.bytes, data);
  assert.deepEqual({ ...dev.stats }, { ...dev.stats, requests: 2, reads: 1, writes: 1, bytesRead: 8192, bytesWritten: 8192, ioErrors: 0, faults: 0 });
});

test('segmented and indirect requests move the same bytes', () => {
  const mem = new MemoryBlockBackend(1 << 20);
  const { blk } = blkRig(mem);
  const data = pattern(16384, 2);
  assert.equal(blk.write(64, data, { pieces: 8, indirect: true }).status, OK);
  assert.deepEqual(blk.read(64, 16384, { pieces: 5 }).bytes, data);
  assert.deepEqual(blk.read(64, 16384, { pieces: 32, indirect: true }).bytes, data);
});

test('out-of-range sectors, partial sectors and oversized requests are IOERR; the disk is untouched', () => {
  const mem = new MemoryBlockBackend(64 * 512);
  const { blk, dev, drv } = blkRig(mem, { sizeMax: 4096, segMax: 2 });
  assert.equal(blk.read(64, 512).status, IOERR); // first sector past the end
  assert.equal(blk.read(63, 1024).status, IOERR); // runs past the end
  assert.equal(blk.read(2 ** 40, 512).status, IOERR);
  assert.equal(blk.write(0, new Uint8Array(100)).status, IOERR); // not a whole sector
  assert.equal(blk.write(0, new Uint8Array(8192 + 512)).status, IOERR); // > SIZE_MAX x SEG_MAX
  assert.equal(blk.read(63, 512).status, OK); // the last sector is fine
  assert.ok(mem.bytes.every((b) => b === 0));
  assert.equal(dev.stats.ioErrors, 5);
  assert.equal(drv.r(REG.status) & S_NEEDS_RESET, 0); // request errors do not stop the device
});

test('FLUSH calls the backend; GET_ID returns the serial; unknown types are UNSUPP', () => {
  let flushes = 0;
  const mem = new MemoryBlockBackend(4096);
  const backend: BlockBackend = { size: mem.size, read: (o, d) => mem.read(o, d), write: (o, s) => mem.write(o, s), flush: () => void flushes++ };
  const { blk, dev } = blkRig(backend, { serial: 'disk-0' });
  assert.equal(blk.simple(BLK_FLUSH).status, OK);
  assert.equal(flushes, 1);
  const id = blk.simple(BLK_GET_ID, 20);
  assert.equal(id.status, OK);
  assert.equal(id.len, 21);
  assert.equal(new TextDecoder().decode(id.bytes.subarray(0, 6)), 'disk-0');
  assert.ok(id.bytes.subarray(6).every((b) => b === 0));
  assert.equal(blk.simple(11 /* DISCARD, not offered */).status, UNSUPP);
  assert.equal(blk.simple(0x7777).status, UNSUPP);
  assert.equal(dev.stats.unsupported, 2);
});

test('a DMA fault on a data buffer completes the request with IOERR and is counted', () => {
  const { blk, dev, port } = blkRig(new MemoryBlockBackend(1 << 20));
  port.holes.push([blk.data.iova + 4096, 4096]);
  assert.equal(blk.read(0, 8192).status, IOERR);
  assert.equal(blk.write(0, new Uint8Array(8192).fill(1)).status, IOERR);
  assert.equal(dev.stats.faults, 2);
  assert.equal(dev.stats.ioErrors, 2);
  port.holes = [];
  assert.equal(blk.read(0, 8192).status, OK);
});

test('host I/O errors are IOERR; read-only backends offer VIRTIO_BLK_F_RO and refuse OUT', () => {
  const failing: BlockBackend = {
    size: 1 << 16,
    read: () => {
      throw new Error('EIO');
    },
    write: () => {
      throw new Error('EIO');
    },
    flush: () => {
      throw new Error('EIO');
    },
  };
  const f = blkRig(failing);
  assert.equal(f.blk.read(0, 512).status, IOERR);
  assert.equal(f.blk.write(0, new Uint8Array(512)).status, IOERR);
  assert.equal(f.blk.simple(BLK_FLUSH).status, IOERR);
  const ro = new MemoryBlockBackend(4096) as MemoryBlockBackend & { readOnly: boolean };
  ro.readOnly = true;
  const dev = new VirtioBlk(ro);
  assert.equal(dev.features.lo & (1 << 5), 1 << 5);
  const r = blkRig(ro);
  assert.equal(r.blk.write(0, new Uint8Array(512).fill(9)).status, IOERR);
  assert.ok(ro.bytes.every((b) => b === 0));
});

test('a chain without a header or a status byte completes with length 0', () => {
  const { drv, dev } = blkRig(new MemoryBlockBackend(4096));
  const b = drv.buffer(64);
  drv.add([{ iova: b.iova, len: 8, write: false }, { iova: b.iova + 32, len: 1, write: true }]);
  drv.add([{ iova: b.iova, len: 16, write: false }]);
  drv.kick();
  assert.deepEqual(drv.takeUsed().map((u) => u.len), [0, 0]);
  assert.equal(dev.stats.malformed, 2);
});

test('file backend: reads and writes the file in place; missing file is a UserInputError', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vsmmu-blk-'));
  try {
    const path = join(dir, 'disk.img');
    const init = pattern(64 * 512, 3);
    writeFileSync(path, init);
    const be = FileBlockBackend.open(path);
    try {
      const { blk } = blkRig(be);
      assert.equal(blk.capacity(), 64);
      assert.deepEqual(blk.read(4, 2048).bytes, init.subarray(2048, 4096));
      const data = pattern(1024, 4);
      assert.equal(blk.write(8, data).status, OK);
      assert.equal(blk.simple(BLK_FLUSH).status, OK);
    } finally {
      be.close();
    }
    const after = readFileSync(path);
    assert.deepEqual(new Uint8Array(after.subarray(4096, 5120)), pattern(1024, 4));
    assert.deepEqual(new Uint8Array(after.subarray(0, 4096)), init.subarray(0, 4096));
    const ro = FileBlockBackend.open(path, { readOnly: true });
    assert.equal(ro.readOnly, true);
    ro.close();
    assert.throws(() => FileBlockBackend.open(join(dir, 'missing.img')), (e: unknown) => e instanceof UserInputError && /missing\.img/.test(e.message));
    assert.throws(() => FileBlockBackend.open(dir), UserInputError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
