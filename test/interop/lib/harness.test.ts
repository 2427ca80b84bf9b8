// Unit tests of the interop harness's own parsers and rules (run by `npm test`; the QEMU/Linux
// tests themselves are the *.interop.ts files). Inputs are real outputs captured from QEMU 7.2 and
// Linux 6.1 (console, trace lines) or the formats' definitions (newc cpio).
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { describe, test } from 'node:test';
import { cpioNewc, cpioNewcGz } from '../../../src/host/cpio.js';
import { compare, type Scenario } from './differential.js';
import { guestReportProblems, parseGuestReport } from './guest-report.js';
import { foldBursts, summarise, type Ev, type Observation } from './observe.js';
import { lastTranslationPerPage, parseSmmuTrace, regsJson } from './smmu-trace.js';

describe('newc cpio writer', () => {
  test('headers follow the newc layout: magic, 13 hex fields, NUL-terminated name, 4-byte padding, trailer', () => {
    const a = cpioNewc([{ path: '/init', kind: 'file', mode: 0o755, data: 'abc' }]);
    const h = a.subarray(0, 110).toString('ascii');
    assert.equal(h.slice(0, 6), '070701');
    assert.equal(parseInt(h.slice(14, 22), 16), 0o100755); // c_mode: regular file | 0755
    assert.equal(parseInt(h.slice(54, 62), 16), 3); // c_filesize
    assert.equal(parseInt(h.slice(94, 102), 16), 5); // c_namesize "init\0"
    assert.equal(a.subarray(110, 115).toString('latin1'), 'init\0');
    // 110 + 5 = 115 -> name padded to 116; data 3 -> padded to 4.
    assert.equal(a.subarray(116, 119).toString(), 'abc');
    const trailer = a.subarray(120);
    assert.equal(trailer.subarray(0, 6).toString(), '070701');
    assert.equal(trailer.subarray(110, 121).toString('latin1'), 'TRAILER!!!\0');
    assert.equal(a.length % 4, 0);
    assert.deepEqual(gunzipSync(cpioNewcGz([{ path: 'x', kind: 'dir', mode: 0o755 }])), cpioNewc([{ path: 'x', kind: 'dir', mode: 0o755 }]));
  });

  test('device nodes carry rdev, symlinks their target as data', () => {
    const a = cpioNewc([
      { path: 'dev/console', kind: 'chardev', mode: 0o600, rdev: [5, 1] },
      { path: 'bin/sh', kind: 'symlink', mode: 0o777, data: 'busybox' },
    ]);
    const h = a.subarray(0, 110).toString('ascii');
    assert.equal(parseInt(h.slice(14, 22), 16), 0o020600);
    assert.equal(parseInt(h.slice(78, 86), 16), 5); // c_rdevmajor
    assert.equal(parseInt(h.slice(86, 94), 16), 1); // c_rdevminor
    const second = a.indexOf('070701', 110);
    assert.equal(parseInt(a.subarray(second + 14, second + 22).toString(), 16), 0o120777);
    assert.ok(a.includes(Buffer.from('busybox')));
  });
});

// Captured from a Linux 6.1.192 boot on QEMU 7.2 (-M virt,iommu=smmuv3,gic-version=3,its=on).
const CONSOLE = `[    0.706295] arm-smmu-v3 9050000.smmuv3: ias 44-bit, oas 44-bit (features 0x00008305)
VSMMU-INIT
[    1.755437] virtio-pci 0000:00:02.0: Adding to iommu group 1
VSMMU-READ-SHA256 738eb2a6eb3842d9235532fc6b448e9d4573c2d7a684039499ab3fc1bceab585
VSMMU-WRITE-STATUS 0
VSMMU-GROUPS-BEGIN
group 0/devices/0000:00:01.0
group 1/devices/0000:00:02.0
VSMMU-GROUPS-END
VSMMU-INTERRUPTS-BEGIN
           CPU0
 11:        617     GICv3  27 Level     arch_timer
 16:          0     GICv3 106 Edge      arm-smmu-v3-evtq
 22:          0   ITS-MSI 32768 Edge      virtio1-config
 23:         13   ITS-MSI 32769 Edge      virtio1-req.0
VSMMU-INTERRUPTS-END
VSMMU-IO-DONE
`;
const EXPECT = { diskBdf: '0000:00:02.0', readSha256: '738eb2a6eb3842d9235532fc6b448e9d4573c2d7a684039499ab3fc1bceab585', copyLanded: true };

