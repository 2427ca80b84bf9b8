// The smallest initramfs that runs a shell script as /init: a static busybox, kernel modules
// (loaded by the script, dependencies first) and the script itself, as a gzip'd newc cpio.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { cpioNewcGz, type CpioEntry } from './cpio.js';
import { readModule } from './guest-artifacts.js';

export interface InitramfsSpec {
  /** Path of a static busybox binary for the guest's architecture. */
  readonly busybox: string;
  /** .ko (or .ko.xz, unpacked here) files, in load order; they land in /modules/ as .ko files. */
  readonly modules: readonly string[];
  /** The /init script (run by the kernel as PID 1). */
  readonly init: string;
  /** More files (e.g. scripts /init runs). */
  readonly extra?: readonly CpioEntry[];
}

/** The gzip'd newc archive for `-initrd` / a loader at the initrd address. */
export function buildInitramfs(spec: InitramfsSpec): Buffer {
  const entries: CpioEntry[] = [
    { path: 'bin', kind: 'dir', mode: 0o755 },
    { path: 'dev', kind: 'dir', mode: 0o755 },
    { path: 'dev/console', kind: 'chardev', mode: 0o600, rdev: [5, 1] },
    { path: 'proc', kind: 'dir', mode: 0o755 },
    { path: 'sys', kind: 'dir', mode: 0o755 },
    { path: 'tmp', kind: 'dir', mode: 0o1777 },
    { path: 'modules', kind: 'dir', mode: 0o755 },
    { path: 'bin/busybox', kind: 'file', mode: 0o755, data: readFileSync(spec.busybox) },
    { path: 'bin/sh', kind: 'symlink', mode: 0o777, data: 'busybox' },
    ...spec.modules.map((p): CpioEntry => ({ path: `modules/${basename(p, '.xz')}`, kind: 'file', mode: 0o644, data: readModule(p) })),
    ...(spec.extra ?? []),
    { path: 'init', kind: 'file', mode: 0o755, data: spec.init },
  ];
  return cpioNewcGz(entries);
}

/** Shell lines that load modules copied by {@link buildInitramfs} (a failure is reported, not fatal). */
export function insmodLines(modules: readonly string[]): string {
  return modules.map((m) => `insmod /modules/${basename(m, '.xz')} || echo "VSMMU-INSMOD-FAILED ${basename(m, '.xz')}"`).join('\n');
}
