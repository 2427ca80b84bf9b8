// `vsmmu platform build CONFIG|--preset NAME [--gic-msi auto|its|v2m|none] [--smmu RC]...
//  [--iort-revision 5|3] --out DIR`: writes platform.dtb, platform.dts, IORT.dat, MADT.dat and
// ids.json (docs/platform.md) from one platform description.
// `vsmmu platform presets`: lists the preset names.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { buildPlatformArtifacts } from '../../platform/artifacts.js';
import { parseGicMsi } from '../../platform/overrides.js';
import { loadPlatform, PRESET_NAMES } from '../../platform/presets/index.js';
import { UserInputError } from '../../util/errors.js';

interface BuildOpts {
  preset?: string;
  gicMsi?: string;
  smmu: string[];
  out: string;
  iortRevision: string;
}

export function register(program: Command): void {
  const platform = program.command('platform').description('platform descriptions: build firmware tables and ID maps');
  platform
    .command('build')
    .description('write platform.dtb, platform.dts, IORT.dat, MADT.dat and ids.json for a platform description')
    .argument('[config]', 'platform description file (YAML or JSON)')
    .option('--preset <name>', `use a preset (${PRESET_NAMES.join(', ')})`)
    .option('--gic-msi <choice>', 'MSI controller: auto, its, v2m or none')
    .option('--smmu <root-complex>', 'give this root complex an SMMU (repeatable; replaces the SMMU set)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--iort-revision <n>', 'IORT table revision: 5 (default) or 3', '5')
    .requiredOption('--out <dir>', 'output directory (created if missing)')
    .action((config: string | undefined, o: BuildOpts) => {
      if (o.iortRevision !== '5' && o.iortRevision !== '3') throw new UserInputError(`unsupported IORT revision '${o.iortRevision}' (expected 5 or 3)`, '--iort-revision');
      const desc = loadPlatform(
        { config, preset: o.preset },
        { gicMsi: o.gicMsi === undefined ? undefined : parseGicMsi(o.gicMsi), smmu: o.smmu },
      );
      const files = buildPlatformArtifacts(desc, o.iortRevision === '3' ? 3 : 5);
      try {
        mkdirSync(o.out, { recursive: true });
        for (const [name, data] of Object.entries(files)) writeFileSync(join(o.out, name), data);
      } catch (e) {
        throw new UserInputError(`cannot write output: ${(e as NodeJS.ErrnoException).message}`, o.out);
      }
      for (const name of Object.keys(files)) process.stdout.write(`${join(o.out, name)}\n`);
    });
  platform
    .command('presets')
    .description('list the platform presets')
    .action(() => {
      for (const n of PRESET_NAMES) process.stdout.write(`${n}\n`);
    });
}