describe('guest report checker', () => {
  test('a healthy guest passes', () => {
    const r = parseGuestReport(CONSOLE);
    assert.equal(r.itsMsi.length, 2);
    assert.deepEqual(r.groupedDevices, ['0000:00:01.0', '0000:00:02.0']);
    assert.deepEqual(guestReportProblems(r, EXPECT), []);
  });

  test("Linux 6.12's per-device ITS MSI domains (ITS-PCI-MSIX-<bdf>) count as ITS-MSIs", () => {
    const v612 = CONSOLE.replace(' 22:          0   ITS-MSI 32768 Edge      virtio1-config', ' 21:          0  ITS-PCI-MSIX-0000:00:02.0   0 Edge      virtio0-config').replace(
      ' 23:         13   ITS-MSI 32769 Edge      virtio1-req.0',
      ' 22:         14  ITS-PCI-MSIX-0000:00:02.0   1 Edge      virtio0-req.0',
    );
    const r = parseGuestReport(v612);
    assert.deepEqual(r.itsMsi.map((m) => [m.count, m.hwirq, m.name]), [[0, 0, 'virtio0-config'], [14, 1, 'virtio0-req.0']]);
    assert.deepEqual(guestReportProblems(r, EXPECT), []);
  });

  test('each missing piece is reported', () => {
    const noMsi = CONSOLE.replace(/ITS-MSI/g, 'GICv3');
    assert.match(guestReportProblems(parseGuestReport(noMsi), EXPECT).join(';'), /no ITS-MSI interrupt/);
    const event = CONSOLE + '[    2.679985] arm-smmu-v3 9050000.smmuv3: event 0x02 received:\n';
    assert.deepEqual(parseGuestReport(event).smmuEvents, [2]);
    assert.match(guestReportProblems(parseGuestReport(event), EXPECT).join(';'), /SMMU reported events: 0x2/);
    const noDisk = CONSOLE.replace(/VSMMU-READ-SHA256 \S+\n/, '').replace('group 1/devices/0000:00:02.0\n', '');
    const p = guestReportProblems(parseGuestReport(noDisk), { ...EXPECT, copyLanded: false });
    assert.equal(p.length, 3, p.join('; '));
    assert.match(guestReportProblems(parseGuestReport(''), EXPECT).join(';'), /did not probe/);
  });
});

// Lines captured from QEMU 7.2's log trace backend while Linux 6.1 booted.
const TRACE = `smmuv3_read_mmio addr: 0x0 val:0xd40101a size: 0x4(0)
smmuv3_write_mmio addr: 0x28 val:0xd75 size: 0x4(0)
smmuv3_write_mmio addr: 0x80 val:0x400000004308d000 size: 0x8(0)
smmuv3_write_mmio addr: 0x88 val:0x10210 size: 0x4(0)
smmuv3_write_mmio addr: 0xa8 val:0x0 size: 0x4(0)
smmuv3_write_mmio addr: 0x20 val:0xd size: 0x4(0)
smmuv3_cmdq_cfgi_ste streamid= 0x10
smmuv3_translate_success smmuv3-iommu-memory-region-16-2 sid=0x10 iova=0xffffd002 translated=0x43166002 perm=0x3
smmuv3_translate_success smmuv3-iommu-memory-region-16-2 sid=0x10 iova=0xfffff040 translated=0x8090040 perm=0x2
smmuv3_translate_success smmuv3-iommu-memory-region-16-2 sid=0x10 iova=0xffffd800 translated=0x44000800 perm=0x3
`;

describe('QEMU smmuv3 trace reader', () => {
  test('register values by spec name (page-1 offsets folded), CFGI_STE stream IDs, last translation per page', () => {
    const t = parseSmmuTrace(TRACE);
    assert.deepEqual(regsJson(t), {
      IDR0: '0xd40101a',
      CR1: '0xd75',
      STRTAB_BASE: '0x400000004308d000',
      STRTAB_BASE_CFG: '0x10210',
      EVENTQ_PROD: '0x0',
      CR0: '0xd',
    });
    assert.deepEqual(t.cfgiSteSids, [0x10]);
    const pages = [...lastTranslationPerPage(t).values()];
    assert.deepEqual(pages.map((p) => [p.iova, p.pa]), [
      [0xffffd000n, 0x44000000n],
      [0xfffff000n, 0x8090000n],
    ]);
  });

  test('a 32-bit write to the high half of a 64-bit register updates only that half', () => {
    const t = parseSmmuTrace('smmuv3_write_mmio addr: 0x90 val:0x5b700010 size: 0x4(0)\nsmmuv3_write_mmio addr: 0x94 val:0x40000000 size: 0x4(0)\n');
    assert.equal(regsJson(t)['CMDQ_BASE'], '0x400000005b700010');
  });
});

function ev(type: string, addr: number, extra: Partial<Ev> = {}): Ev {
  return { type, sid: 8, ssv: false, ssid: 0, rnw: false, pnu: false, ind: false, s2: false, cls: 0, inputAddr: '0x' + addr.toString(16), ipa: '0x0', fetchAddr: '0x0', ...extra };
}

