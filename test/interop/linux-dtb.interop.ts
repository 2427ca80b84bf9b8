// Interop tier: Debian's stock arm64 Linux boots on the device tree `vsmmu platform build --preset qemu-virt --gic-msi its --smmu <rc>` generates, probes
// arm-smmu-v3 and the ITS, puts the virtio-blk disk (iommu_platform=on) in an IOMMU group, does
// checksummed O_DIRECT I/O through the SMMU with ITS-MSI interrupts; a DTB with a wrong iommu-map
// stream-ID base must fail the same checks. In the same boot, `vsmmu inspect` reads the stopped
// guest's RAM and the register values from QEMU's smmuv3_* trace, and must find the streams Linux
// configured and translate QEMU's IOVAs to QEMU's PAs. QEMU's own DTB is booted as the control
// that shows the harness and the checker work. Two pairs: bookworm's Linux 6.1 under QEMU 7.2, and
// trixie's Linux 6.12 (the reworked arm-smmu-v3 STE/CD writer) under QEMU 10.0. See docs/interop.md.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildOurDtb, dumpQemuDtb, iommuMapCells, withIommuMapBase } from './lib/dtb.js';
import { ensureGuestArtifacts, type GuestArtifacts } from '../../src/host/guest-artifacts.js';
import type { QemuBinary } from '../../src/host/qemu.js';
import { guestReportProblems, parseGuestReport } from './lib/guest-report.js';
import { inspectAgainstQemu } from './lib/inspect-check.js';
import { bootLinux, diskCopyLanded, DISK_DEVFN, type LinuxBoot, type LinuxBootOptions } from './lib/linux-boot.js';
import { tempDir } from './lib/paths.js';
import { QEMU_10_0, QEMU_7_2, type Peer } from './lib/peers.js';
import { ensureTrixieGuest } from './lib/qemu10.js';
import { formatBdf } from '../../src/pcie/id-map.js';

const DISK_BDF = formatBdf(DISK_DEVFN);
/** Wall-clock budgets: the kernel runs /init after ~1 s and finishes the script after ~3 s here; TCG on a loaded CI box is slower. */
const INIT_MS = 45_000;
const GUEST_MS = 60_000;
/** Stop waiting at the first of these: the script's end marker, or the SMMU driver reporting an event. */
const END_RE = /VSMMU-IO-DONE|arm-smmu-v3 \S+: event 0x[0-9a-f]+ received/;
/** MSI doorbell IOVA Linux 6.1 maps for a DMA domain, and GITS_TRANSLATER on virt (Linux 6.1 on QEMU virt). */
const DOORBELL_IOVA = 0xfffff000n;
const GITS_TRANSLATER_PAGE = 0x0809_0000n;

interface GuestRun {
  readonly boot: LinuxBoot;
  readonly console: string;
  readonly problems: string[];
}

/** A QEMU build and the Debian guest booted under it. */
interface Pair {
  readonly peer: Peer;
  readonly linux: string;
  readonly guest: () => GuestArtifacts;
}
const PAIRS: readonly Pair[] = [
  { peer: QEMU_7_2, linux: 'Linux 6.1', guest: ensureGuestArtifacts },
  { peer: QEMU_10_0, linux: 'Linux 6.12', guest: ensureTrixieGuest },
];

/** Boots, waits for the script's end (or an SMMU event), and checks the guest's report. */
async function runGuest(opts: Omit<LinuxBootOptions, 'timeoutMs'>): Promise<GuestRun> {
  const boot = await bootLinux({ ...opts, timeoutMs: INIT_MS + GUEST_MS + 30_000 });
  try {
    const init = await boot.proc.waitFor(/VSMMU-INIT/, INIT_MS).catch((e: unknown) => e as Error);
    const m = init instanceof Error ? init : await boot.proc.waitFor(END_RE, GUEST_MS).catch((e: unknown) => e as Error);
    if (m instanceof Error && !/timed out/.test(m.message)) throw m;
    if (opts.after === 'poweroff' && !(m instanceof Error) && m[0] === 'VSMMU-IO-DONE') {
      await Promise.race([boot.proc.exited, new Promise((r) => setTimeout(r, 10_000))]);
    } else if (!(m instanceof Error) && m[0] !== 'VSMMU-IO-DONE') {
      await new Promise((r) => setTimeout(r, 1000)); // let the event dump finish printing
    }
    if (opts.after === 'wait') await boot.qmp?.execute('stop');
    const console = boot.proc.stdout();
    const report = parseGuestReport(console);
    const problems = guestReportProblems(report, {
      diskBdf: DISK_BDF,
      readSha256: boot.expectedReadSha256,
      copyLanded: diskCopyLanded(boot.diskPath),
    });
    return { boot, console, problems };
  } catch (e) {
    await boot.dispose();
    throw e;
  }
}

