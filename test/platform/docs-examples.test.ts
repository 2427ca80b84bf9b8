// Every example in docs/scenarios.md runs as written: each YAML scenario meets its expectations,
// each `vsmmu ...` command line exits 0 (output paths under /tmp are redirected to a temporary
// directory, removed afterwards), and each TypeScript example runs against the sources.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { mapPackageImports } from '../docs/run-example.js';
import { parseScenario } from '../../src/platform/scenario/load.js';
import { runScenario } from '../../src/platform/scenario/runner.js';

const ROOT = resolve(import.meta.dirname, '../..');
const DOC = join(ROOT, 'docs/scenarios.md');

function blocks(lang: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  const lines = readFileSync(DOC, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== '```' + lang) continue;
    const start = i + 1;
    while (++i < lines.length && lines[i] !== '```');
    out.push({ line: start + 1, text: lines.slice(start, i).join('\n') + '\n' });
  }
  return out;
}

const yaml = blocks('yaml');
const sh = blocks('sh');
const ts = blocks('ts');

test('docs/scenarios.md has runnable examples of each kind', () => {
  assert.ok(yaml.length >= 1 && sh.length >= 1 && ts.length >= 1, `${yaml.length} yaml, ${sh.length} sh, ${ts.length} ts`);
});

for (const b of yaml) {
  test(`docs/scenarios.md:${b.line}: the YAML scenario runs and meets its expectations`, () => {
    const { scenario, platform } = parseScenario(b.text, `docs/scenarios.md:${b.line}`);
    const r = runScenario(scenario, platform);
    assert.deepEqual(r.expectations.failures, []);
    assert.ok(r.expectations.passed > 0);
  });
}

for (const b of sh) {
  test(`docs/scenarios.md:${b.line}: every vsmmu command runs (exit 0)`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'vsmmu-docs-'));
    try {
      let n = 0;
      for (const raw of b.text.split('\n')) {
        const cmd = raw.replace(/\s+#.*$/, '').trim();
        if (!cmd.startsWith('vsmmu ') && cmd !== 'vsmmu') continue;
        const [argv, redirect] = cmd.split(/\s*>\s*/) as [string, string | undefined];
        const args = argv.split(/\s+/).slice(1).map((a) => a.replace(/^\/tmp\//, `${dir}/`));
        const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 64 << 20 });
        assert.equal(r.status, 0, `${cmd}: ${r.stderr}`);
        if (redirect) {
          assert.ok(redirect.startsWith('/tmp/'), redirect);
          writeFileSync(join(dir, redirect.slice(5)), r.stdout);
          JSON.parse(r.stdout);
        }
        for (const a of args) if (a.startsWith(dir)) assert.ok(statSync(a).size > 0, a);
        n++;
      }
      assert.ok(n > 0, 'no vsmmu command in the block');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

for (const b of ts) {
  test(`docs/scenarios.md:${b.line}: the TypeScript example runs`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'vsmmu-docs-'));
    try {
      const file = join(dir, 'example.ts');
      writeFileSync(file, mapPackageImports(b.text));
      const r = spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: ROOT, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.ok(r.stdout.length > 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
