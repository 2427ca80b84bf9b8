// Launches qemu-system-aarch64 (the system's 7.2, or another build such as the interop tier's
// QEMU 10.0) as a child process with a hard wall-clock limit: the child is killed by its pid when
// the limit passes or when the caller calls kill(); nothing waits forever.
// Console output is collected so callers can wait for markers in it (and optionally streamed).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect, type Socket } from 'node:net';

export const QEMU = process.env['VSMMU_QEMU'] ?? 'qemu-system-aarch64';

/** How to run one qemu-system-aarch64 build: a program and the arguments that go before QEMU's own. */
export interface QemuBinary {
  readonly command: string;
  readonly prefixArgs: readonly string[];
}

/** The system's QEMU (Debian bookworm's 7.2), or the one VSMMU_QEMU names. */
export const SYSTEM_QEMU: QemuBinary = Object.freeze({ command: QEMU, prefixArgs: [] });

export interface QemuProcess {
  readonly child: ChildProcess;
  /** Everything the child printed on stdout so far (the serial console with -nographic). */
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `re` in stdout; rejects on exit or after `timeoutMs`. */
  waitFor(re: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
  /** Resolves when the child exits (with its code or signal). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILLs the child (by pid) if it is still running, and waits for it. */
  kill(): Promise<void>;
}

export interface QemuOptions {
  /** Hard limit for the child's whole life; it is SIGKILLed after that. */
  readonly timeoutMs: number;
  /** Give the child a stdin pipe (the serial console's input with `-serial stdio`). */
  readonly stdin?: boolean;
  /** Called with each chunk of console output as it arrives. */
  readonly onOutput?: (chunk: string) => void;
  /** Which build to run; the system's by default. */
  readonly binary?: QemuBinary;
}

export function startQemu(args: readonly string[], opts: QemuOptions): QemuProcess {
  const bin = opts.binary ?? SYSTEM_QEMU;
  const child = spawn(bin.command, [...bin.prefixArgs, ...args], { stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  child.stdin?.on('error', () => undefined); // the child may exit while we write
  let out = '';
  let err = '';
  let done = false;
  const waiters = new Set<() => void>();
  const notify = (): void => {
    for (const w of [...waiters]) w();
  };
  child.stdout?.setEncoding('utf8').on('data', (s: string) => {
    out += s;
    opts.onOutput?.(s);
    notify();
  });
  child.stderr?.setEncoding('utf8').on('data', (s: string) => {
    err += s;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      done = true;
      clearTimeout(limit);
      notify();
      resolve({ code, signal });
    });
    child.on('error', (e) => {
      err += `spawn error: ${e.message}\n`;
      done = true;
      clearTimeout(limit);
      notify();
      resolve({ code: -1, signal: null });
    });
  });
  const killNow = (): void => {
    if (!done && child.pid !== undefined) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  };
  const limit = setTimeout(killNow, opts.timeoutMs);
  limit.unref();
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(re, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const m = re.exec(out);
          if (m) {
            cleanup();
            resolve(m);
          } else if (done) {
            cleanup();
            reject(new Error(`QEMU exited before ${re} appeared; stderr:\n${err.slice(-2000)}\nconsole tail:\n${out.slice(-3000)}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${re}; console tail:\n${out.slice(-3000)}`));
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async kill() {
      killNow();
      await exited;
    },
  };
}

/** Connects to a unix socket QEMU creates, retrying until it exists (bounded by `timeoutMs`). */
export async function connectUnix(path: string, timeoutMs: number, proc?: QemuProcess): Promise<Socket> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (existsSync(path)) {
      try {
        return await new Promise<Socket>((resolve, reject) => {
          const s = connect(path);
          s.once('connect', () => {
            s.removeListener('error', reject);
            resolve(s);
          });
          s.once('error', reject);
        });
      } catch {
        /* not listening yet */
      }
    }
    if (Date.now() > deadline) throw new Error(`cannot connect to ${path}${proc ? `; QEMU stderr:\n${proc.stderr()}` : ''}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
