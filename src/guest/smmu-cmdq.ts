// The reference guest's SMMUv3 command-queue producer, as Linux 6.1 drives it
// (Linux 6.1): commands written into consecutive 16-byte slots, one 32-bit write
// of CMDQ_PROD (index | wrap bit), CMD_SYNC completion either MSI-polled (CS=IRQ, MSIADDR = the
// sync's own slot, MSIDATA 0; used iff IDR0.MSI and the SMMU is coherent) or by polling
// CMDQ_CONS past the sync (CS=SEV), and the CMDQ_ERR recovery of the GERROR handler (ILL: the
// faulting slot is overwritten with a CMD_SYNC; ABT: retried; then GERRORN = GERROR).
// Encodings: src/spec/smmuv3/commands.ts (IHI 0070 chapter 4), registers §6.3.
import type { PhysMemory } from '../memory/types.js';
import { get32, getBig } from '../spec/bits.js';
import { CMD, encodeCommand, decodeCommand, SYNC_CS, type CmdFieldName, type CommandName } from '../spec/smmuv3/commands.js';
import { CERROR, CMDQ_ENTRY_BYTES, GERROR, QUEUE_CONS, REG } from '../spec/smmuv3/registers.js';
import type { CpuBus } from './cpu-bus.js';
import { readWord, writeWords } from './cpu-bus.js';

/** MSH = inner shareable, MSIATTR = Inner+Outer write-back (Linux ARM_SMMU_MEMATTR_OIWB). */
const SYNC_MSH_ISH = 3;
const SYNC_MSIATTR_OIWB = 0xf;
/** How many times a poll re-reads before giving up (stands in for Linux's 1 s timeout). */
export const POLL_LIMIT = 1000;

export type Command = readonly [bigint, bigint];

/** The command history keeps at most this many recent commands. */
const HISTORY_MAX = 8192;

export function cmd(name: CommandName, fields: Partial<Record<CmdFieldName, bigint | number | boolean>> = {}): Command {
  return encodeCommand(name, fields);
}

/** What the driver logged (Linux-style messages) and counted. */
export interface CmdqStats {
  commands: number;
  syncs: number;
  errors: number;
  timeouts: number;
}

export class GuestCommandQueue {
  readonly base: number;
  readonly log2: number;
  private prod = 0;
  readonly stats: CmdqStats = { commands: 0, syncs: 0, errors: 0, timeouts: 0 };
  /** Recent commands issued, in order (for reports and tests; bounded). */
  readonly history: Command[] = [];

  constructor(
    private readonly bus: CpuBus,
    private readonly mem: PhysMemory,
    private readonly smmuBase: number,
    base: number,
    log2: number,
    /** MSI-based CMD_SYNC polling (ARM_SMMU_OPT_MSIPOLL). */
    readonly msiPolling: boolean,
    private readonly log: (msg: string) => void,
  ) {
    this.base = base;
    this.log2 = log2;
  }

  private get wrapBit(): number {
    return 1 << this.log2;
  }

  private idx(v: number): number {
    return v & (this.wrapBit - 1);
  }

  private inc(v: number): number {
    return (v + 1) & ((this.wrapBit << 1) - 1);
  }

  private readCons(): number {
    return this.bus.read(this.smmuBase + REG.CMDQ_CONS, 4);
  }

  private full(cons: number): boolean {
    const c = cons & ((this.wrapBit << 1) - 1);
    return this.idx(this.prod) === this.idx(c) && (this.prod & this.wrapBit) !== (c & this.wrapBit);
  }

  /** Queue has consumed up to and including the slot `slot` (a prod value before increment). */
  private consumed(slot: number): boolean {
    const cons = this.readCons() & ((this.wrapBit << 1) - 1);
    const next = this.inc(slot);
    // Distance from `next` to cons, modulo twice the queue size, must be < queue size.
    const span = this.wrapBit << 1;
    return (cons - next + span) % span < this.wrapBit;
  }

  /** Resets the producer index (after the driver zeroed CMDQ_PROD/CONS). */
  resetIndex(): void {
    this.prod = 0;
  }

