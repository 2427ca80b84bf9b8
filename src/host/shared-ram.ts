// Guest RAM that lives in a file another process maps (QEMU's memory-backend-file with
// share=on): a PhysMemory whose every access is a positioned read or write on the file, so the
// host sees the guest's stores and the guest sees the host's at once (same page cache). Nothing
// is cached on this side and nothing reads the whole file. Accesses outside the region abort as
// the PhysMemory contract says (GuestMemory supplies that part).
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { GuestMemory, type RegionBacking } from '../memory/guest-memory.js';

/** A read/write RegionBacking over a shared file: pread/pwrite, no cache. */
export class SharedFileBacking implements RegionBacking {
  readonly size: number;
  private fd: number;

  /** Opens `path` read/write; `size` defaults to the file's size (the file must be at least that long). */
  constructor(
    readonly path: string,
    size?: number,
  ) {
    this.fd = openSync(path, 'r+');
    const actual = fstatSync(this.fd).size;
    this.size = size ?? actual;
    if (this.size > actual) {
      closeSync(this.fd);
      throw new RangeError(`${path} is ${actual} bytes, shorter than ${this.size}`);
    }
  }

  readAt(offset: number, dst: Uint8Array): void {
    let done = 0;
    while (done < dst.length) {
      const n = readSync(this.fd, dst, done, dst.length - done, offset + done);
      if (n <= 0) {
        dst.fill(0, done); // beyond the end of a sparse file: zeros
        return;
      }
      done += n;
    }
  }

  writeAt(offset: number, src: Uint8Array): void {
    let done = 0;
    while (done < src.length) done += writeSync(this.fd, src, done, src.length - done, offset + done);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

/** Guest memory with one RAM region at `base` served by a shared file. */
export function sharedFileMemory(path: string, base: number, size?: number): { memory: GuestMemory; backing: SharedFileBacking } {
  const backing = new SharedFileBacking(path, size);
  const memory = new GuestMemory();
  memory.addBacking(base, backing, path);
  return { memory, backing };
}
