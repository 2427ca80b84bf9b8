// `npm run fuzz:translator -- --base REV [--runs N] [--ops N] [--seed S]`: the translator
// differential fuzz (translator-diff.ts) between the engine of git revision REV and the engine in
// this working tree. REV's `src/` is extracted to a temporary directory and loaded from there.
// Prints the runs, accesses, translations and faults compared; on the first difference prints the
// seed, the operation and both results, and exits 1. Bad arguments or an unknown revision: exit 2.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Translator } from '../../src/smmu/translation/translator.js';
import { runTranslatorDiff, type EngineFactory } from './translator-diff.js';

const { values } = parseArgs({ options: { base: { type: 'string' }, runs: { type: 'string', default: '500' }, ops: { type: 'string', default: '400' }, seed: { type: 'string', default: '1' } } });
const runs = Number(values.runs);
const ops = Number(values.ops);
const seed0 = Number(values.seed);
if (values.base === undefined || !(Number.isSafeInteger(runs) && runs > 0) || !(Number.isSafeInteger(ops) && ops > 0) || !Number.isSafeInteger(seed0)) {
  console.error('fuzz:translator: usage: --base REV [--runs N] [--ops N] [--seed S] (N positive integers)');
  process.exit(2);
}
const dir = mkdtempSync(join(tmpdir(), 'vsmmu-base-'));
try {
  let archive: Buffer;
  try {
    archive = execFileSync('git', ['archive', values.base, 'src'], { maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch {
    console.error(`fuzz:translator: git cannot archive src/ of revision '${values.base}'`);
    process.exit(2);
  }
  execFileSync('tar', ['-x', '-C', dir], { input: archive });
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  const base = (await import(pathToFileURL(join(dir, 'src/smmu/translation/translator.ts')).href)) as { Translator: typeof Translator };
  const baseEngine: EngineFactory = (mem, features, options) => new base.Translator(mem, features, options);
  const thisEngine: EngineFactory = (mem, features, options) => new Translator(mem, features, options);
  const total = { accesses: 0, ok: 0, faults: 0 };
  for (let i = 0; i < runs; i++) {
    const r = runTranslatorDiff(baseEngine, thisEngine, seed0 + i, ops);
    total.accesses += r.accesses;
    total.ok += r.ok;
    total.faults += r.faults;
    if (r.finding !== null) {
      console.log(`difference at seed ${r.finding.seed}, operation ${r.finding.op}: ${r.finding.what}`);
      console.log(`  ${values.base}: ${JSON.stringify(r.finding.a)}`);
      console.log(`  this tree: ${JSON.stringify(r.finding.b)}`);
      process.exitCode = 1;
      break;
    }
  }
  if (process.exitCode !== 1) {
    console.log(`${runs} runs of ${ops} operations (seeds ${seed0}-${seed0 + runs - 1}): ${total.accesses} accesses, ${total.ok} translations and ${total.faults} faults identical to ${values.base}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
