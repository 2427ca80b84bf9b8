import assert from 'node:assert/strict';
import { test } from 'node:test';
import { driverLines, guestEvents, parseIoLines, parseRun, summarize } from './boot-report.js';

const CONSOLE = [
  '[    0.393561] iommu: Default domain type: Translated ',
  '[    0.699578] arm-smmu-v3 80000000.smmuv3: ias 48-bit, oas 48-bit (features 0x0008878f)',
  'VSMMU-INIT',
  '[    1.331883] virtio-mmio 80100000.virtio_mmio: Adding to iommu group 0',
  'VSMMU-RUN-BEGIN',
  'hello',
  '[    1.500000] arm-smmu-v3 80000000.smmuv3: printed by dmesg in the run',
  `VSMMU-READ vda 655360 524288 ${'a'.repeat(64)} 30000000`,
  `VSMMU-WRITE vdb 1048576 262144 ${'b'.repeat(64)} ${'c'.repeat(64)} 1 10000000`,
  'VSMMU-RUN-END 3',
  'VSMMU-DMESG-BEGIN',
  '[    0.393561] iommu: Default domain type: Translated ',
  '[    0.699578] arm-smmu-v3 80000000.smmuv3: ias 48-bit, oas 48-bit (features 0x0008878f)',
  '[    1.331883] virtio-mmio 80100000.virtio_mmio: Adding to iommu group 0',
  '[    2.500000] arm-smmu-v3 80000000.smmuv3: event 0x10 received:',
  'VSMMU-DMESG-END',
  '[    3.928710] reboot: Power down',
].join('\r\n');

test('the run output is everything between the markers; the status is the marker value', () => {
  const r = parseRun(CONSOLE);
  assert.equal(r.status, 3);
  assert.deepEqual(r.output.split('\n'), ['hello', '[    1.500000] arm-smmu-v3 80000000.smmuv3: printed by dmesg in the run', `VSMMU-READ vda 655360 524288 ${'a'.repeat(64)} 30000000`, `VSMMU-WRITE vdb 1048576 262144 ${'b'.repeat(64)} ${'c'.repeat(64)} 1 10000000`]);
  assert.deepEqual(parseRun('no markers'), { output: '', status: null });
  assert.equal(parseRun('VSMMU-RUN-BEGIN\nhalf').status, null, 'a run cut short has no status');
});

test('driver lines are the kernel log lines of arm-smmu-v3 and the IOMMU core (from the log printed after the run)', () => {
  const want = ['iommu: Default domain type: Translated ', 'arm-smmu-v3 80000000.smmuv3: ias 48-bit, oas 48-bit (features 0x0008878f)', 'virtio-mmio 80100000.virtio_mmio: Adding to iommu group 0'];
  assert.deepEqual(driverLines(CONSOLE).map((l) => l.slice(15)), [...want, 'arm-smmu-v3 80000000.smmuv3: event 0x10 received:']);
  // Without the log section (an interactive session): the console's own kernel lines.
  const consoleOnly = CONSOLE.split('\r\n').filter((l) => !l.startsWith('VSMMU-DMESG') && !/event 0x10/.test(l)).join('\n');
  assert.ok(driverLines(consoleOnly).map((l) => l.slice(15)).join('|').startsWith(want.join('|')));
});

test('I/O result lines', () => {
  const io = parseIoLines(parseRun(CONSOLE).output);
  assert.deepEqual(io, [
    { kind: 'READ', dev: 'vda', offset: 655360, length: 524288, sha: 'a'.repeat(64), readBack: null, status: 0, ns: 30_000_000 },
    { kind: 'WRITE', dev: 'vdb', offset: 1048576, length: 262144, sha: 'b'.repeat(64), readBack: 'c'.repeat(64), status: 1, ns: 10_000_000 },
  ]);
});

test('latency summary: nearest-rank percentiles of what was measured', () => {
  assert.deepEqual(summarize([]), { count: 0, p50: null, p90: null, p99: null, max: null });
  const xs = Array.from({ length: 100 }, (_, i) => 100 - i);
  assert.deepEqual(summarize(xs), { count: 100, p50: 51, p90: 91, p99: 100, max: 100 });
});

test("the guest's printed event records, once each although the console and the kernel log both show them", () => {
  const rec = [
    '[   12.000001] arm-smmu-v3 80000000.smmuv3: event 0x10 received:',
    '[   12.000002] arm-smmu-v3 80000000.smmuv3: \t0x0000000800000010',
    '[   12.000003] arm-smmu-v3 80000000.smmuv3: \t0x0000120800000000',
    '[   12.000004] arm-smmu-v3 80000000.smmuv3: \t0x0000000012345000',
    '[   12.000005] arm-smmu-v3 80000000.smmuv3: \t0x0000000000000000',
  ];
  const con = [...rec, 'VSMMU-DMESG-BEGIN', ...rec, '[   13.000001] arm-smmu-v3 80000000.smmuv3: event 0x02 received:', 'VSMMU-DMESG-END'].join('\r\n');
  assert.deepEqual(guestEvents(con), [
    { code: 0x10, words: ['0x0000000800000010', '0x0000120800000000', '0x0000000012345000', '0x0000000000000000'] },
    { code: 0x02, words: [] },
  ]);
});
