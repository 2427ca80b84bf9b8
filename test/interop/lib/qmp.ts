// A minimal QMP client (QEMU Machine Protocol: one JSON object per line; greeting, then
// `qmp_capabilities`, then `{"execute":...}` -> `{"return":...}` | `{"error":...}`; asynchronous
// `{"event":...}` lines are collected). Every request has a timeout.
import type { Socket } from 'node:net';
import { connectUnix, type QemuProcess } from '../../../src/host/qemu.js';
import { withTimeout } from '../../../src/util/timeout.js';

export class QmpClient {
  private buf = '';
  private pending: Array<{ resolve(v: unknown): void; reject(e: Error): void }> = [];
  private greeted: Promise<void>;
  readonly events: Array<{ event: string; data?: unknown }> = [];

  private constructor(private readonly sock: Socket) {
    let greet!: () => void;
    this.greeted = new Promise((r) => (greet = r));
    let first = true;
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      this.buf += chunk;
      for (let nl = this.buf.indexOf('\n'); nl >= 0; nl = this.buf.indexOf('\n')) {
        const line = this.buf.slice(0, nl).trim();
        this.buf = this.buf.slice(nl + 1);
        if (!line) continue;
        const msg = JSON.parse(line) as { QMP?: unknown; event?: string; data?: unknown; return?: unknown; error?: { desc?: string } };
        if (first && msg.QMP !== undefined) {
          first = false;
          greet();
        } else if (msg.event !== undefined) {
          this.events.push({ event: msg.event, data: msg.data });
        } else {
          const p = this.pending.shift();
          if (!p) continue;
          if (msg.error) p.reject(new Error(`QMP error: ${msg.error.desc ?? JSON.stringify(msg.error)}`));
          else p.resolve(msg.return);
        }
      }
    });
    const fail = (): void => {
      for (const p of this.pending.splice(0)) p.reject(new Error('QMP connection closed'));
    };
    sock.on('close', fail);
    sock.on('error', fail);
  }

  static async connect(path: string, proc: QemuProcess, timeoutMs = 10_000): Promise<QmpClient> {
    const c = new QmpClient(await connectUnix(path, timeoutMs, proc));
    await withTimeout(c.greeted, timeoutMs, 'QMP greeting');
    await c.execute('qmp_capabilities');
    return c;
  }

  execute(command: string, args?: Record<string, unknown>, timeoutMs = 30_000): Promise<unknown> {
    const p = new Promise<unknown>((resolve, reject) => this.pending.push({ resolve, reject }));
    this.sock.write(JSON.stringify(args ? { execute: command, arguments: args } : { execute: command }) + '\n');
    return withTimeout(p, timeoutMs, `QMP ${command}`);
  }

  close(): void {
    this.sock.destroy();
  }
}
