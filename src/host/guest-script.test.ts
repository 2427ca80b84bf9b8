import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { defaultRunScript, diskName, initScript, MARK, planDisk } from './guest-script.js';

test('disk names follow the kernel: vda..vdz, then vdaa', () => {
  assert.deepEqual([0, 1, 25, 26, 27, 51, 52].map(diskName), ['vda', 'vdb', 'vdz', 'vdaa', 'vdab', 'vdaz', 'vdba']);
});

test('planned regions are 64 KiB aligned, inside the disk and never overlap (property)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 512, max: 256 << 20 }), fc.integer({ min: 0, max: 0xffff_ffff }), (size, seed) => {
      const p = planDisk('vda', size, true, seed);
      const all = [...p.reads, ...p.writes].sort((a, b) => a.offset - b.offset);
      for (const r of all) {
        assert.equal(r.offset % 0x1_0000, 0);
        assert.equal(r.length % 0x1_0000, 0);
        assert.ok(r.length > 0);
        assert.ok(r.offset + r.length <= size, `${r.offset}+${r.length} > ${size}`);
      }
      for (let i = 1; i < all.length; i++) assert.ok(all[i - 1]!.offset + all[i - 1]!.length <= all[i]!.offset, 'overlap');
      if (size >= 64 << 20) {
        assert.equal(p.reads.length, 5);
        assert.equal(p.writes.length, 5);
        assert.ok(p.reads.reduce((n, r) => n + r.length, 0) >= 6 << 20, 'several MiB read');
      }
    }),
    { numRuns: 300 },
  );
  assert.deepEqual(planDisk('vda', 0x1_0000 * 3, true, 1).reads, [], 'too small for a region per stripe: no checks');
});

test('the same seed gives the same plan; another seed moves the regions', () => {
  assert.deepEqual(planDisk('vda', 64 << 20, true, 7), planDisk('vda', 64 << 20, true, 7));
  assert.notDeepEqual(planDisk('vda', 64 << 20, true, 7).reads, planDisk('vda', 64 << 20, true, 8).reads);
});

test('the init script waits for every disk, brackets the run with markers, and powers off', () => {
  const s = initScript({ modules: ['/x/virtio_mmio.ko', '/x/virtio_blk.ko'], disks: ['vda', 'vdb'], mode: 'run', waitForDump: true });
  assert.match(s, /^#!\/bin\/busybox sh\n/);
  assert.match(s, /insmod \/modules\/virtio_mmio\.ko[^\n]*\ninsmod \/modules\/virtio_blk\.ko/);
  assert.match(s, /for d in vda vdb; do/);
  assert.match(s, /\[ \$n -eq 2 \]/);
  const order = [MARK.init, MARK.runBegin, 'sh /run.sh', MARK.runEnd, MARK.dumpReady, 'read -r _', 'poweroff -f'].map((m) => s.indexOf(m));
  assert.ok(order.every((i) => i >= 0), JSON.stringify(order));
  assert.deepEqual([...order].sort((a, b) => a - b), order);
  const i = initScript({ modules: [], disks: [], mode: 'interactive', waitForDump: false });
  assert.ok(i.includes('setsid cttyhack sh') && !i.includes(MARK.runBegin) && i.includes('poweroff -f'));
});

test('the default run runs every disk as its own background job and reports every planned region', () => {
  const plans = [planDisk('vda', 64 << 20, true, 1), planDisk('vdb', 64 << 20, false, 2)];
  const s = defaultRunScript(plans);
  assert.equal((s.match(/^\) &$/gm) ?? []).length, 2);
  assert.match(s, /\nwait\nsync\n$/);
  for (const p of plans) {
    for (const r of p.reads) assert.ok(s.includes(`VSMMU-READ ${p.dev} ${r.offset} ${r.length} `), `read ${p.dev} ${r.offset}`);
    for (const r of p.writes) assert.ok(s.includes(`VSMMU-WRITE ${p.dev} ${r.offset} ${r.length} `), `write ${p.dev} ${r.offset}`);
    assert.ok(s.includes(`iflag=direct`) && s.includes('oflag=direct'));
  }
  // A scratch disk gets fresh random data; a user's disk gets its own bytes back.
  assert.ok(s.includes('dd if=/dev/urandom of=/tmp/w-vda'));
  assert.ok(!s.includes('dd if=/dev/urandom of=/tmp/w-vdb'));
  assert.ok(s.includes('dd if=/dev/vdb of=/tmp/w-vdb'));
});
