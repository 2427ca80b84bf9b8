// Runs our own `vsmmu` CLI (src/cli/main.ts under tsx) as a child process, the way a person does.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './paths.js';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function runVsmmu(args: readonly string[], timeoutMs = 120_000): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(REPO_ROOT, 'src', 'cli', 'main.ts'), ...args],
      { cwd: REPO_ROOT, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 256 << 20, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Like runVsmmu but throws (with the CLI's stderr) unless it exits 0. */
export async function vsmmuOk(args: readonly string[], timeoutMs?: number): Promise<string> {
  const r = await runVsmmu(args, timeoutMs);
  if (r.code !== 0) throw new Error(`vsmmu ${args.join(' ')} exited ${r.code}:\n${r.stderr}${r.stdout.slice(0, 2000)}`);
  return r.stdout;
}
