// `vsmmu lint FILE... [--json]`: checks IORT, MADT and DTB files of one platform, alone and
// against each other (e.g. `vsmmu lint IORT.dat MADT.dat platform.dtb`). Every usable file is
// linted even when another one is unusable. Exit 0 clean, 1 findings, 2 any file unusable.
import type { Command } from 'commander';
import { decodeFirmware, formatFindings, LINT_RULES, lintDecoded, type DecodedFirmware } from '../../firmware/lint/index.js';
import { UserInputError } from '../../util/errors.js';
import { readInputFile } from './decode.js';

export function register(program: Command): void {
  program
    .command('lint')
    .description('check IORT / MADT / DTB files (alone and cross-checked); exit 1 on findings, 2 when a file is unusable')
    .argument('<files...>', 'IORT.dat, MADT.dat, platform.dtb, /sys/firmware/acpi/tables/IORT, ...')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nRules:\n' + Object.entries(LINT_RULES).map(([k, v]) => `  ${k.padEnd(20)} ${v}`).join('\n'))
    .action((files: string[], o: { json?: boolean }) => {
      const decoded: DecodedFirmware[] = [];
      const errors: { file: string; message: string }[] = [];
      for (const file of files) {
        try {
          decoded.push(decodeFirmware(file, readInputFile(file)));
        } catch (e) {
          if (!(e instanceof UserInputError)) throw e;
          errors.push({ file, message: e.message });
        }
      }
      const report = lintDecoded(decoded);
      if (o.json) process.stdout.write(JSON.stringify({ ...report, errors }, null, 2) + '\n');
      else if (report.findings.length === 0 && decoded.length > 0) process.stdout.write(`${decoded.length} file(s) checked, no findings\n`);
      else process.stdout.write(formatFindings(report));
      for (const e of errors) process.stderr.write(`vsmmu: ${e.message}\n`);
      process.exitCode = errors.length > 0 ? 2 : report.findings.length > 0 ? 1 : 0;
    });
}
