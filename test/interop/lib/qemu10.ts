// QEMU 10.0 for the interop tier, and the Linux 6.12 guest booted under it: Debian trixie's
// qemu-system-arm (qemu-system-aarch64 10.0.x), which needs trixie's own libraries. It runs on an older host without a chroot: the package and
// its dependency closure unpacked into one directory, started through that directory's dynamic
// loader with `--library-path`, and `-L` pointing QEMU at the directory's firmware/data files.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { busyboxStatic, downloadPackages, linuxKernel } from '../../../src/host/debian.js';
import type { GuestArtifacts } from '../../../src/host/guest-artifacts.js';
import type { QemuBinary } from '../../../src/host/qemu.js';
import './paths.js'; // points VSMMU_CACHE at the tier's cache

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

/**
 * Debian trixie's stock arm64 kernel (Linux 6.12, through src/host/debian.ts with a private trixie
 * package list) and Debian's static busybox: the guest the tier boots under QEMU 10.0.
 */
export function ensureTrixieGuest(): GuestArtifacts {
  const k = linuxKernel('6.12');
  return { kernel: k.image, kernelVersion: k.version, busybox: busyboxStatic(), modulesDir: k.modulesDir };
}

/**
 * The QEMU 10.0 build the tier runs: Debian trixie's qemu-system-arm with its dependency closure,
 * fetched and unpacked once by src/host/debian.ts into the cache (VSMMU_CACHE, .cache/interop for
 * this tier). VSMMU_QEMU10_ROOT names an already unpacked directory instead.
 */
export function ensureQemu10(): QemuBinary {
  const own = process.env['VSMMU_QEMU10_ROOT'];
  if (own) return qemuBinaryIn(own);
  const dir = downloadPackages({ suite: 'trixie', arch: debianArch(), packages: ['qemu-system-arm'], withDependencies: true });
  return qemuBinaryIn(dir);
}

function debianArch(): string {
  if (process.arch === 'x64') return 'amd64';
  if (process.arch === 'arm64') return 'arm64';
  throw new Error(`QEMU 10.0 from Debian: unsupported host architecture ${process.arch}`);
}
