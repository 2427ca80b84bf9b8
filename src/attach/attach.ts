// `vsmmu attach`: the SMMU of a running QEMU guest, inspected through QEMU's GDB stub. The stub
// stops the machine while a debugger is attached; every register and table is read as
// guest-physical memory (QEMU's physical-memory mode) while it is stopped, and the machine runs
// on as soon as the answer is complete (also after an error or an interrupt).
import { mkdirSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { REG, type RegName } from '../spec/smmuv3/registers.js';
import { hex } from '../util/hex.js';
import { JsonSink, SmmuSnapshot, writeReport, type InspectRequest, type ReportSink } from '../smmu/inspect/inspect.js';
import type { RegisterDump } from '../smmu/inspect/inputs.js';
import { GdbError, type GdbRemote } from './gdb-remote.js';
import { RemoteMemory } from './remote-memory.js';

/** SMMU_BASE of QEMU's virt machine with iommu=smmuv3 (its 128 KiB register window). */
export const VIRT_SMMU_BASE = 0x0905_0000;
/** Query re-runs before giving up (each one fetches the pages the previous one reached). */
const MAX_ROUNDS = 64;
/** Guest pages one answer may read (256 MiB). */
const MAX_PAGES = 65_536;

/** 64-bit registers, read as two 32-bit halves (§6.2: 64-bit registers allow 32-bit accesses). */
const REG64: ReadonlySet<RegName> = new Set<RegName>(['STRTAB_BASE', 'CMDQ_BASE', 'EVENTQ_BASE', 'PRIQ_BASE', 'GERROR_IRQ_CFG0', 'EVENTQ_IRQ_CFG0', 'PRIQ_IRQ_CFG0']);

/** Reads every named register of the SMMU window at `base` (the machine must be stopped). */
export async function readSmmuRegisters(gdb: GdbRemote, base: number): Promise<RegisterDump> {
  const regs: RegisterDump = new Map();
  for (const [name, off] of Object.entries(REG) as [RegName, number][]) {
    const lo = await gdb.readMemory(base + off, 4);
    const hi = REG64.has(name) ? await gdb.readMemory(base + off + 4, 4) : new Uint8Array(4);
    if (lo === null || hi === null) throw new GdbError(`${gdb.where}: nothing readable at ${hex(base + off)} (SMMU_${name}); is --smmu-base right?`);
    const dv = (b: Uint8Array): bigint => BigInt(new DataView(b.buffer).getUint32(0, true));
    regs.set(name, (dv(hi) << 32n) | dv(lo));
  }
  const aidr = regs.get('AIDR') ?? 0n;
  if (((aidr >> 4n) & 0xfn) !== 0n) throw new GdbError(`${gdb.where}: SMMU_AIDR at ${hex(base + REG.AIDR)} reads ${hex(aidr)}, not an SMMUv3; is --smmu-base right?`);
  return regs;
}

/** REGS.json text for `vsmmu inspect --regs`: register names to hex strings. */
export function regsJsonText(regs: RegisterDump): string {
  const o: Record<string, string> = {};
  for (const [k, v] of regs) o[k] = hex(v);
  return JSON.stringify(o, null, 2) + '\n';
}

const discard: () => ReportSink = () => new JsonSink(() => {});

/**
 * Answers `req` over the stopped machine's memory: runs it until a run needs no page it does not
 * have, then once more into `sink`. Returns the memory (its pages are what the answer read).
 */
export async function inspectRemote(gdb: GdbRemote, regs: RegisterDump, req: InspectRequest, sink: ReportSink): Promise<{ mem: RemoteMemory; rounds: number }> {
  const mem = new RemoteMemory();
  const desc = `the guest-physical memory the GDB stub at ${gdb.where} can read`;
  for (let round = 1; ; round++) {
    writeReport(new SmmuSnapshot(mem, regs, desc), req, discard());
    if (mem.missing.size === 0) {
      writeReport(new SmmuSnapshot(mem, regs, desc), req, sink);
      return { mem, rounds: round };
    }
    if (round >= MAX_ROUNDS) throw new GdbError(`${gdb.where}: the answer still needed new guest pages after ${MAX_ROUNDS} rounds`);
    await mem.fetchMissing(gdb, MAX_PAGES);
  }
}

/** Everything offline `inspect` needs: every stream, mapping and queue entry (within the default limit). */
export const DUMP_VIEWS: InspectRequest = { streams: true, mappings: true, queues: true };

/**
 * Writes REGS.json and the guest pages `mem` holds (one file per contiguous run, ram-0xADDR.bin)
 * to `dir`, plus `full` (a whole RAM range read chunk by chunk) when given. Returns the
 * `--ram FILE@BASE` arguments for `vsmmu inspect`.
 */
export async function writeDump(gdb: GdbRemote, dir: string, regs: RegisterDump, mem: RemoteMemory, full: { base: number; size: number } | null): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'REGS.json'), regsJsonText(regs));
  const ram: string[] = [];
  if (full !== null) {
    const path = join(dir, `ram-${hex(full.base)}.bin`);
    const fd = openSync(path, 'w');
    try {
      const CHUNK = 64 * 1024;
      for (let off = 0; off < full.size; off += CHUNK) {
        const n = Math.min(CHUNK, full.size - off);
        const b = await gdb.readMemory(full.base + off, n);
        if (b === null) throw new GdbError(`${gdb.where}: guest memory at ${hex(full.base + off)} is not readable`);
        writeSync(fd, b);
      }
    } finally {
      closeSync(fd);
    }
    ram.push(`${path}@${hex(full.base)}`);
  } else {
    for (const [addr, bytes] of mem.runs()) {
      const path = join(dir, `ram-${hex(addr)}.bin`);
      writeFileSync(path, bytes);
      ram.push(`${path}@${hex(addr)}`);
    }
  }
  writeFileSync(join(dir, 'inspect-args.txt'), ['--regs', join(dir, 'REGS.json'), ...ram.flatMap((r) => ['--ram', r])].join(' ') + '\n');
  return ram;
}
