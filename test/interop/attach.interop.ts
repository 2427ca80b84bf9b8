// Interop tier: `vsmmu attach` against a live Linux 6.1 guest on QEMU 7.2's own SMMUv3, through
// QEMU's GDB stub (-gdb tcp:127.0.0.1:PORT). While the guest runs its I/O script, attach must find
// the disk's stream and the guest must run on afterwards (reach its next marker); once the I/O is
// done, attach's translations must equal QEMU's own (its smmuv3_* trace) and what offline
// `vsmmu inspect` says on the RAM and REGS.json that `attach --dump` wrote. Then the same against
// `vsmmu boot --gdb`, where the SMMU is this project's own model behind QEMU's register window.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { ensureGuestArtifacts } from '../../src/host/guest-artifacts.js';
import { bootLinux, DISK_DEVFN, RAM_BASE } from './lib/linux-boot.js';
import { streamIds, translationsOf } from './lib/inspect-check.js';
import { lastTranslationPerPage, parseSmmuTrace } from './lib/smmu-trace.js';
import { REPO_ROOT, tempDir } from './lib/paths.js';
import { vsmmuOk } from './lib/vsmmu-cli.js';

const INIT_MS = 45_000;
const GUEST_MS = 60_000;

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('vsmmu attach to Linux 6.1 on QEMU 7.2 (SMMUv3) through the GDB stub', { timeout: 600_000 }, () => {
  const tmp = tempDir('attach');
  before(() => {
    ensureGuestArtifacts();
  });
  after(() => tmp.cleanup());

  test('streams while the guest runs, the guest runs on, translations agree with QEMU and with inspect on the dump', async (t) => {
    const port = await freePort();
    const boot = await bootLinux({ after: 'wait', sharedRam: true, trace: true, gdbPort: port, timeoutMs: INIT_MS + GUEST_MS + 120_000 });
    try {
      await boot.proc.waitFor(/VSMMU-INIT/, INIT_MS);
      const target = `127.0.0.1:${port}`;
      // 1. Attach while the guest's script runs: the disk's stream is there (the driver probed it).
      const live = streamIds(JSON.parse(await vsmmuOk(['attach', target, '--streams', '--json'])));
      assert.ok(live.includes(DISK_DEVFN), `attach --streams lists ${JSON.stringify(live)}, not the disk's SID ${DISK_DEVFN}`);
      // 2. The guest was resumed: QEMU says it runs, and it reaches the end of its I/O script.
      const afterFirst = (await boot.qmp!.execute('query-status')) as { running?: boolean };
      assert.equal(afterFirst.running, true, `after attach: ${JSON.stringify(afterFirst)}`);
      await boot.proc.waitFor(/VSMMU-IO-DONE/, GUEST_MS);
      // 3. QEMU's own translations so far, answered by attach on the live (stopped-for-reading) guest.
      const trace = parseSmmuTrace(readFileSync(boot.traceLog!, 'utf8'));
      const pages = [...lastTranslationPerPage(trace).values()].filter((p) => p.sid === DISK_DEVFN).slice(0, 200);
      assert.ok(pages.length > 0, 'QEMU traced no translation of the disk yet');
      const queries = pages.flatMap((q) => ['--translate', `0x${q.sid.toString(16)}:0x${q.iova.toString(16)}:r`]);
      const dump = join(tmp.path, 'dump');
      const answer = JSON.parse(await vsmmuOk(['attach', target, '--streams', '--json', '--dump', dump, ...queries]));
      const ours = translationsOf(answer);
      let agree = 0;
      const disagree: string[] = [];
      pages.forEach((q, k) => {
        const o = ours[k]!;
        if (o.ok && o.pa !== null && (o.pa & ~0xfffn) === q.pa) agree++;
        else if (o.ok) disagree.push(`iova 0x${q.iova.toString(16)}: QEMU 0x${q.pa.toString(16)}, attach 0x${o.pa!.toString(16)}`);
        else assert.equal(o.eventType, 'F_TRANSLATION', `iova 0x${q.iova.toString(16)} (unmapped since QEMU used it)`);
      });
      t.diagnostic(`attach: streams ${JSON.stringify(streamIds(answer))}; ${pages.length} disk pages QEMU translated: ${agree} same PA, ${disagree.length} different, ${pages.length - agree - disagree.length} unmapped since`);
      assert.deepEqual(disagree, []);
      assert.ok(agree >= 2, `attach agreed with QEMU on ${agree} pages`);
      // 4. Offline inspect on what --dump wrote, and on the whole guest RAM (the shared memory
      //    file) with the dumped registers: the same answer.
      const args = readFileSync(join(dump, 'inspect-args.txt'), 'utf8').trim().split(' ');
      const offline = JSON.parse(await vsmmuOk(['inspect', ...args, '--streams', '--json', ...queries]));
      assert.deepEqual(offline, answer);
      const whole = JSON.parse(await vsmmuOk(['inspect', '--ram', `${boot.ramPath!}@0x${RAM_BASE.toString(16)}`, '--regs', join(dump, 'REGS.json'), '--streams', '--json', ...queries]));
      assert.deepEqual(whole, answer);
      // 5. Still running after the second attach: QMP reports it.
      const status = (await boot.qmp!.execute('query-status')) as { running?: boolean; status?: string };
      assert.equal(status.running, true, JSON.stringify(status));
    } finally {
      await boot.dispose();
    }
  });
});

describe('vsmmu attach to `vsmmu boot --gdb` (the SMMU is vsmmu\'s own model)', { timeout: 400_000 }, () => {
  test('attach sees the streams the boot report lists, and the guest finishes its run afterwards', async () => {
    const port = await freePort();
    const boot = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src', 'cli', 'main.ts'), 'boot', '--gdb', String(port), '--run', 'sleep 20; echo VSMMU-ATTACH-AFTER', '--timeout', '240'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    boot.stdout.on('data', (d: Buffer) => (out += d.toString()));
    boot.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => boot.on('close', (code) => r(code)));
    const kill = setTimeout(() => boot.kill('SIGKILL'), 300_000);
    try {
      // Wait for the run to start (the drivers have probed by then).
      const deadline = Date.now() + 180_000;
      while (!/Run \/init|sleep 20/.test(out)) {
        assert.ok(Date.now() < deadline, `the guest did not reach /init:\n${out.slice(-3000)}`);
        assert.equal(boot.exitCode, null, `vsmmu boot ended early:\n${out.slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 500));
      }
      await new Promise((r) => setTimeout(r, 3000));
      const live = JSON.parse(await vsmmuOk(['attach', `127.0.0.1:${port}`, '--smmu-base', '0x80000000', '--streams', '--json'])) as { streams: { sid: number; config: string; cds: unknown[] }[] };
      const code = await exited;
      assert.match(out, /VSMMU-ATTACH-AFTER/, 'the guest did not finish its run after attach');
      assert.equal(code, 0, out.slice(-3000));
      const reported = [...out.matchAll(/^ {2}stream (\d+): (\w+), (\d+) CDs?$/gm)].map((m) => `${m[1]} ${m[2]} ${m[3]}`);
      assert.ok(reported.length > 0, `no streams in the boot report:\n${out.slice(-3000)}`);
      assert.deepEqual(live.streams.map((st) => `${st.sid} ${st.config} ${st.cds.length}`), reported);
    } finally {
      clearTimeout(kill);
      if (boot.exitCode === null) boot.kill('SIGKILL');
    }
  });
});