  /** Writes commands (plus a CMD_SYNC when `sync`) and publishes them with one CMDQ_PROD write. */
  issue(cmds: readonly Command[], sync = true): boolean {
    let syncSlot = -1;
    for (const c of cmds) if (!this.put(c)) return false;
    if (sync) {
      syncSlot = this.prod;
      const slotPa = this.base + this.idx(syncSlot) * CMDQ_ENTRY_BYTES;
      const s = this.msiPolling
        ? cmd('SYNC', { CS: SYNC_CS.IRQ, MSH: SYNC_MSH_ISH, MSIATTR: SYNC_MSIATTR_OIWB, MSIDATA: 0, MSIADDR: BigInt(slotPa) >> 2n })
        : cmd('SYNC', { CS: SYNC_CS.SEV, MSH: SYNC_MSH_ISH, MSIATTR: SYNC_MSIATTR_OIWB });
      if (!this.put(s)) return false;
      this.stats.syncs++;
    }
    this.bus.write(this.smmuBase + REG.CMDQ_PROD, 4, this.prod);
    return syncSlot < 0 ? true : this.waitSync(syncSlot);
  }

  private put(c: Command): boolean {
    for (let i = 0; this.full(this.readCons()); i++) {
      if (i === 0) this.bus.write(this.smmuBase + REG.CMDQ_PROD, 4, this.prod);
      this.serviceErrors();
      if (i >= POLL_LIMIT) {
        this.stats.timeouts++;
        this.log('CMDQ timeout');
        return false;
      }
    }
    writeWords(this.mem, this.base + this.idx(this.prod) * CMDQ_ENTRY_BYTES, c);
    this.prod = this.inc(this.prod);
    this.stats.commands++;
    this.history.push(c);
    if (this.history.length > HISTORY_MAX) this.history.splice(0, this.history.length - HISTORY_MAX / 2);
    return true;
  }

  private waitSync(slot: number): boolean {
    const slotPa = this.base + this.idx(slot) * CMDQ_ENTRY_BYTES;
    for (let i = 0; i < POLL_LIMIT; i++) {
      const done = this.msiPolling ? this.mem.read32(slotPa) === 0 : this.consumed(slot);
      if (done) return true;
      // The GERROR interrupt may fire while we wait (CMDQ_ERR): handle it as Linux's IRQ thread would.
      this.serviceErrors();
    }
    this.stats.timeouts++;
    const cons = this.readCons();
    this.log(`CMD_SYNC timeout at 0x${slot.toString(16).padStart(8, '0')} [hwprod 0x${this.prod.toString(16).padStart(8, '0')}, hwcons 0x${cons.toString(16).padStart(8, '0')}]`);
    return false;
  }

  /** The GERROR handler's CMDQ_ERR part (arm_smmu_gerror_handler + arm_smmu_cmdq_skip_err). */
  serviceErrors(): number {
    const g = this.bus.read(this.smmuBase + REG.GERROR, 4);
    const gn = this.bus.read(this.smmuBase + REG.GERRORN, 4);
    const active = (g ^ gn) & 0x1fd;
    if (active === 0) return 0;
    this.log(`unexpected global error reported (0x${active.toString(16).padStart(8, '0')}), this could be serious`);
    if (active & (1 << GERROR.CMDQ_ERR.lsb)) {
      this.stats.errors++;
      const cons = this.readCons();
      const err = get32(cons >>> 0, QUEUE_CONS.ERR);
      const names = ['', 'Illegal command', 'Abort on command fetch', 'ATC invalidate timeout'];
      this.log(`CMDQ error (cons 0x${(cons >>> 0).toString(16).padStart(8, '0')}): ${names[err] ?? 'Unknown'}`);
      if (err === CERROR.ILL) {
        const slotPa = this.base + this.idx(cons) * CMDQ_ENTRY_BYTES;
        const q0 = readWord(this.mem, slotPa) ?? 0n;
        const q1 = readWord(this.mem, slotPa + 8) ?? 0n;
        this.log(`skipping command in error state: 0x${q0.toString(16).padStart(16, '0')} 0x${q1.toString(16).padStart(16, '0')}`);
        // Convert the erroneous command into a CMD_SYNC (SEV form, no MSI address).
        writeWords(this.mem, slotPa, cmd('SYNC', { CS: SYNC_CS.SEV, MSH: SYNC_MSH_ISH, MSIATTR: SYNC_MSIATTR_OIWB }));
      }
    }
    if (active & (1 << GERROR.SFM_ERR.lsb)) this.log('device has entered Service Failure Mode!');
    // Acknowledge by toggling GERRORN to match GERROR; the SMMU resumes fetching at CONS.
    this.bus.write(this.smmuBase + REG.GERRORN, 4, g);
    return active;
  }

  /** Names of the commands issued so far (reports). */
  historyNames(): string[] {
    return this.history.map((c) => decodeCommand(c).name ?? `0x${getBig([c[0]], CMD.OPCODE).toString(16)}`);
  }
}
