// Layering: the PCIe models sit below the platform. Nothing in src/pcie/ imports the platform
// runtime, its description, the reference guest, the firmware generators, the SMMU or the CLI;
// they see only the shared memory/MMIO interfaces, the spec layouts and the utilities.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const SRC = new URL('../../src/', import.meta.url).pathname;
/** Top-level directories of src/ that src/pcie/ may import from. */
const ALLOWED = new Set(['pcie', 'spec', 'memory', 'util']);

function tsFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) tsFiles(p, out);
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Module specifiers of static imports and re-exports, `import 'x'` and dynamic `import('x')`. */
export function specifiers(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\b[^'";]*?\bfrom\s*['"]([^'"]+)['"]/gms)) out.push(m[1]!);
  for (const m of text.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm)) out.push(m[1]!);
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push(m[1]!);
  return out;
}

test('the import scanner sees every form of import', () => {
  const text = [
    "import { a } from '../platform/x.js';",
    'import type {\n  B,\n  C,\n} from "../guest/y.js";',
    "export * from './z.js';",
    "import './side.js';",
    "const m = await import('../firmware/w.js');",
  ].join('\n');
  assert.deepEqual(specifiers(text).sort(), ['../firmware/w.js', '../guest/y.js', '../platform/x.js', './side.js', './z.js']);
});

test('src/pcie imports nothing above it (platform, guest, firmware, smmu, cli ...)', () => {
  const files = tsFiles(join(SRC, 'pcie'));
  assert.ok(files.length >= 10, `expected the PCIe sources, found ${files.length} files`);
  const bad: string[] = [];
  let relativeImports = 0;
  for (const f of files) {
    for (const spec of specifiers(readFileSync(f, 'utf8'))) {
      if (!spec.startsWith('.')) continue; // node: built-ins and packages
      relativeImports++;
      const top = relative(SRC, resolve(dirname(f), spec)).split(/[\\/]/)[0]!;
      if (!ALLOWED.has(top)) bad.push(`${relative(SRC, f)} imports ${spec}`);
    }
  }
  assert.ok(relativeImports > 50, `expected the PCIe sources' imports, found ${relativeImports}`);
  assert.deepEqual(bad, []);
});
