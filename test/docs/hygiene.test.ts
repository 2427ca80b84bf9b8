// Docs and comments speak to users and contributors of this project: every file a doc names
// exists, and nothing refers to material outside the repository or to how the work was organised.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = new URL('../../', import.meta.url).pathname;

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(join(ROOT, dir))) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const rel = join(dir, name);
    if (statSync(join(ROOT, rel)).isDirectory()) walk(rel, out);
    else out.push(rel);
  }
  return out;
}

const DOCS = ['README.md', ...walk('docs').filter((f) => f.endsWith('.md'))];
const SOURCES = [...walk('src'), ...walk('test'), ...walk('bench'), ...walk('examples')].filter((f) => /\.(ts|md|ya?ml)$/.test(f));

/** Paths a doc names: `src/...`, `test/...`, `docs/...`, `examples/...`, `bench/...` with an extension or a trailing slash. */
export function namedPaths(text: string): string[] {
  const found = new Set<string>();
  for (const m of text.matchAll(/(?<![\w./-])((?:src|test|docs|examples|bench)\/(?:[\w./-]*[\w/])?)(?!\*)/g)) {
    const p = m[1]!;
    if (p.includes('*') || p.includes('...')) continue;
    if (/\.\w+$/.test(p) || p.endsWith('/')) found.add(p);
  }
  return [...found];
}

const FORBIDDEN: [RegExp, string][] = [
  [/\.\.\/shared\b/, 'a path outside the repository'],
  [/research notes?\b/i, 'notes that are not in the repository'],
  [/\b[\w-]+\.md §\d/, 'a section of a document that is not in the repository'],
  [/^\s*Owner:/m, 'who owns what'],
  [/\b[Ii]ssue \d+\b/, 'an issue number'],
  [/telling everyone/i, 'a process remark'],
];

test('the path extractor finds paths and skips globs (so the next test can fail)', () => {
  assert.deepEqual(namedPaths('see `src/smmu/device/smmu-v3.ts`, docs/x.md, src/*.ts and examples/'), [
    'src/smmu/device/smmu-v3.ts', 'docs/x.md', 'examples/',
  ]);
});

test('every file or folder the README and docs name exists', () => {
  const missing: string[] = [];
  for (const doc of DOCS) {
    for (const p of namedPaths(readFileSync(join(ROOT, doc), 'utf8'))) {
      if (!existsSync(join(ROOT, p))) missing.push(`${doc}: ${p}`);
    }
  }
  assert.deepEqual(missing, []);
});

/** Source files a doc names by a shorter path in backticks (`host/qtest.ts`, `iotlb.ts`). */
export function namedSourceFiles(text: string): string[] {
  const found = new Set<string>();
  for (const m of text.matchAll(/`([\w./-]+\.ts)`/g)) if (!/^foo\b/.test(m[1]!)) found.add(m[1]!);
  return [...found];
}

test('the short-path extractor finds backticked source names and skips placeholders', () => {
  assert.deepEqual(namedSourceFiles('`lib/qtest.ts`, `iotlb.ts`, `foo.test.ts` and qtest.ts'), ['lib/qtest.ts', 'iotlb.ts']);
});

test('every source file the README and docs name by a short path is a file of the repository', () => {
  const files = [...walk('src'), ...walk('test'), ...walk('bench'), ...walk('examples')];
  const missing: string[] = [];
  for (const doc of DOCS) {
    for (const p of namedSourceFiles(readFileSync(join(ROOT, doc), 'utf8'))) {
      if (!files.some((f) => f === p || f.endsWith('/' + p))) missing.push(`${doc}: ${p}`);
    }
  }
  assert.deepEqual(missing, []);
});

test('the forbidden patterns match what they are meant to catch', () => {
  const samples = ['see ../shared/research', 'the research notes say', 'linux-driver.md §5', 'Owner: someone', 'fixed in issue 12', 'without telling everyone'];
  samples.forEach((s, i) => assert.ok(FORBIDDEN[i]![0].test(s), s));
  assert.ok(!FORBIDDEN.some(([re]) => re.test('IORT DEN 0049 issue E.d')));
});

test('docs, sources and tests cite nothing outside the repository and no process detail', () => {
  const hits: string[] = [];
  for (const file of [...DOCS, ...SOURCES]) {
    if (file === 'test/docs/hygiene.test.ts') continue;
    readFileSync(join(ROOT, file), 'utf8').split('\n').forEach((line, i) => {
      for (const [re, why] of FORBIDDEN) if (re.test(line)) hits.push(`${file}:${i + 1}: ${why}: ${line.trim().slice(0, 100)}`);
    });
  }
  assert.deepEqual(hits, []);
});

/** Output paths of the vsmmu commands in a doc: the argument of --out/--svg/--dump and of a `>` redirect. */
export function outputPaths(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (!/\bvsmmu\b/.test(line)) continue;
    for (const m of line.matchAll(/(?:--out|--svg|--dump)\s+(\S+)|>\s*([^\s&|;]+)/g)) {
      const p = (m[1] ?? m[2])!;
      if (!/^[A-Z]+\b/.test(p) && !p.startsWith('`')) out.push(p);
    }
  }
  return out;
}

test('README and docs commands write their outputs outside the checkout', () => {
  assert.deepEqual(outputPaths('npm run vsmmu -- x --out out/ && vsmmu y --json > r.json\nvsmmu z --svg /tmp/a.svg --out DIR'), ['out/', 'r.json', '/tmp/a.svg']);
  const inside: string[] = [];
  for (const doc of DOCS) {
    for (const p of outputPaths(readFileSync(join(ROOT, doc), 'utf8'))) if (!p.startsWith('/tmp/')) inside.push(`${doc}: ${p}`);
  }
  assert.deepEqual(inside, []);
});
