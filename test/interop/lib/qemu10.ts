// QEMU 10.0 for the interop tier: Debian trixie's qemu-system-arm (qemu-system-aarch64 10.0.x),
// which needs trixie's own libraries. It runs on an older host without a chroot: the package and
// its dependency closure unpacked into one directory, started through that directory's dynamic
// loader with `--library-path`, and `-L` pointing QEMU at the directory's firmware/data files.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { QemuBinary } from '../../../src/host/qemu.js';

/** Debian's multiarch triplet and dynamic loader for this host. */
function hostAbi(): { triplet: string; loader: string } {
  if (process.arch === 'x64') return { triplet: 'x86_64-linux-gnu', loader: 'ld-linux-x86-64.so.2' };
  if (process.arch === 'arm64') return { triplet: 'aarch64-linux-gnu', loader: 'ld-linux-aarch64.so.1' };
  throw new Error(`QEMU 10.0 from Debian: unsupported host architecture ${process.arch}`);
}

/** How to run the qemu-system-aarch64 unpacked (with its libraries) under `root`. */
export function qemuBinaryIn(root: string): QemuBinary {
  const { triplet, loader } = hostAbi();
  const libs = [join(root, 'usr/lib', triplet), join(root, 'lib', triplet)].filter((d) => existsSync(d));
  const ld = [join(root, 'usr/lib', triplet, loader), join(root, 'lib', triplet, loader), join(root, 'usr/lib64', loader)].find((p) => existsSync(p));
  const exe = join(root, 'usr/bin/qemu-system-aarch64');
  if (!ld || !existsSync(exe)) throw new Error(`no qemu-system-aarch64 with its dynamic loader under ${root}`);
  return Object.freeze({ command: ld, prefixArgs: ['--library-path', libs.join(':'), exe, '-L', join(root, 'usr/share/qemu')] });
}

/** The QEMU 10.0 build the tier runs (VSMMU_QEMU10_ROOT: a directory it is unpacked in). */
export function ensureQemu10(): QemuBinary {
  const root = process.env['VSMMU_QEMU10_ROOT'];
  if (!root) throw new Error('VSMMU_QEMU10_ROOT is not set');
  return qemuBinaryIn(root);
}