for (const pair of PAIRS) describe(`${pair.linux} on generated device trees (${pair.peer.title}, SMMUv3 + ITS)`, { timeout: 600_000 }, () => {
  const tmp = tempDir('dtb');
  let guest!: GuestArtifacts;
  let binary!: QemuBinary;
  before(() => {
    guest = pair.guest();
    binary = pair.peer.binary();
  });
  after(() => tmp.cleanup());

  test(`control: ${pair.peer.title} own DTB passes every guest check`, async () => {
    const run = await runGuest({ dtb: dumpQemuDtb(tmp.path, binary), after: 'poweroff', guest, binary });
    try {
      assert.deepEqual(run.problems, [], run.console.slice(-4000));
    } finally {
      await run.boot.dispose();
    }
  });

  test('our DTB: SMMU probed, disk in an IOMMU group, checksummed I/O, ITS-MSIs; inspect agrees with QEMU', async (t) => {
    const dtb = await buildOurDtb(tmp.path);
    const run = await runGuest({ dtb, after: 'wait', sharedRam: true, trace: true, guest, binary });
    try {
      assert.deepEqual(run.problems, [], run.console.slice(-4000));
      // Part 3: the VM is stopped (QMP stop in runGuest); quit so QEMU flushes its trace log.
      await run.boot.qmp?.execute('quit').catch(() => undefined);
      await run.boot.proc.exited;
      const cmp = await inspectAgainstQemu({ ramPath: run.boot.ramPath!, traceLog: run.boot.traceLog!, dir: run.boot.dir });
      t.diagnostic(
        `inspect: streams ${JSON.stringify(cmp.streams)}, Linux configured ${JSON.stringify(cmp.configuredSids)}; ` +
          `${cmp.qemuPages.length} IOVA pages QEMU translated: ${cmp.agree.length} same PA, ${cmp.unmapped.length} unmapped since, ${cmp.disagree.length} different`,
      );
      assert.ok(cmp.configuredSids.includes(DISK_DEVFN), `Linux never issued CFGI_STE for the disk's SID ${DISK_DEVFN}: ${JSON.stringify(cmp.configuredSids)}`);
      for (const sid of cmp.configuredSids) assert.ok(cmp.streams.includes(sid), `inspect --streams lists ${JSON.stringify(cmp.streams)}, not SID ${sid} that Linux configured`);
      assert.ok(cmp.qemuPages.length > 0, 'QEMU traced no translation');
      assert.deepEqual(
        cmp.disagree.map((d) => `sid 0x${d.qemu.sid.toString(16)} iova 0x${d.qemu.iova.toString(16)}: QEMU 0x${d.qemu.pa.toString(16)}, inspect ${d.ours.pa === null ? 'none' : '0x' + d.ours.pa.toString(16)}`),
        [],
      );
      // Pages Linux unmapped after QEMU used them (strict mode unmaps every streaming buffer) must
      // fail as plain translation faults, not as configuration errors.
      for (const u of cmp.unmapped) assert.equal(u.ours.eventType, 'F_TRANSLATION', `sid 0x${u.qemu.sid.toString(16)} iova 0x${u.qemu.iova.toString(16)}`);
      // The long-lived mappings must be there: the MSI doorbell, and the virtqueue rings.
      const doorbell = cmp.agree.find((a) => a.sid === DISK_DEVFN && a.iova === DOORBELL_IOVA);
      assert.ok(doorbell, `inspect did not translate the MSI doorbell IOVA ${DOORBELL_IOVA.toString(16)} of the disk`);
      assert.equal(doorbell.pa, GITS_TRANSLATER_PAGE);
      assert.ok(cmp.agree.filter((a) => a.sid === DISK_DEVFN).length >= 2, 'inspect agreed with QEMU on fewer than 2 pages of the disk');
    } finally {
      await run.boot.dispose();
    }
  });

  test('a DTB whose iommu-map has a wrong stream-ID base fails the same checks', async () => {
    const good = await buildOurDtb(tmp.path);
    const cells = iommuMapCells(good);
    assert.equal(cells[2], 0, `our iommu-map should start at stream ID 0: ${JSON.stringify(cells)}`);
    const bad = withIommuMapBase(good, 0x100, `${tmp.path}/bad-iommu-map.dtb`);
    assert.equal(iommuMapCells(bad)[2], 0x100);
    const run = await runGuest({ dtb: bad, after: 'poweroff', guest, binary });
    try {
      assert.ok(run.problems.length > 0, 'the broken DTB passed the guest checks');
      assert.ok(
        run.problems.some((p) => /checksum|write status|disk copy/.test(p)),
        `disk I/O should not be verified: ${run.problems.join('; ')}`,
      );
      // QEMU uses the real stream ID 0x10, whose STE Linux never wrote: C_BAD_STREAMID (0x02).
      assert.ok(parseGuestReport(run.console).smmuEvents.includes(0x02), 'no C_BAD_STREAMID event reported');
    } finally {
      await run.boot.dispose();
    }
  });
});
