// The README's library examples run as written (package imports pointed at the source entries).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT as root, runExample } from './run-example.js';

function librarySnippets(): string[] {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## The library'), readme.indexOf('Subsystems and their documentation'));
  return [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

test('README library examples run and produce what the prose says', () => {
  const snippets = librarySnippets();
  assert.equal(snippets.length, 2);
  // Hoist imports, then run the bodies in order (the second example reuses `mem`).
  const imports: string[] = [];
  const bodies = snippets.map((s) =>
    s
      .split('\n')
      .filter((line) => {
        if (line.startsWith('import ')) {
          imports.push(line);
          return false;
        }
        return true;
      })
      .join('\n'),
  );
  const program = [
    ...imports,
    ...bodies,
    `console.log(JSON.stringify({ fault: fault === null ? null : fault.reason, event: res.event?.type ?? null, ok: res.event === null }));`,
  ].join('\n');
  const r = runExample(program);
  assert.equal(r.status, 0, r.stderr);
  const last = JSON.parse(r.stdout.trim().split('\n').pop()!) as { fault: string | null; event: number | null };
  // Untouched SMMU: SMMUEN = 0, so the DMA follows GBPA (reset: bypass) into RAM; a zeroed
  // stream table has V = 0 STEs, so the direct translation reports C_BAD_STE (0x04).
  assert.equal(last.fault, null);
  assert.equal(last.event, 0x04);
});
