// `npm run vsmmu -- ...` runs the CLI in the package directory; relative paths still mean the
// directory the user typed the command in (npm's INIT_CWD).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { userDirectory } from '../../src/cli/main.js';

const repo = resolve(import.meta.dirname, '../..');

test('userDirectory: INIT_CWD only for this package\'s own vsmmu script', () => {
  assert.equal(userDirectory({ npm_lifecycle_event: 'vsmmu', npm_package_name: 'vsmmu', INIT_CWD: '/home/u/w' }), '/home/u/w');
  assert.equal(userDirectory({ npm_lifecycle_event: 'build', npm_package_name: 'vsmmu', INIT_CWD: '/home/u/w' }), null);
  assert.equal(userDirectory({ npm_lifecycle_event: 'vsmmu', npm_package_name: 'user-project', INIT_CWD: '/home/u/w' }), null);
  assert.equal(userDirectory({ npm_lifecycle_event: 'vsmmu', npm_package_name: 'vsmmu' }), null);
  assert.equal(userDirectory({}), null);
});

test('npm run vsmmu from another directory: inputs and outputs relative to that directory', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'vsmmu-cwd-'));
  try {
    const npm = (...args: string[]): { status: number | null; out: string; err: string } => {
      const r = spawnSync('npm', ['run', '--silent', '--prefix', repo, 'vsmmu', '--', ...args], { cwd: dir, encoding: 'utf8', timeout: 100_000 });
      return { status: r.status, out: r.stdout, err: r.stderr };
    };
    const built = npm('platform', 'build', '--preset', 'qemu-virt', '--out', 'rel-out');
    assert.equal(built.status, 0, built.err);
    assert.ok(existsSync(join(dir, 'rel-out', 'IORT.dat')));
    assert.ok(!existsSync(join(repo, 'rel-out')));
    const lint = npm('lint', 'rel-out/IORT.dat', 'rel-out/MADT.dat');
    assert.equal(lint.status, 0, lint.err);
    assert.match(lint.out, /2 file\(s\) checked, no findings/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(join(repo, 'rel-out'), { recursive: true, force: true });
  }
});
