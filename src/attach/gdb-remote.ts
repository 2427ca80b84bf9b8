// A client for the GDB remote serial protocol, as far as reading a virtual machine's memory
// needs it: packets `$data#checksum` with `+`/`-` acknowledgements, `qSupported`, `?`, the 0x03
// interrupt that stops the target, `m addr,len` memory reads, QEMU's `Qqemu.PhyMemMode:1` (memory
// addresses are guest-physical) and `c`/`D` to let it run again. Every wait has a timeout; a stub
// that stops answering or closes the connection fails the pending request with a GdbError.
import { Socket } from 'node:net';

export class GdbError extends Error {}

const enc = new TextEncoder();

/** Checksum of a packet body: the sum of its bytes modulo 256, two lower-case hex digits. */
export function checksum(body: string): string {
  let sum = 0;
  for (const b of enc.encode(body)) sum = (sum + b) & 0xff;
  return sum.toString(16).padStart(2, '0');
}

/** `$body#cs` with `$`, `#`, `}` and `*` escaped (`}` then the byte XOR 0x20). */
export function framePacket(body: string): string {
  const esc = body.replace(/[$#}*]/g, (c) => '}' + String.fromCharCode(c.charCodeAt(0) ^ 0x20));
  return `$${esc}#${checksum(esc)}`;
}

/** Undoes escapes and run-length encoding (`X*n`: X repeated n - 29 more times) of a received body. */
export function decodeBody(raw: string): string {
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === '}' && i + 1 < raw.length) out += String.fromCharCode(raw.charCodeAt(++i) ^ 0x20);
    else if (c === '*' && i + 1 < raw.length && out.length > 0) out += out[out.length - 1]!.repeat(raw.charCodeAt(++i) - 29);
    else out += c;
  }
  return out;
}

export interface GdbOptions {
  /** Longest wait for any single answer (ms). */
  readonly timeoutMs?: number;
}

export class GdbRemote {
  private buf = '';
  private readonly packets: string[] = [];
  private acks: string[] = [];
  /** After QStartNoAckMode: packets are neither acknowledged nor awaited for acknowledgement. */
  private noAck = false;
  private waiter: (() => void) | null = null;
  private closed: Error | null = null;
  /** Largest packet the stub accepts (from qSupported PacketSize). */
  packetSize = 4096;
  private readonly timeoutMs: number;

  private constructor(
    private readonly sock: Socket,
    readonly where: string,
    opts: GdbOptions,
  ) {
    this.timeoutMs = opts.timeoutMs ?? 5000;
    sock.setNoDelay(true);
    sock.on('data', (d: Buffer) => this.onData(d.toString('latin1')));
    sock.on('error', (e) => this.fail(new GdbError(`${where}: ${e.message}`)));
    sock.on('close', () => this.fail(new GdbError(`${where}: the GDB stub closed the connection`)));
  }

