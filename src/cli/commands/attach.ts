// `vsmmu attach HOST:PORT [--smmu-base ADDR] <views> | --dump DIR`: the SMMU of a running QEMU
// guest through QEMU's GDB stub (`-s` / `-gdb tcp::1234`). The machine is stopped only while its
// registers and tables are read, and runs on afterwards (also on errors and Ctrl-C).
import type { Command } from 'commander';
import { GdbError, GdbRemote } from '../../attach/gdb-remote.js';
import { DUMP_VIEWS, inspectRemote, readSmmuRegisters, VIRT_SMMU_BASE, writeDump } from '../../attach/attach.js';
import { JsonSink, type InspectRequest } from '../../smmu/inspect/inspect.js';
import { TextSink } from '../../smmu/inspect/render.js';
import { UserInputError } from '../../util/errors.js';
import { parseIntLike } from '../../util/hex.js';
import { addViewOptions, viewRequest, type ViewOptions } from './inspect.js';

function parseTarget(s: string): { host: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(s);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 1 || port > 65_535) throw new UserInputError(`expected HOST:PORT (QEMU -gdb tcp::PORT), got '${s}'`, 'attach');
  return { host: m[1] === '' ? '127.0.0.1' : m[1]!, port };
}

function addr(s: string, flag: string): number {
  const v = parseIntLike(s);
  if (v === null || v > BigInt(Number.MAX_SAFE_INTEGER)) throw new UserInputError(`bad address '${s}'`, flag);
  return Number(v);
}

interface AttachOptions extends ViewOptions {
  smmuBase?: string;
  dump?: string;
  dumpRam?: string;
  timeout: string;
}

export function register(program: Command): void {
  const cmd = program
    .command('attach')
    .description("inspect the SMMU of a running QEMU guest through QEMU's GDB stub (-s / -gdb tcp::PORT)")
    .argument('<HOST:PORT>', 'the GDB stub')
    .option('--smmu-base <ADDR>', 'guest-physical base of the SMMU register window', '0x9050000')
    .option('--dump <DIR>', 'write REGS.json and the guest pages the SMMU structures occupy, for offline `vsmmu inspect`')
    .option('--dump-ram <BASE:SIZE>', 'with --dump: write this whole guest RAM range instead')
    .option('--timeout <MS>', 'longest wait for any answer of the stub', '5000');
  addViewOptions(cmd).action(async (target: string, o: AttachOptions) => {
    const { host, port } = parseTarget(target);
    const base = addr(o.smmuBase ?? String(VIRT_SMMU_BASE), '--smmu-base');
    const timeoutMs = Number(parseIntLike(o.timeout) ?? NaN);
    if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1) throw new UserInputError(`bad timeout '${o.timeout}'`, '--timeout');
    let full: { base: number; size: number } | null = null;
    if (o.dumpRam !== undefined) {
      const [b, z] = o.dumpRam.split(':');
      full = { base: addr(b ?? '', '--dump-ram'), size: addr(z ?? '', '--dump-ram') };
      if (o.dump === undefined) throw new UserInputError('needs --dump DIR', '--dump-ram');
    }
    const hasView = o.streams !== undefined || o.mappings !== undefined || o.queues !== undefined || o.translate.length > 0;
    const req: InspectRequest | null = hasView || o.dump === undefined ? viewRequest(o) : null;
    let gdb: GdbRemote | null = null;
    const onInterrupt = (): void => {
      const g = gdb;
      process.stderr.write('vsmmu: interrupted; letting the guest run on\n');
      void (g === null ? Promise.resolve() : g.detach()).catch(() => {}).finally(() => process.exit(130));
    };
    process.once('SIGINT', onInterrupt);
    try {
      gdb = await GdbRemote.connect(host, port, { timeoutMs });
      await gdb.handshake();
      // QEMU stops the machine when a debugger attaches; `?` confirms it with a stop reply.
      let stop = await gdb.haltReason();
      if (!/^[ST][0-9a-fA-F]{2}/.test(stop)) stop = await gdb.interrupt();
      await gdb.physicalMemoryMode();
      const regs = await readSmmuRegisters(gdb, base);
      const out = (s: string): void => void process.stdout.write(s);
      const sink = o.json ? new JsonSink(out) : new TextSink(out, (l) => void process.stderr.write(l + '\n'));
      const { mem } = await inspectRemote(gdb, regs, req ?? DUMP_VIEWS, req === null ? new JsonSink(() => {}) : sink);
      if (o.dump !== undefined) {
        const ram = await writeDump(gdb, o.dump, regs, mem, full);
        process.stderr.write(`vsmmu: wrote ${o.dump}/REGS.json and ${ram.length} RAM image(s); offline: vsmmu inspect $(cat ${o.dump}/inspect-args.txt) --streams\n`);
      }
    } catch (e) {
      if (e instanceof GdbError) throw new UserInputError(e.message, 'attach');
      throw e;
    } finally {
      process.off('SIGINT', onInterrupt);
      if (gdb !== null) await gdb.detach().catch(() => gdb!.close());
    }
  });
}
