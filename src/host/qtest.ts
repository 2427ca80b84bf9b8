// A client for QEMU's qtest text protocol (softmmu/qtest.c): one request line, one reply line
// ("OK [value]", "FAIL ...", "ERR ..."); asynchronous "IRQ raise|lower N" lines may arrive at any
// time and are collected. QEMU connects to a unix socket we listen on (as libqtest does). Every
// request has a timeout.
import { createServer, type Server, type Socket } from 'node:net';
import { withTimeout } from '../util/timeout.js';

export class QtestClient {
  private buf = '';
  private pending: Array<{ resolve(v: string): void; reject(e: Error): void }> = [];
  private closed = false;
  readonly irqs: string[] = [];

  private constructor(private readonly sock: Socket) {
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      this.buf += chunk;
      for (let nl = this.buf.indexOf('\n'); nl >= 0; nl = this.buf.indexOf('\n')) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        if (line.startsWith('IRQ ')) {
          this.irqs.push(line);
          continue;
        }
        const p = this.pending.shift();
        if (!p) continue;
        if (line.startsWith('OK')) p.resolve(line.slice(2).trim());
        else p.reject(new Error(`qtest: ${line}`));
      }
    });
    const fail = (): void => {
      this.closed = true;
      for (const p of this.pending.splice(0)) p.reject(new Error('qtest connection closed'));
    };
    sock.on('close', fail);
    sock.on('error', fail);
  }

  /** Listens on `path`; resolves with the client once QEMU connects (bounded by `timeoutMs`). */
  static listen(path: string): { server: Server; accepted: (timeoutMs: number) => Promise<QtestClient> } {
    let resolveSock!: (s: Socket) => void;
    const sockP = new Promise<Socket>((r) => (resolveSock = r));
    const server = createServer((s) => resolveSock(s));
    server.listen(path);
    return {
      server,
      accepted: (timeoutMs) =>
        withTimeout(sockP, timeoutMs, 'QEMU did not connect to the qtest socket').then((s) => {
          server.close();
          return new QtestClient(s);
        }),
    };
  }

  /** Sends one command and returns the text after "OK". */
  cmd(line: string, timeoutMs = 10_000): Promise<string> {
    if (this.closed) return Promise.reject(new Error(`qtest connection closed (sending ${line.slice(0, 60)})`));
    const p = new Promise<string>((resolve, reject) => this.pending.push({ resolve, reject }));
    this.sock.write(line + '\n');
    return withTimeout(p, timeoutMs, `qtest "${line.slice(0, 60)}" had no reply`);
  }

  async readl(addr: bigint | number): Promise<number> {
    return Number(BigInt(await this.cmd(`readl 0x${addr.toString(16)}`)));
  }
  async readq(addr: bigint | number): Promise<bigint> {
    return BigInt(await this.cmd(`readq 0x${addr.toString(16)}`));
  }
  async writeb(addr: bigint | number, v: number): Promise<void> {
    await this.cmd(`writeb 0x${addr.toString(16)} 0x${(v & 0xff).toString(16)}`);
  }
  async writew(addr: bigint | number, v: number): Promise<void> {
    await this.cmd(`writew 0x${addr.toString(16)} 0x${(v & 0xffff).toString(16)}`);
  }
  async writel(addr: bigint | number, v: number): Promise<void> {
    await this.cmd(`writel 0x${addr.toString(16)} 0x${(v >>> 0).toString(16)}`);
  }
  async writeq(addr: bigint | number, v: bigint): Promise<void> {
    await this.cmd(`writeq 0x${addr.toString(16)} 0x${BigInt.asUintN(64, v).toString(16)}`);
  }

  /** Bytes in memory order (`read ADDR SIZE` answers 0x<hex>), in chunks of at most 64 KiB. */
  async read(addr: number, len: number): Promise<Uint8Array> {
    const out = new Uint8Array(len);
    for (let off = 0; off < len; off += 0x1_0000) {
      const n = Math.min(0x1_0000, len - off);
      const hex = (await this.cmd(`read 0x${(addr + off).toString(16)} 0x${n.toString(16)}`)).replace(/^0x/, '');
      out.set(Buffer.from(hex, 'hex').subarray(0, n), off);
    }
    return out;
  }

  async write(addr: number, data: Uint8Array): Promise<void> {
    for (let off = 0; off < data.length; off += 0x1_0000) {
      const part = data.subarray(off, Math.min(data.length, off + 0x1_0000));
      await this.cmd(`write 0x${(addr + off).toString(16)} 0x${part.length.toString(16)} 0x${Buffer.from(part).toString('hex')}`);
    }
  }

  close(): void {
    this.sock.destroy();
  }
}
