// Writes a gzip'd "newc" cpio archive (the initramfs format Linux unpacks, see the kernel's
// Documentation/driver-api/early-userspace/buffer-format.rst): 110-byte ASCII-hex headers, names
// and file data each padded to 4 bytes, closed by a "TRAILER!!!" entry.
import { gzipSync } from 'node:zlib';

export interface CpioEntry {
  /** Path inside the archive, without a leading slash ("bin/busybox"). */
  readonly path: string;
  readonly kind: 'dir' | 'file' | 'symlink' | 'chardev';
  /** Permission bits (0o755...). */
  readonly mode: number;
  /** File contents, or the link target for a symlink. */
  readonly data?: Uint8Array | string;
  /** Device major/minor for a chardev. */
  readonly rdev?: readonly [number, number];
}

const TYPE_BITS = { dir: 0o040000, file: 0o100000, symlink: 0o120000, chardev: 0o020000 } as const;

function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

/** Builds the uncompressed newc archive. */
export function cpioNewc(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  const push = (name: string, mode: number, data: Buffer, rdev: readonly [number, number]): void => {
    const nameBytes = Buffer.from(name + '\0', 'utf8');
    const header =
      '070701' +
      hex8(ino++) +
      hex8(mode) +
      hex8(0) + // uid
      hex8(0) + // gid
      hex8(mode & TYPE_BITS.dir ? 2 : 1) + // nlink
      hex8(0) + // mtime
      hex8(data.length) +
      hex8(0) + // devmajor
      hex8(0) + // devminor
      hex8(rdev[0]) +
      hex8(rdev[1]) +
      hex8(nameBytes.length) +
      hex8(0); // check
    parts.push(Buffer.from(header, 'ascii'), nameBytes, Buffer.alloc(pad4(110 + nameBytes.length)));
    parts.push(data, Buffer.alloc(pad4(data.length)));
  };
  for (const e of entries) {
    const data =
      e.data === undefined ? Buffer.alloc(0) : typeof e.data === 'string' ? Buffer.from(e.data, 'utf8') : Buffer.from(e.data);
    push(e.path.replace(/^\/+/, ''), TYPE_BITS[e.kind] | (e.mode & 0o7777), e.kind === 'dir' ? Buffer.alloc(0) : data, e.rdev ?? [0, 0]);
  }
  push('TRAILER!!!', 0, Buffer.alloc(0), [0, 0]);
  return Buffer.concat(parts);
}

/** The gzip'd archive, as `-initrd` takes it. */
export function cpioNewcGz(entries: readonly CpioEntry[]): Buffer {
  return gzipSync(cpioNewc(entries), { level: 6 });
}
