// Where the interop tier keeps things: the repository root, the gitignored download cache
// (.cache/interop/) and per-test temporary directories (removed by the caller).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const CACHE_DIR = join(REPO_ROOT, '.cache', 'interop');
// The guest downloads (src/host/cache-dir.ts) go to the tier's cache, which CI keeps between runs;
// child `vsmmu` processes inherit it.
process.env['VSMMU_CACHE'] ??= CACHE_DIR;

/** A fresh temporary directory; `cleanup()` removes it (idempotent). */
export function tempDir(prefix: string): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), `vsmmu-${prefix}-`));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}
