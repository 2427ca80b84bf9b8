// Interop tier: the `vsmmu boot` matrix. Debian's Linux 6.1 with every boot profile, Linux 6.12
// with the default and stage-2 profiles, and the fault injections: a device DMA to an IOVA Linux
// never mapped (Linux must print the very event record the model wrote), event-queue abort and
// overflow in one run, and two negative controls that must fail with the guest's own words: a
// CMD_SYNC that never completes; a command error plus an aborted SMMU MSI (on this one-CPU guest
// Linux waits for a CMD_SYNC with interrupts off, so either ends in a CMD_SYNC timeout). Boots run
// one after the other and share the cached kernels; each boot does checksummed O_DIRECT I/O on an
// 8 MiB disk of random bytes, which must hold its original bytes afterwards, except in the
// negative controls (see `boot`). See docs/boot.md.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ensureGuestArtifacts } from '../../src/host/guest-artifacts.js';
import { BOOT_PROFILES } from '../../src/host/profile.js';
import { tempDir } from './lib/paths.js';
import { runVsmmu } from './lib/vsmmu-cli.js';

/** The guest's own limit; vsmmu kills QEMU after it. The CLI child gets a margin on top. */
const GUEST_S = 240;

interface Report {
  ok: boolean;
  bootSeconds: number | null;
  wallSeconds: number;
  kernel: { version: string | null };
  profile: string;
  console: string;
  checks: Record<string, string>;
  findings: string[];
  smmu: { commands: Record<string, number>; cmdSync: number; events: { written: number }; guestEvents: { code: number; words: string[] }[] };
  injections: { name: string; fired: boolean; effect: string; records?: { code: string; words: string[] }[] }[];
}

const sha = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');

