// Interop tier: `vsmmu boot` — Debian's stock Linux 6.1 under QEMU 7.2 with vsmmu's own SmmuV3 as
// its IOMMU. Two virtio-blk disks with different stream IDs do checksummed O_DIRECT I/O at the
// same time; the guest's arm-smmu-v3 driver must probe the model, put each disk in a DMA IOMMU
// group, never time out a CMD_SYNC, and receive no event; the disk files must end up with their
// original bytes (the writes put back what was read) and `vsmmu inspect` on the --dump must
// translate each virtqueue IOVA to the physical address the live model used. A run whose command
// fails must exit 1. See docs/boot.md.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ensureGuestArtifacts } from '../../src/host/guest-artifacts.js';
import { REPO_ROOT, tempDir } from './lib/paths.js';
import { vsmmuOk } from './lib/vsmmu-cli.js';

/** The guest's own limit (vsmmu kills QEMU after it); the child gets a grace period on top. */
const GUEST_S = 420;

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `vsmmu boot`; past the limit it is sent SIGTERM (it then kills QEMU and cleans up), then SIGKILL. */
function boot(args: readonly string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/cli/main.ts'), 'boot', '--timeout', String(GUEST_S), ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const term = setTimeout(() => child.pid !== undefined && process.kill(child.pid, 'SIGTERM'), (GUEST_S + 60) * 1000);
    const kill = setTimeout(() => child.pid !== undefined && process.kill(child.pid, 'SIGKILL'), (GUEST_S + 90) * 1000);
    child.on('exit', (code) => {
      clearTimeout(term);
      clearTimeout(kill);
      resolve({ code, stdout, stderr });
    });
  });
}

interface Report {
  ok: boolean;
  bootSeconds: number | null;
  console: string;
  run: { status: number | null; output: string };
  checks: Record<string, string>;
  findings: string[];
  smmu: { driverLines: string[]; cmdSync: number; events: { written: number }; streams: { sid: number; config: string; cds: unknown[] }[] };
  devices: { name: string; kind: string; streamId: number; requests: number; bytes: number; faults: number }[];
  performance: Record<string, unknown>;
}

const sha = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');

describe('vsmmu boot: Linux 6.1 on our SMMU (QEMU 7.2 for CPU, RAM, GIC)', { timeout: 1_200_000 }, () => {
  const tmp = tempDir('boot');
  before(() => {
    ensureGuestArtifacts();
  });
  after(() => tmp.cleanup());

  test('two disks at once: probe, DMA groups, O_DIRECT checksums, no CMD_SYNC timeout, no event; inspect on the dump agrees', async (t) => {
    const a = join(tmp.path, 'a.img');
    const b = join(tmp.path, 'b.img');
    writeFileSync(a, randomBytes(32 << 20));
    writeFileSync(b, randomBytes(16 << 20));
    const before = [sha(a), sha(b)];
    const dump = join(tmp.path, 'dump');
    const r = await boot(['--disk', a, '--disk', b, '--dump', dump, '--json']);
    assert.equal(r.stderr, '');
    const rep = JSON.parse(r.stdout) as Report;
    t.diagnostic(`boot ${rep.bootSeconds} s; CMD_SYNCs ${rep.smmu.cmdSync}; devices ${JSON.stringify(rep.devices)}; performance ${JSON.stringify(rep.performance)}`);
    assert.deepEqual(rep.findings, [], rep.console.slice(-3000));
    assert.equal(r.code, 0);
    assert.equal(rep.ok, true);
    for (const c of ['smmu-probed', 'no-cmd-sync-timeout', 'no-unexpected-event', 'guest-ran', 'run-status', 'iommu-group-vda', 'iommu-group-vdb', 'read-checksums-vda', 'write-checksums-vda', 'read-checksums-vdb', 'write-checksums-vdb']) {
      assert.equal(rep.checks[c], 'pass', c);
    }
    assert.ok(rep.smmu.driverLines.some((l) => /arm-smmu-v3 80000000\.smmuv3: ias 48-bit, oas 48-bit/.test(l)), rep.smmu.driverLines.join('\n'));
    assert.doesNotMatch(rep.console, /CMD_SYNC timeout/);
    assert.match(rep.run.output, /^VSMMU-GROUP vda \d+ DMA/m);
    assert.match(rep.run.output, /^VSMMU-GROUP vdb \d+ DMA/m);
    assert.equal(rep.smmu.events.written, 0);
    assert.ok(rep.smmu.cmdSync > 0);
    const disks = rep.devices.filter((d) => d.kind === 'blk');
    assert.equal(disks.length, 2);
    assert.notEqual(disks[0]!.streamId, disks[1]!.streamId);
    for (const d of disks) {
      assert.ok(d.requests > 0 && d.bytes >= 6 << 20, `${d.name}: ${d.requests} requests, ${d.bytes} bytes`);
      assert.equal(d.faults, 0);
    }
    assert.deepEqual([sha(a), sha(b)], before, 'the disks hold their original bytes (writes put back what was read)');
    for (const d of disks) assert.ok(rep.smmu.streams.some((s) => s.sid === d.streamId && s.config !== 'abort'), `stream ${d.streamId} installed`);

    // The dump: inspect must translate every virtqueue IOVA to where the live model sent it.
    const devices = JSON.parse(readFileSync(join(dump, 'devices.json'), 'utf8')) as { streamId: number; rings: Record<string, { iova: string; pa: string | null }>[] }[];
    const streams = JSON.parse(await vsmmuOk(['inspect', '--ram', `${join(dump, 'ram.bin')}@0x40000000`, '--regs', join(dump, 'REGS.json'), '--streams', '--json'])) as { streams: { sid: number }[] };
    for (const d of disks) assert.ok(streams.streams.some((s) => s.sid === d.streamId), `inspect --streams lists stream ${d.streamId}`);
    const queries: { sid: number; iova: string; pa: string }[] = [];
    for (const d of devices) {
      assert.ok(d.rings.length > 0, `stream ${d.streamId} has a ready virtqueue`);
      for (const ring of d.rings) for (const p of Object.values(ring)) {
        assert.ok(p.pa !== null, `the live model translates ${p.iova} of stream ${d.streamId}`);
        queries.push({ sid: d.streamId, iova: p.iova, pa: p.pa });
      }
    }
    const tr = JSON.parse(
      await vsmmuOk(['inspect', '--ram', `${join(dump, 'ram.bin')}@0x40000000`, '--regs', join(dump, 'REGS.json'), '--json', ...queries.flatMap((q) => ['--translate', `${q.sid}:${q.iova}:r`])]),
    ) as { translations: { sid: number; iova: string; ok: boolean; pa?: string }[] };
    assert.deepEqual(
      tr.translations.map((x) => `${x.sid}:${x.iova} -> ${x.ok ? x.pa : 'fault'}`),
      queries.map((q) => `${q.sid}:${q.iova} -> ${q.pa}`),
    );
  });

  test('negative control: a run whose command fails exits 1 with the failed check named', async () => {
    const r = await boot(['--run', 'echo about to fail; exit 3', '--no-rng', '--json']);
    const rep = JSON.parse(r.stdout) as Report;
    assert.equal(r.code, 1, r.stderr);
    assert.equal(rep.ok, false);
    assert.equal(rep.run.status, 3);
    assert.match(rep.run.output, /about to fail/);
    assert.equal(rep.checks['run-status'], 'fail');
    assert.equal(rep.checks['smmu-probed'], 'pass');
  });
});