  /** Connects (bounded by the timeout). */
  static connect(host: string, port: number, opts: GdbOptions = {}): Promise<GdbRemote> {
    const where = `${host}:${port}`;
    const timeoutMs = opts.timeoutMs ?? 5000;
    return new Promise((resolve, reject) => {
      const sock = new Socket();
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new GdbError(`${where}: no connection within ${timeoutMs} ms`));
      }, timeoutMs);
      sock.once('error', (e) => {
        clearTimeout(timer);
        reject(new GdbError(`${where}: ${e.message}`));
      });
      sock.connect(port, host, () => {
        clearTimeout(timer);
        sock.removeAllListeners('error');
        resolve(new GdbRemote(sock, where, opts));
      });
    });
  }

  private fail(e: Error): void {
    if (this.closed === null) this.closed = e;
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  private onData(s: string): void {
    this.buf += s;
    for (;;) {
      const c = this.buf[0];
      if (c === undefined) break;
      if (c === '+' || c === '-') {
        this.acks.push(c);
        this.buf = this.buf.slice(1);
        continue;
      }
      if (c !== '$' && c !== '%') {
        this.buf = this.buf.slice(1); // noise between packets
        continue;
      }
      const hash = this.buf.indexOf('#');
      if (hash < 0 || this.buf.length < hash + 3) break;
      const raw = this.buf.slice(1, hash);
      const cs = this.buf.slice(hash + 1, hash + 3).toLowerCase();
      this.buf = this.buf.slice(hash + 3);
      if (c === '%') continue; // asynchronous notification: not used
      if (checksum(raw) !== cs) {
        if (!this.noAck) this.sock.write('-');
        continue;
      }
      if (!this.noAck) this.sock.write('+');
      this.packets.push(decodeBody(raw));
    }
    if (this.buf.length > 1 << 20) this.fail(new GdbError(`${this.where}: unframed data from the GDB stub`));
    this.wake();
  }

  /** Waits until `ready()` holds, the connection fails, or the timeout passes. */
  private async until(ready: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + this.timeoutMs;
    while (!ready()) {
      if (this.closed !== null) throw this.closed;
      const left = deadline - Date.now();
      if (left <= 0) throw new GdbError(`${this.where}: no answer to ${what} within ${this.timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  private async send(body: string): Promise<void> {
    if (this.closed !== null) throw this.closed;
    if (this.noAck) {
      this.sock.write(framePacket(body));
      return;
    }
    for (let attempt = 0; attempt < 3; attempt++) {
      this.acks = [];
      this.sock.write(framePacket(body));
      await this.until(() => this.acks.length > 0, `'${body.slice(0, 24)}'`);
      if (this.acks[0] === '+') return;
    }
    throw new GdbError(`${this.where}: the GDB stub rejected '${body.slice(0, 24)}' three times`);
  }

  private async nextPacket(what: string, skipStops: boolean): Promise<string> {
    for (;;) {
      await this.until(() => this.packets.length > 0, what);
      const p = this.packets.shift()!;
      // A stop reply the stub sends on its own (QEMU does when a debugger attaches) is not an answer.
      if (skipStops && /^[ST][0-9a-fA-F]{2}/.test(p)) continue;
      return p;
    }
  }

  /** Sends one command and returns the stub's answer. */
  async request(body: string): Promise<string> {
    this.packets.length = 0;
    await this.send(body);
    return this.nextPacket(`'${body.slice(0, 24)}'`, body !== '?');
  }

  /** Negotiates features (PacketSize, and no-acknowledgement mode when offered). */
  async handshake(): Promise<string> {
    const r = await this.request('qSupported:swbreak+;hwbreak+');
    const m = /PacketSize=([0-9a-fA-F]+)/.exec(r);
    if (m) this.packetSize = Math.max(64, Math.min(parseInt(m[1]!, 16), 1 << 16));
    if (/QStartNoAckMode\+/.test(r) && (await this.request('QStartNoAckMode')) === 'OK') this.noAck = true;
    return r;
  }

  /** The stop reason (`?`): a stop reply such as `T05thread:01;` when the target is stopped. */
  haltReason(): Promise<string> {
    return this.request('?');
  }

  /** Stops a running target (0x03) and returns its stop reply. */
  async interrupt(): Promise<string> {
    if (this.closed !== null) throw this.closed;
    this.packets.length = 0;
    this.sock.write('\x03');
    return this.nextPacket('the interrupt (0x03)', false);
  }

  /** QEMU: memory accesses use guest-physical addresses. */
  async physicalMemoryMode(): Promise<void> {
    const r = await this.request('Qqemu.PhyMemMode:1');
    if (r !== 'OK') throw new GdbError(`${this.where}: the GDB stub does not offer physical-memory mode (Qqemu.PhyMemMode answered '${r.slice(0, 40)}'); is it QEMU's?`);
  }

  /** Reads `len` bytes at `addr`; null when the stub answers with an error (nothing there). */
  async readMemory(addr: number, len: number): Promise<Uint8Array | null> {
    const out = new Uint8Array(len);
    const chunk = Math.max(16, Math.floor((this.packetSize - 8) / 2));
    for (let off = 0; off < len; off += chunk) {
      const n = Math.min(chunk, len - off);
      const r = await this.request(`m${(addr + off).toString(16)},${n.toString(16)}`);
      if (/^E[0-9a-fA-F]{2}$/.test(r) || r.length === 0) return null;
      if (r.length !== 2 * n || !/^[0-9a-fA-F]*$/.test(r)) throw new GdbError(`${this.where}: malformed answer to a memory read at 0x${(addr + off).toString(16)}`);
      for (let i = 0; i < n; i++) out[off + i] = parseInt(r.slice(2 * i, 2 * i + 2), 16);
    }
    return out;
  }

  /** Lets the target run again (`c`; the stub answers only at the next stop). */
  async resume(): Promise<void> {
    this.packets.length = 0;
    await this.send('c');
  }

  /**
   * Detaches and closes the connection; the target runs on. `D` resumes it; a stub that refuses
   * `D` gets `c` first (closing the connection alone leaves QEMU's machine stopped).
   */
  async detach(): Promise<void> {
    try {
      if (this.closed === null && (await this.request('D')) !== 'OK') {
        await this.resume();
        await this.request('D').catch(() => '');
      }
    } finally {
      this.close();
    }
  }

  close(): void {
    if (this.closed === null) this.closed = new GdbError(`${this.where}: connection closed`);
    this.sock.destroy();
  }
}