describe('differential comparison rules', () => {
  test("QEMU's per-4-byte bursts fold into one record; distinct faults do not", () => {
    // An 11-byte DMA to an unmapped IOVA: QEMU records +0, +4, +8, +0xa (QEMU 7.2).
    assert.deepEqual(foldBursts([ev('F_TRANSLATION', 0x1000), ev('F_TRANSLATION', 0x1004), ev('F_TRANSLATION', 0x1008), ev('F_TRANSLATION', 0x100a)]).evs, [ev('F_TRANSLATION', 0x1000)]);
    const c = [ev('C_BAD_STE', 0), ev('C_BAD_STE', 0), ev('C_BAD_STE', 0)];
    assert.equal(foldBursts(c).evs.length, 1);
    const distinct = [ev('F_TRANSLATION', 0x1000), ev('F_TRANSLATION', 0x3000), ev('F_PERMISSION', 0x3004), ev('F_TRANSLATION', 0x1000, { rnw: true })];
    assert.deepEqual(foldBursts(distinct), { evs: distinct, folded: false });
  });

  const mem = (label: string, value: string): Observation => ({ label, kind: 'mem', value });
  const evs = (label: string, value: Ev[]): Observation => ({ label, kind: 'events', value });
  const scenario = (departures: Scenario['departures'] = []): Scenario => ({ name: 't', departures, run: async () => {} });

  test('a difference without a named departure is a mismatch', () => {
    const r = compare(scenario(), [mem('a', 'zero')], [mem('a', 'ab')]);
    assert.equal(r.mismatches.length, 1);
  });

  test('a named departure accepts QEMU only when our model shows the architected outcome', () => {
    const dep = [{ id: 'access-flag-ignored' as const, label: 'a', arch: 'zero', qemu: 'ab' }];
    assert.deepEqual(compare(scenario(dep), [mem('a', 'ab')], [mem('a', 'zero')]), { mismatches: [], departuresSeen: ['access-flag-ignored'] });
    assert.equal(compare(scenario(dep), [mem('a', 'ab')], [mem('a', 'ab')]).mismatches.length, 1); // model copied QEMU
    assert.equal(compare(scenario(dep), [mem('a', 'cd')], [mem('a', 'zero')]).mismatches.length, 1); // QEMU changed
  });

  test("a departure missing from the peer's list is a mismatch, and so are bursts and CLASS=0 then", () => {
    const dep = [{ id: 'access-flag-ignored' as const, label: 'a', arch: 'zero', qemu: 'ab' }];
    assert.equal(compare(scenario(dep), [mem('a', 'ab')], [mem('a', 'zero')], ['ap1-ignored']).mismatches.length, 1);
    const burst = [ev('F_TRANSLATION', 0x1000), ev('F_TRANSLATION', 0x1004)];
    assert.equal(compare(scenario(), [evs('e', burst)], [evs('e', [ev('F_TRANSLATION', 0x1000)])], []).mismatches.length, 1);
    assert.equal(compare(scenario(), [evs('e', [ev('F_TRANSLATION', 0x10)])], [evs('e', [ev('F_TRANSLATION', 0x10, { cls: 2 })])], []).mismatches.length, 1);
    // An expectation restricted to another peer does not apply.
    const other = [{ ...dep[0]!, peer: 'qemu-7.2' as const }];
    assert.equal(compare(scenario(other), [mem('a', 'ab')], [mem('a', 'zero')], ['access-flag-ignored'], 'qemu-10.0').mismatches.length, 1);
  });

  test('CLASS=0 from QEMU is accepted only against CLASS=IN on an otherwise equal stage-1 input fault', () => {
    const ok = compare(scenario(), [evs('e', [ev('F_TRANSLATION', 0x10)])], [evs('e', [ev('F_TRANSLATION', 0x10, { cls: 2 })])]);
    assert.deepEqual(ok, { mismatches: [], departuresSeen: ['event-class-zero'] });
    assert.equal(compare(scenario(), [evs('e', [ev('F_TRANSLATION', 0x10)])], [evs('e', [ev('F_TRANSLATION', 0x14, { cls: 2 })])]).mismatches.length, 1);
    assert.equal(compare(scenario(), [evs('e', [ev('C_BAD_CD', 0)])], [evs('e', [ev('C_BAD_CD', 0, { cls: 2 })])]).mismatches.length, 1);
  });

  test('memory summaries distinguish data from zeros', () => {
    assert.equal(summarise(new Uint8Array(100)), 'zero');
    assert.notEqual(summarise(new Uint8Array(100).fill(1)), summarise(new Uint8Array(100).fill(2)));
  });
});
