// `vsmmu inspect`: an SMMUv3's whole state from guest-RAM images and a register dump (streams,
// mappings, queues, step-by-step translations). JSON output is a stable contract; both outputs
// are written as they are produced and every list view is bounded (--limit).
import type { Command } from 'commander';
import { SmmuSnapshot, writeReport, type InspectRequest, JsonSink } from '../../smmu/inspect/inspect.js';
import { describeImages, loadRam, parseIdRange, parseLimit, parseRamArg, parseStreamSelector, parseTranslateQuery, readRegisterDump } from '../../smmu/inspect/inputs.js';
import { TextSink } from '../../smmu/inspect/render.js';
import { UserInputError } from '../../util/errors.js';

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

/** The view flags shared by `inspect` and `attach`. */
export interface ViewOptions {
  streams?: boolean | string;
  mappings?: string | true;
  queues?: boolean | string;
  translate: string[];
  limit?: string;
  json?: boolean;
}

export function addViewOptions(cmd: Command): Command {
  return cmd
    .option('--streams [SIDS]', 'valid STEs with their decoded fields and CDs; with SIDS (N or FIRST-LAST) every STE in that range')
    .option('--mappings [SID[:SSID]]', 'mapped ranges of one stream (or of every valid stream)')
    .option('--queues [INDEXES]', 'decoded pending command and event queue entries; with INDEXES (N or FIRST-LAST) only those')
    .option('--translate <SID[:SSID]:IOVA[:r|w|x][:priv]>', 'translate an address step by step (repeatable)', collect, [] as string[])
    .option('--limit <N>', 'entries shown per list view (0: no limit)', '1000')
    .option('--json', 'print one JSON document');
}

/** The request the view flags ask for; a usage error when none is given. */
export function viewRequest(o: ViewOptions): InspectRequest {
  const req: InspectRequest = {
    ...(o.streams === undefined ? {} : { streams: o.streams === true ? true : parseIdRange(String(o.streams), '--streams') }),
    ...(o.queues === undefined ? {} : { queues: o.queues === true ? true : parseIdRange(String(o.queues), '--queues', 2 ** 20) }),
    translate: o.translate.map(parseTranslateQuery),
    ...(o.mappings === undefined ? {} : { mappings: o.mappings === true ? true : parseStreamSelector(o.mappings) }),
    limit: parseLimit(o.limit ?? '1000'),
  };
  if (req.streams === undefined && req.queues === undefined && req.mappings === undefined && req.translate!.length === 0) {
    throw new UserInputError('nothing to show: give at least one of --streams, --mappings, --queues, --translate', 'inspect');
  }
  return req;
}

/** Writes the report to stdout (JSON or text) as it is produced; warnings go to stderr in text mode. */
export function printReport(snap: SmmuSnapshot, req: InspectRequest, json: boolean): void {
  const out = (s: string): void => void process.stdout.write(s);
  writeReport(snap, req, json ? new JsonSink(out) : new TextSink(out, (l) => void process.stderr.write(l + '\n')));
}

export function register(program: Command): void {
  const cmd = program
    .command('inspect')
    .description("show an SMMUv3's state from guest-RAM images and a register dump")
    .requiredOption('--ram <FILE@BASE>', 'raw guest-RAM image at its guest-physical base (repeatable)', collect, [] as string[])
    .requiredOption('--regs <REGS.json>', 'SMMUv3 register values by spec name ("CR0", "STRTAB_BASE", ...)');
  addViewOptions(cmd).action((o: ViewOptions & { ram: string[]; regs: string }) => {
    if (o.ram.length === 0) throw new UserInputError('at least one --ram FILE@BASE is required', '--ram');
    const images = o.ram.map(parseRamArg);
    const req = viewRequest(o);
    const regs = readRegisterDump(o.regs);
    const mem = loadRam(images);
    printReport(new SmmuSnapshot(mem, regs, describeImages(mem)), req, o.json === true);
  });
}
