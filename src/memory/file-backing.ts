/**
 * A read-only {@link RegionBacking} over a raw memory image file (a QEMU memory-backend file or a
 * `pmemsave` dump). Reads go through a small chunk cache, so files of hundreds of MiB are never
 * read whole.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { RegionBacking } from './guest-memory.js';

const CHUNK = 64 * 1024;
const MAX_CHUNKS = 256; // 16 MiB of cache at most

export class FileBacking implements RegionBacking {
  readonly size: number;
  private readonly fd: number;
  private readonly cache = new Map<number, Uint8Array>();

  constructor(readonly path: string) {
    this.fd = openSync(path, 'r');
    this.size = fstatSync(this.fd).size;
  }

  readAt(offset: number, dst: Uint8Array): void {
    let done = 0;
    while (done < dst.length) {
      const pos = offset + done;
      const idx = Math.floor(pos / CHUNK);
      const chunk = this.chunk(idx);
      const inChunk = pos - idx * CHUNK;
      const n = Math.min(dst.length - done, CHUNK - inChunk);
      dst.set(chunk.subarray(inChunk, inChunk + n), done);
      done += n;
    }
  }

  private chunk(idx: number): Uint8Array {
    let c = this.cache.get(idx);
    if (c !== undefined) {
      this.cache.delete(idx);
      this.cache.set(idx, c); // LRU refresh
      return c;
    }
    c = new Uint8Array(CHUNK);
    readSync(this.fd, c, 0, CHUNK, idx * CHUNK);
    if (this.cache.size >= MAX_CHUNKS) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(idx, c);
    return c;
  }

  close(): void {
    closeSync(this.fd);
  }
}
