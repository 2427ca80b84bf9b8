// The module graph of src/ has no cycles: the relative imports of every non-test source file,
// followed through a depth-first walk. At run time nowhere (type-only imports are erased); in
// the spec layer and the translation engine not even through types. A cycle is reported as the
// chain of files that closes it. And the spec layer imports nothing from the models.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SRC = join(ROOT, 'src');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

export interface ImportEdge {
  readonly spec: string;
  /** Erased at run time: `import type`, `export type`, or every named binding marked `type`. */
  readonly typeOnly: boolean;
}

/** Relative module specifiers of `import ... from '...'`, `export ... from '...'`, `import '...'` and `import('...')`. */
export function importsOf(text: string): ImportEdge[] {
  const edges: ImportEdge[] = [];
  const re = /(?:^|[\s;])((?:import|export)\s[^'";]*?)from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^import\s*['"]([^'"]+)['"]/gm;
  for (const m of text.matchAll(re)) {
    const spec = m[2] ?? m[3] ?? m[4]!;
    if (!spec.startsWith('.')) continue;
    const head = m[1];
    let typeOnly = false;
    if (head !== undefined) {
      const names = /\{([^}]*)\}/.exec(head);
      const bindings = names === null ? [] : names[1]!.split(',').map((n) => n.trim()).filter((n) => n !== '');
      typeOnly = /^(import|export)\s+type\s/.test(head) || (names !== null && !/^import\s+[\w$]+\s*,/.test(head) && bindings.length > 0 && bindings.every((n) => n.startsWith('type ')));
    }
    edges.push({ spec, typeOnly });
  }
  return edges;
}

/** The cycles of a graph (each as the chain of nodes that closes it), found by a depth-first walk. */
export function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const visit = (n: string): void => {
    state.set(n, 1);
    stack.push(n);
    for (const m of graph.get(n) ?? []) {
      const s = state.get(m);
      if (s === 1) cycles.push([...stack.slice(stack.indexOf(m)), m]);
      else if (s === undefined) visit(m);
    }
    stack.pop();
    state.set(n, 2);
  };
  for (const n of [...graph.keys()].sort()) if (!state.has(n)) visit(n);
  return cycles;
}

function graphOf(files: readonly string[], withTypes: boolean): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const f of files) {
    const deps = importsOf(readFileSync(f, 'utf8'))
      .filter((e) => withTypes || !e.typeOnly)
      .map((e) => relative(ROOT, resolve(dirname(f), e.spec.replace(/\.js$/, '.ts'))));
    graph.set(relative(ROOT, f), deps);
  }
  return graph;
}

test('the cycle finder finds a cycle and accepts a DAG; imports are read with their kind', () => {
  assert.deepEqual(findCycles(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']]])), [['a', 'b', 'c', 'a']]);
  assert.deepEqual(findCycles(new Map([['a', ['b', 'c']], ['b', ['c']], ['c', []]])), []);
  const text = [
    "import type { X } from './x.js';",
    "export { y } from '../y.js';",
    "import z from 'node:fs';",
    "import { type A, type B } from './ab.js';",
    "import { type C, d } from './cd.js';",
    "export type { E } from './e.js';",
    "const m = await import('./m.js');",
  ].join('\n');
  assert.deepEqual(importsOf(text), [
    { spec: './x.js', typeOnly: true },
    { spec: '../y.js', typeOnly: false },
    { spec: './ab.js', typeOnly: true },
    { spec: './cd.js', typeOnly: false },
    { spec: './e.js', typeOnly: true },
    { spec: './m.js', typeOnly: false },
  ]);
});

test('src/ has no import cycles at run time', () => {
  const files = sources(SRC);
  assert.ok(files.length > 100, `only ${files.length} source files found`);
  assert.deepEqual(findCycles(graphOf(files, false)).map((c) => c.join(' -> ')), []);
});

test('src/spec/ and src/smmu/translation/ have no import cycles, type-only imports included', () => {
  for (const dir of ['spec', 'smmu/translation']) {
    const files = sources(join(SRC, dir));
    assert.ok(files.length > 5, `only ${files.length} source files in src/${dir}`);
    assert.deepEqual(findCycles(graphOf(files, true)).map((c) => c.join(' -> ')), [], `src/${dir}`);
  }
});

test('src/spec/ imports nothing from the models (layouts and encodings depend on nothing above them)', () => {
  const outside: string[] = [];
  for (const f of sources(join(SRC, 'spec'))) {
    for (const e of importsOf(readFileSync(f, 'utf8'))) {
      const target = relative(join(SRC, 'spec'), resolve(dirname(f), e.spec));
      if (target.startsWith('..')) outside.push(`${relative(ROOT, f)} -> ${e.spec}`);
    }
  }
  assert.deepEqual(outside, []);
});
