// `vsmmu lint FILE... [--json]`: checks IORT, MADT and DTB files of one platform, alone and
// against each other (e.g. `vsmmu lint IORT.dat MADT.dat platform.dtb`). Exit 0 clean,
// 1 findings, 2 unusable input.
import type { Command } from 'commander';
import { formatFindings, LINT_RULES, lintFiles } from '../../firmware/lint/index.js';
import { readInputFile } from './decode.js';

export function register(program: Command): void {
  program
    .command('lint')
    .description('check IORT / MADT / DTB files (alone and cross-checked); exit 1 on findings')
    .argument('<files...>', 'IORT.dat, MADT.dat, platform.dtb, /sys/firmware/acpi/tables/IORT, ...')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nRules:\n' + Object.entries(LINT_RULES).map(([k, v]) => `  ${k.padEnd(20)} ${v}`).join('\n'))
    .action((files: string[], o: { json?: boolean }) => {
      const report = lintFiles(files.map((file) => ({ file, bytes: readInputFile(file) })));
      if (o.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
      else if (report.findings.length === 0) process.stdout.write(`${files.length} file(s) checked, no findings\n`);
      else process.stdout.write(formatFindings(report));
      process.exitCode = report.findings.length > 0 ? 1 : 0;
    });
}
