// Fetches and unpacks the Linux guest `vsmmu boot` and the interop tier boot: Debian bookworm's
// stock arm64 kernel (the package `linux-image-arm64:arm64` depends on) and busybox-static:arm64,
// with Debian's own client (`apt-get download`, `dpkg-deb -x`), cached in the cache directory
// (cache-dir.ts) so reruns are instant. Needs `dpkg --add-architecture arm64 && apt-get update`
// done once (.ci/run does it; as root this module does it itself when the arm64 lists are missing).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir } from './cache-dir.js';

export interface GuestArtifacts {
  readonly kernel: string;
  readonly kernelVersion: string;
  readonly busybox: string;
  /** Directory holding the kernel's modules (`lib/modules/<version>`). */
  readonly modulesDir: string;
}

function run(cmd: string, args: string[], cwd?: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
}

function ensureArm64Lists(): void {
  const archs = run('dpkg', ['--print-foreign-architectures']).split(/\s+/);
  const known = (): boolean => {
    try {
      return /Candidate: (?!\(none\))/.test(run('apt-cache', ['policy', 'busybox-static:arm64']));
    } catch {
      return false;
    }
  };
  if (archs.includes('arm64') && known()) return;
  if (process.getuid?.() !== 0) {
    throw new Error('fetching the Debian guest needs arm64 package lists: run `dpkg --add-architecture arm64 && apt-get update` as root');
  }
  if (!archs.includes('arm64')) run('dpkg', ['--add-architecture', 'arm64']);
  run('apt-get', ['update', '-qq']);
}

/** The versioned kernel package `linux-image-arm64:arm64` depends on (e.g. linux-image-6.1.0-56-arm64). */
function kernelPackage(): string {
  const out = run('apt-cache', ['depends', 'linux-image-arm64:arm64']);
  const m = /Depends: (linux-image-[0-9][^\s:]*-arm64)/.exec(out);
  if (!m?.[1]) throw new Error(`cannot find the kernel package linux-image-arm64:arm64 depends on:\n${out}`);
  return m[1];
}

/** Downloads (once) and unpacks the kernel and busybox; returns where they are. */
export function ensureGuestArtifacts(): GuestArtifacts {
  const dir = cacheDir();
  const root = join(dir, 'root');
  const stamp = join(dir, 'root.done');
  if (!existsSync(stamp)) {
    ensureArm64Lists();
    const debs = join(dir, 'debs');
    rmSync(debs, { recursive: true, force: true });
    rmSync(root, { recursive: true, force: true });
    mkdirSync(debs, { recursive: true });
    run('apt-get', ['download', '-q', `${kernelPackage()}:arm64`, 'busybox-static:arm64'], debs);
    for (const f of readdirSync(debs)) if (f.endsWith('.deb')) run('dpkg-deb', ['-x', join(debs, f), root]);
    writeFileSync(stamp, new Date().toISOString() + '\n');
  }
  const boot = join(root, 'boot');
  const vmlinuz = readdirSync(boot).find((f) => f.startsWith('vmlinuz-'));
  if (!vmlinuz) throw new Error(`no vmlinuz in ${boot}`);
  const kernelVersion = vmlinuz.slice('vmlinuz-'.length);
  return {
    kernel: join(boot, vmlinuz),
    kernelVersion,
    busybox: join(root, 'bin', 'busybox'),
    modulesDir: join(root, 'lib', 'modules', kernelVersion),
  };
}

/** A module file's contents; `.ko.xz` (trixie compresses its modules) is decompressed with xz. */
export function readModule(path: string): Buffer {
  if (!path.endsWith('.xz')) return readFileSync(path);
  return execFileSync('xz', ['-dc', path], { maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
}

/** The `depends=` list from a module's .modinfo section (names with '-' and '_' as written). */
export function moduleDepends(ko: Uint8Array): string[] {
  const text = Buffer.from(ko).toString('latin1');
  const m = /\0depends=([^\0]*)\0/.exec(text);
  return m?.[1] ? m[1].split(',').filter((s) => s.length > 0) : [];
}

/**
 * The .ko (or .ko.xz) files to insmod, dependencies first, for the named modules. Looks modules
 * up by file name under the modules dir (`-` and `_` are equivalent, as in modprobe); modules
 * built into the kernel (listed in modules.builtin) are skipped.
 */
export function moduleLoadOrder(modulesDir: string, names: readonly string[]): string[] {
  const index = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ko')) index.set(e.name.slice(0, -3).replace(/-/g, '_'), p);
      else if (e.name.endsWith('.ko.xz')) index.set(e.name.slice(0, -6).replace(/-/g, '_'), p);
    }
  };
  walk(join(modulesDir, 'kernel'));
  const builtinList = join(modulesDir, 'modules.builtin');
  const builtin = new Set(
    existsSync(builtinList) ? readFileSync(builtinList, 'utf8').split('\n').map((l) => (l.split('/').pop() ?? '').replace(/\.ko$/, '').replace(/-/g, '_')) : [],
  );
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (name: string, depth: number): void => {
    const key = name.replace(/-/g, '_');
    if (seen.has(key)) return;
    if (depth > 32) throw new Error(`module dependency loop at ${name}`);
    const path = index.get(key);
    if (!path && builtin.has(key)) {
      seen.add(key);
      return;
    }
    if (!path) throw new Error(`module ${name} not found under ${modulesDir}`);
    for (const d of moduleDepends(readModule(path))) visit(d, depth + 1);
    seen.add(key);
    order.push(path);
  };
  for (const n of names) visit(n, 0);
  return order;
}
