// Runs a TypeScript example from the docs as a user would, with its package imports ('vsmmu',
// 'vsmmu/smmu', ...) pointed at the matching entry file in src/ (the same files the package's
// subpath exports are built from; test/cli/installed-bin.test.ts checks the built package itself).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export const ROOT = resolve(import.meta.dirname, '..', '..');

/** The source entry of a package specifier: 'vsmmu' -> src/index.ts, 'vsmmu/smmu' -> src/smmu/index.ts. */
export function entryOf(sub: string | undefined): string {
  const file = sub === undefined ? join(ROOT, 'src', 'index.ts') : join(ROOT, 'src', sub, 'index.ts');
  if (!existsSync(file)) throw new Error(`no package entry for 'vsmmu/${sub}' (${file})`);
  return pathToFileURL(file).href;
}

export function mapPackageImports(code: string): string {
  return code.replace(/from 'vsmmu(?:\/([a-z]+))?'/g, (_m, sub: string | undefined) => `from '${entryOf(sub)}'`);
}

export function runExample(code: string): { status: number | null; stdout: string; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'vsmmu-example-'));
  try {
    const file = join(dir, 'example.ts');
    writeFileSync(file, mapPackageImports(code));
    const r = spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The fenced ```ts blocks of a Markdown file. */
export function tsBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
}
