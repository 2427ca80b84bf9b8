// `npm run fuzz -- --seconds N [--seed S]`: runs the guest-program fuzzer (DMA programs on every
// SMMU profile, chaos over the qemu-virt and GICv2m platforms) and the file fuzzer (mutated
// IORT/MADT/DTB images, platform and scenario YAML run end to end, SMMU dumps through inspect)
// with fresh seeds until the time is up; prints ops/s per kind and exits 1 on the first finding
// (with its seed, so it replays).
import { parseArgs } from 'node:util';
import { qemuVirtWithDevices, toDescription } from '../support/platform-fixtures.js';
import { DMA_PROFILES, runChaosFuzz, runDmaFuzz, type ChaosResult } from './guest-fuzz.js';
import { CMDQ_SLICE } from '../../src/smmu/device/command-queue.js';
import { ITS_SLICE } from '../../src/intc/its.js';
import { LPI_SLICE } from '../../src/intc/redistributor.js';
import { DMA_ENGINE_SLICE } from '../../src/platform/devices/dma-engine.js';
import { V2M_PLATFORM } from './platforms.js';
import { runFileFuzz } from './file-fuzz.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '60' }, seed: { type: 'string' } } });
const seconds = Number(values.seconds);
if (!Number.isFinite(seconds) || seconds <= 0) {
  console.error('fuzz: --seconds must be a positive number');
  process.exit(2);
}
let seed = values.seed !== undefined ? Number(values.seed) : Date.now() % 0x7fff_ffff;
const deadline = performance.now() + seconds * 1000;
/** Worst work one register access did across the chaos runs (the bound printout). */
const worst = { commands: 0, lpis: 0, dmaBytes: 0 };
const chaos = (r: ChaosResult): number => {
  worst.commands = Math.max(worst.commands, r.worstCommands);
  worst.lpis = Math.max(worst.lpis, r.worstLpis);
  worst.dmaBytes = Math.max(worst.dmaBytes, r.worstDmaBytes);
  return r.ops;
};
/** File-fuzzer cases per command (decode+lint, platform, run, inspect). */
const fileKinds = new Map<string, { cases: number; rejected: number; ms: number }>();
const kinds: { name: string; run: (seed: number) => number }[] = [
  ...Object.keys(DMA_PROFILES).map((p) => ({ name: `dma/${p}`, run: (s: number) => runDmaFuzz(p, s, 500).ops })),
  { name: 'chaos/qemu-virt', run: (s: number) => chaos(runChaosFuzz(qemuVirtWithDevices(), s, 2000, { dma0: 'dma-engine', nvme0: 'queue' })) },
  { name: 'chaos/gicv2m', run: (s: number) => chaos(runChaosFuzz(toDescription(V2M_PLATFORM), s, 2000, { dma0: 'dma-engine' })) },
  {
    name: 'files',
    run: (s: number) => {
      const r = runFileFuzz(s * 100, 100);
      if (r.findings.length > 0) throw new Error(`file fuzzer: ${JSON.stringify(r.findings)}`);
      for (const [kind, k] of Object.entries(r.byKind)) {
        const t = fileKinds.get(kind) ?? { cases: 0, rejected: 0, ms: 0 };
        t.cases += k.cases;
        t.rejected += k.rejected;
        t.ms += k.ms;
        fileKinds.set(kind, t);
      }
      return r.cases;
    },
  },
];
const totals = new Map<string, { ops: number; ms: number; runs: number }>();
let i = 0;
while (performance.now() < deadline) {
  const k = kinds[i++ % kinds.length]!;
  const t0 = performance.now();
  try {
    const ops = k.run(seed);
    const t = totals.get(k.name) ?? { ops: 0, ms: 0, runs: 0 };
    t.ops += ops;
    t.ms += performance.now() - t0;
    t.runs++;
    totals.set(k.name, t);
  } catch (e) {
    console.error(`FINDING in ${k.name} with --seed ${seed}: ${(e as Error).stack ?? String(e)}`);
    process.exit(1);
  }
  seed = (seed + 1) >>> 0;
}
let all = 0;
let allMs = 0;
for (const [name, t] of totals) {
  all += t.ops;
  allMs += t.ms;
  console.log(`${name.padEnd(18)} ${String(t.runs).padStart(5)} runs ${String(t.ops).padStart(9)} ops ${((t.ops / t.ms) * 1000).toFixed(0).padStart(7)} ops/s`);
}
for (const [kind, k] of fileKinds) {
  console.log(`  files/${kind.padEnd(11)} ${String(k.cases).padStart(9)} cases (${k.rejected} refused as unusable input) ${((k.cases / k.ms) * 1000).toFixed(0).padStart(7)} cases/s`);
}
console.log(`total              ${String(all).padStart(20)} ops ${((all / allMs) * 1000).toFixed(0).padStart(7)} ops/s, no findings`);
console.log(
  `worst work in one register access: ${worst.commands} queue commands (bound ${Math.max(CMDQ_SLICE, ITS_SLICE)}), ` +
    `${worst.lpis} LPIs visited (bound ${2 * LPI_SLICE + 64}), ${worst.dmaBytes} test-device DMA bytes (bound ${DMA_ENGINE_SLICE})`,
);