describe('vsmmu boot matrix: profiles, kernels, fault injection', { timeout: 3_600_000 }, () => {
  const tmp = tempDir('boot-matrix');
  const disk = join(tmp.path, 'disk.img');
  let diskSha = '';
  before(() => {
    ensureGuestArtifacts('6.1');
    ensureGuestArtifacts('6.12');
    writeFileSync(disk, randomBytes(8 << 20));
    diskSha = sha(disk);
  });
  after(() => tmp.cleanup());

  /**
   * One boot on the shared disk, which must come back unchanged. A negative control (`negative`)
   * boots on a copy of it that is not checked: when a CMD_SYNC times out Linux goes on as if the
   * invalidations before it were done, and a command the driver skips after an error is never
   * carried out, so a stale translation may legitimately take a later DMA to the page an IOVA
   * used to map. Whether that happens depends on which IOVA the lost invalidation named and
   * whether it is reused in the run; the diagnostic line says whether the copy changed.
   */
  async function boot(t: { diagnostic(s: string): void }, args: readonly string[], opts: { guestS?: number; negative?: boolean } = {}): Promise<{ code: number; rep: Report }> {
    const guestS = opts.guestS ?? GUEST_S;
    const target = opts.negative ? join(tmp.path, 'negative.img') : disk;
    if (opts.negative) copyFileSync(disk, target);
    const r = await runVsmmu(['boot', '--disk', target, '--no-rng', '--json', '--timeout', String(guestS), ...args], (guestS + 90) * 1000);
    assert.equal(r.stderr, '', r.stderr);
    const rep = JSON.parse(r.stdout) as Report;
    const same = sha(target) === diskSha;
    t.diagnostic(`${args.join(' ')}: exit ${r.code}, kernel ${rep.kernel.version}, boot ${rep.bootSeconds} s, wall ${rep.wallSeconds} s, ${rep.smmu.cmdSync} CMD_SYNCs, ${rep.smmu.events.written} events, disk ${same ? 'unchanged' : 'changed'}`);
    if (!opts.negative) assert.ok(same, 'the disk holds its original bytes (the writes put back what was read)');
    return { code: r.code, rep };
  }

  function passes(code: number, rep: Report): void {
    assert.deepEqual(rep.findings, [], rep.console.slice(-3000));
    assert.equal(rep.ok, true);
    assert.equal(code, 0);
    for (const c of ['smmu-probed', 'no-cmd-sync-timeout', 'no-unexpected-event', 'guest-ran', 'run-status', 'iommu-group-vda', 'read-checksums-vda', 'write-checksums-vda']) {
      assert.equal(rep.checks[c], 'pass', c);
    }
  }

  for (const name of Object.keys(BOOT_PROFILES)) {
    test(`Linux 6.1, profile ${name}`, async (t) => {
      const { code, rep } = await boot(t, ['--profile', name]);
      passes(code, rep);
      assert.equal(rep.profile, name);
      assert.match(rep.kernel.version ?? '', /^6\.1\./);
      assert.ok(rep.smmu.cmdSync > 0);
    });
  }

  for (const name of ['default', 'stage2']) {
    test(`Linux 6.12, profile ${name}`, async (t) => {
      const { code, rep } = await boot(t, ['--kernel-release', '6.12', '--profile', name]);
      passes(code, rep);
      assert.match(rep.kernel.version ?? '', /^6\.12\./);
    });
  }

  test('fault scenario: a device DMAs to an IOVA Linux never mapped; Linux prints the record our model wrote', async (t) => {
    const { code, rep } = await boot(t, ['--inject', 'dma-fault']);
    passes(code, rep);
    const inj = rep.injections.find((i) => i.name === 'dma-fault')!;
    assert.equal(inj.fired, true, inj.effect);
    const rec = inj.records![0]!;
    assert.equal(rec.code, '0x10');
    assert.ok(
      rep.smmu.guestEvents.some((e) => e.code === 0x10 && e.words.join() === rec.words.join()),
      `guest printed ${JSON.stringify(rep.smmu.guestEvents)}, model wrote ${rec.words.join(' ')}`,
    );
    assert.equal(rep.checks['injection-dma-fault'], 'pass');
  });

  test('event-queue abort and event-queue overflow: the driver recovers from both and says so', async (t) => {
    const { code, rep } = await boot(t, ['--inject', 'gerror', '--inject', 'evtq-overflow']);
    passes(code, rep);
    for (const n of ['gerror', 'evtq-overflow']) assert.equal(rep.checks[`injection-${n}`], 'pass', n);
    assert.match(rep.console, /EVTQ write aborted -- events may have been lost/);
    assert.match(rep.console, /EVTQ overflow detected -- events lost/);
  });

  test('negative control: a CMD_SYNC that never completes fails the run with the guest\'s own timeout line', async (t) => {
    const { code, rep } = await boot(t, ['--inject', 'cmdsync-stall@after=100-commands'], { guestS: 60, negative: true });
    assert.equal(code, 1);
    assert.equal(rep.ok, false);
    assert.equal(rep.checks['no-cmd-sync-timeout'], 'fail');
    assert.ok(rep.findings.some((f) => /^no-cmd-sync-timeout: CMD_SYNC timeout at 0x[0-9a-f]+ \[hwprod 0x[0-9a-f]+, hwcons 0x[0-9a-f]+\]/.test(f)), rep.findings.join('\n'));
    assert.equal(rep.checks['injection-cmdsync-stall'], 'pass');
  });

  test('negative control: a command error (CERROR_ILL) and an aborted SMMU MSI; the guest reports both and its CMD_SYNCs time out', async (t) => {
    const { code, rep } = await boot(t, ['--inject', 'cmd-error@after=100-commands', '--inject', 'msi-unmapped@after=300-commands'], { negative: true });
    assert.equal(code, 1);
    assert.equal(rep.checks['injection-cmd-error'], 'pass', rep.findings.join('\n'));
    assert.equal(rep.checks['injection-msi-unmapped'], 'pass', rep.findings.join('\n'));
    assert.match(rep.console, /CMDQ error \(cons 0x[0-9a-f]+\): Illegal command/);
    assert.match(rep.console, /CMDQ MSI write aborted/);
    assert.match(rep.injections[1]!.effect, /GERROR MSI_CMDQ_ABT_ERR/);
    assert.equal(rep.checks['no-cmd-sync-timeout'], 'fail');
  });
});
