// An incremental JSON writer: one document written piece by piece to a sink, so that a report of
// any length is produced in memory proportional to one item, never to the whole document.

/** Collects small writes into chunks of about `chunkBytes` before handing them to `write`. */
export class ChunkedWriter {
  private parts: string[] = [];
  private bytes = 0;

  constructor(
    private readonly write: (s: string) => void,
    private readonly chunkBytes = 64 * 1024,
  ) {}

  push(s: string): void {
    this.parts.push(s);
    this.bytes += s.length;
    if (this.bytes >= this.chunkBytes) this.flush();
  }

  flush(): void {
    if (this.parts.length === 0) return;
    const s = this.parts.join('');
    this.parts = [];
    this.bytes = 0;
    this.write(s);
  }
}

export class JsonStream {
  /** One entry per open container: true until its first member is written. */
  private readonly first: boolean[] = [];

  constructor(private readonly out: ChunkedWriter) {}

  private sep(key: string | undefined): void {
    const n = this.first.length;
    if (n > 0) {
      if (this.first[n - 1]) this.first[n - 1] = false;
      else this.out.push(',');
    }
    if (key !== undefined) this.out.push(JSON.stringify(key) + ':');
  }

  open(bracket: '{' | '[', key?: string): void {
    this.sep(key);
    this.out.push(bracket);
    this.first.push(true);
  }

  close(bracket: '}' | ']'): void {
    this.first.pop();
    this.out.push(bracket);
  }

  /** A complete value (an object member when `key` is given). */
  value(v: unknown, key?: string): void {
    this.sep(key);
    this.out.push(JSON.stringify(v));
  }

  get depth(): number {
    return this.first.length;
  }
}
