// The Linux guest `vsmmu boot` and the interop tier boot: Debian's stock arm64 kernel of a series
// (6.1 from bookworm, 6.12 from trixie) and bookworm's busybox-static, fetched with Debian's own
// clients and cached (debian.ts); and the kernel-module helpers the initramfs needs.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { busyboxStatic, linuxKernel, type KernelRelease } from './debian.js';

export interface GuestArtifacts {
  readonly kernel: string;
  readonly kernelVersion: string;
  readonly busybox: string;
  /** Directory holding the kernel's modules (`lib/modules/<version>` or `usr/lib/modules/<version>`). */
  readonly modulesDir: string;
}

/** Downloads (once) and unpacks the kernel of `release` and busybox; returns where they are. */
export function ensureGuestArtifacts(release: KernelRelease = '6.1'): GuestArtifacts {
  const k = linuxKernel(release);
  return { kernel: k.image, kernelVersion: k.version, busybox: busyboxStatic(), modulesDir: k.modulesDir };
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
