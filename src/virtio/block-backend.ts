// Storage behind a virtio-blk device: a byte-addressed disk image. The device only calls these
// with ranges inside `size`. Two implementations: a file (read and written in place with
// positional I/O, never loaded whole) and memory.
import { closeSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import { UserInputError } from '../util/errors.js';

export interface BlockBackend {
  /** Bytes of the image. The device exposes floor(size / 512) sectors. */
  readonly size: number;
  /** True when writes are refused (the device then offers VIRTIO_BLK_F_RO). */
  readonly readOnly?: boolean;
  /** Fills `dst` from byte `offset`. May throw on a host I/O error (the request fails with IOERR). */
  read(offset: number, dst: Uint8Array): void;
  /** Writes `src` at byte `offset`. May throw on a host I/O error. */
  write(offset: number, src: Uint8Array): void;
  /** Makes completed writes durable (VIRTIO_BLK_T_FLUSH). */
  flush?(): void;
}

/** A disk image in memory. */
export class MemoryBlockBackend implements BlockBackend {
  readonly bytes: Uint8Array;

  /** `init`: a size in bytes (zero-filled) or the image itself (used in place, not copied). */
  constructor(init: number | Uint8Array) {
    this.bytes = typeof init === 'number' ? new Uint8Array(init) : init;
  }

  get size(): number {
    return this.bytes.length;
  }

  read(offset: number, dst: Uint8Array): void {
    dst.set(this.bytes.subarray(offset, offset + dst.length));
  }

  write(offset: number, src: Uint8Array): void {
    this.bytes.set(src, offset);
  }
}

export interface FileBlockBackendOptions {
  /** Open read-only (the device offers VIRTIO_BLK_F_RO and fails writes). */
  readonly readOnly?: boolean;
}

/** A disk image file, read and written in place with positional I/O (what the guest writes lands in the file). */
export class FileBlockBackend implements BlockBackend {
  readonly size: number;
  readonly readOnly: boolean;
  private fd: number;

  private constructor(
    readonly path: string,
    fd: number,
    readOnly: boolean,
  ) {
    this.fd = fd;
    this.readOnly = readOnly;
    this.size = fstatSync(fd).size;
  }

  /** Opens an existing image file; a missing or unreadable file is a UserInputError naming it. */
  static open(path: string, opts: FileBlockBackendOptions = {}): FileBlockBackend {
    const readOnly = opts.readOnly === true;
    let fd: number;
    try {
      fd = openSync(path, readOnly ? 'r' : 'r+');
    } catch (e) {
      throw new UserInputError(`cannot open disk image: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, path);
    }
    try {
      if (!fstatSync(fd).isFile()) throw new UserInputError('disk image is not a regular file', path);
      return new FileBlockBackend(path, fd, readOnly);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  read(offset: number, dst: Uint8Array): void {
    let done = 0;
    while (done < dst.length) {
      const n = readSync(this.fd, dst, done, dst.length - done, offset + done);
      if (n === 0) {
        dst.fill(0, done); // the file shrank underneath us: zeros, like a sparse tail
        return;
      }
      done += n;
    }
  }

  write(offset: number, src: Uint8Array): void {
    let done = 0;
    while (done < src.length) done += writeSync(this.fd, src, done, src.length - done, offset + done);
  }

  flush(): void {
    fsyncSync(this.fd);
  }

  /** Closes the file; later accesses throw (the device reports IOERR). */
  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}
