// `vsmmu run [SCENARIO] [--json] [--svg FILE] [--verbose]`: runs a scenario (default: the built-in
// default scenario, examples/scenarios/default.yaml, on the qemu-virt layout plus a second root
// complex) and prints its report (docs/scenarios.md). Exit 0 when every expectation holds, 1 when
// one fails (with an expected/actual diff), 2 for an unusable scenario (file:line: problem).
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { loadScenarioFile } from '../../platform/scenario/load.js';
import { DEFAULT_DETAIL } from '../../platform/scenario/record.js';
import { renderReport } from '../../platform/scenario/render.js';
import { runScenario } from '../../platform/scenario/runner.js';
import { renderSvg } from '../../platform/scenario/svg.js';
import { UserInputError } from '../../util/errors.js';

/** The built-in default scenario shipped with the package. */
export const DEFAULT_SCENARIO = fileURLToPath(new URL('../../../examples/scenarios/default.yaml', import.meta.url));

interface RunOpts {
  json?: boolean;
  svg?: string;
  color?: boolean;
  verbose?: boolean;
}

/** Single records the report keeps with --verbose (steps run, events, interrupts, failures). */
const VERBOSE_DETAIL = 100_000;
/** Failed expectations listed on stderr. */
const FAILURES_ON_STDERR = 20;

/** A one-line progress bar on stderr (TTY only). */
function progressBar(): { update(done: number, total: number): void; end(): void } {
  let last = -1;
  const width = 30;
  return {
    update(done, total) {
      const pct = Math.floor((done / Math.max(1, total)) * 100);
      if (pct === last) return;
      last = pct;
      const fill = Math.round((pct / 100) * width);
      process.stderr.write(`\r[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${pct}% ${done}/${total} steps`);
    },
    end() {
      if (last >= 0) process.stderr.write('\r\x1b[K');
    },
  };
}

export function register(program: Command): void {
  program
    .command('run')
    .description('run a scenario (default: the built-in qemu-virt demonstration) and print its report')
    .argument('[scenario]', 'scenario file (YAML or JSON); default: the built-in default scenario')
    .option('--json', 'print the report as JSON (stable shape, docs/scenarios.md)')
    .option('--svg <file>', 'also draw the topology as SVG into FILE')
    .option('--verbose', `list every step run and every event (up to ${VERBOSE_DETAIL.toLocaleString('en-US')} of each) instead of per-step counts and event groups`)
    .option('--no-color', 'disable colours')
    .action((file: string | undefined, o: RunOpts) => {
      const { scenario, platform } = loadScenarioFile(file ?? DEFAULT_SCENARIO);
      const bar = !o.json && process.stderr.isTTY ? progressBar() : null;
      const detail = o.verbose ? VERBOSE_DETAIL : DEFAULT_DETAIL;
      const report = runScenario(scenario, platform, { detail, ...(bar ? { onProgress: (d: number, t: number) => t >= 50 && bar.update(d, t) } : {}) });
      bar?.end();
      if (o.svg !== undefined) {
        try {
          writeFileSync(o.svg, renderSvg(report));
        } catch (e) {
          throw new UserInputError(`cannot write SVG: ${(e as NodeJS.ErrnoException).message}`, o.svg);
        }
      }
      if (o.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
      else process.stdout.write(renderReport(report, { color: o.color !== false && process.stdout.isTTY === true && !process.env.NO_COLOR, verbose: o.verbose === true }));
      if (!report.summary.ok) {
        const failed = report.expectations.failed;
        const f = report.expectations.failures.slice(0, FAILURES_ON_STDERR);
        process.stderr.write(`vsmmu: ${failed} expectation${failed === 1 ? '' : 's'} failed in ${scenario.file}:\n`);
        for (const x of f) process.stderr.write(`  line ${x.line}: ${x.what}\n    - expected: ${x.expected}\n    + actual:   ${x.actual}\n`);
        if (failed > f.length) process.stderr.write(`  ... and ${failed - f.length} more (the report lists them)\n`);
        process.exitCode = 1;
      }
    });
}
