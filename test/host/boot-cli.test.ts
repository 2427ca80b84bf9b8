// `vsmmu boot` input errors end with exit 2 and one line naming the problem, before anything starts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..', '..');
const qemuPresent = spawnSync(process.env['VSMMU_QEMU'] ?? 'qemu-system-aarch64', ['--version']).status === 0;

function boot(args: string[], env: Record<string, string> = {}): { status: number | null; stderr: string; stdout: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'boot', ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, ...env },
  });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

function oneLine(r: { status: number | null; stderr: string; stdout: string }, re: RegExp): void {
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, re);
}

test('no QEMU: exit 2 with one line', () => {
  oneLine(boot([], { VSMMU_QEMU: '/nonexistent/qemu-system-aarch64' }), /^vsmmu: cannot run \/nonexistent\/qemu-system-aarch64/);
});

test('bad flags: exit 2 naming the flag', () => {
  oneLine(boot(['--profile', 'nope']), /^vsmmu: --profile: unknown profile 'nope'/);
  oneLine(boot(['--timeout', 'soon']), /^vsmmu: --timeout: expected a whole number/);
  oneLine(boot(['--interactive', '--json']), /cannot be combined/);
  oneLine(boot(['x.yaml', '--preset', 'qemu-hosted']), /either a PLATFORM file or --preset/);
});

test('missing kernel, disk or initrd file: exit 2 naming it', { skip: !qemuPresent && 'needs qemu-system-aarch64' }, () => {
  oneLine(boot(['--kernel', '/nonexistent/Image']), /^vsmmu: --kernel \/nonexistent\/Image: no such file/);
  oneLine(boot(['--disk', '/nonexistent/disk.img']), /^vsmmu: --disk \/nonexistent\/disk\.img: no such regular file/);
  oneLine(boot(['--initrd', '/nonexistent/initrd']), /^vsmmu: --initrd \/nonexistent\/initrd: no such file/);
});

test('a platform the hosted layout cannot serve: exit 2 naming why', { skip: !qemuPresent && 'needs qemu-system-aarch64' }, () => {
  oneLine(boot(['--preset', 'qemu-virt', '--kernel', join(root, 'package.json'), '--initrd', join(root, 'package.json')]), /outside the register window/);
});
