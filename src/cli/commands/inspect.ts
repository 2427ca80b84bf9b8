// `vsmmu inspect`: an SMMUv3's whole state from guest-RAM images and a register dump (streams,
// mappings, queues, step-by-step translations). JSON output is a stable contract.
import type { Command } from 'commander';
import { inspect, SmmuSnapshot, type InspectRequest } from '../../smmu/inspect/inspect.js';
import { loadRam, parseRamArg, parseStreamSelector, parseTranslateQuery, readRegisterDump } from '../../smmu/inspect/inputs.js';
import { renderReport } from '../../smmu/inspect/render.js';
import { UserInputError } from '../../util/errors.js';

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

export function register(program: Command): void {
  program
    .command('inspect')
    .description("show an SMMUv3's state from guest-RAM images and a register dump")
    .requiredOption('--ram <FILE@BASE>', 'raw guest-RAM image at its guest-physical base (repeatable)', collect, [] as string[])
    .requiredOption('--regs <REGS.json>', 'SMMUv3 register values by spec name ("CR0", "STRTAB_BASE", ...)')
    .option('--streams', 'every valid STE with its decoded fields and CDs')
    .option('--mappings [SID[:SSID]]', 'mapped ranges of one stream (or of every valid stream)')
    .option('--queues', 'decoded command and event queue contents')
    .option('--translate <SID[:SSID]:IOVA[:r|w|x][:priv]>', 'translate an address step by step (repeatable)', collect, [] as string[])
    .option('--json', 'print one JSON object')
    .action((o: { ram: string[]; regs: string; streams?: boolean; mappings?: string | true; queues?: boolean; translate: string[]; json?: boolean }) => {
      if (o.ram.length === 0) throw new UserInputError('at least one --ram FILE@BASE is required', '--ram');
      const regs = readRegisterDump(o.regs);
      const mem = loadRam(o.ram.map(parseRamArg));
      const req: InspectRequest = {
        streams: o.streams === true,
        queues: o.queues === true,
        translate: o.translate.map(parseTranslateQuery),
        ...(o.mappings === undefined ? {} : { mappings: o.mappings === true ? true : parseStreamSelector(o.mappings) }),
      };
      const snap = new SmmuSnapshot(mem, regs);
      const report = inspect(snap, req);
      process.stdout.write(o.json ? JSON.stringify(report) + '\n' : renderReport(report));
    });
}
