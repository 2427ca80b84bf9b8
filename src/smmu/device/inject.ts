// Fault injection into an SMMUv3 for driver developers: each injection makes the device do
// something the architecture lets an SMMU do (or that its environment can cause), at a chosen
// moment, so that a driver's error paths run against a real model. What each one does:
//
// - cmdsync-stall: from the trigger on, no CMD_SYNC completes: the command stays at CMDQ_CONS and
//   nothing behind it is consumed (§4.7.3 bounds no completion time, so a driver can only time out).
// - cmd-error: the next command other than CMD_SYNC fails with CERROR_ILL (§4.1.3/§7.1):
//   CMDQ_CONS.RD stays on it, CMDQ_CONS.ERR = ILL, GERROR.CMDQ_ERR becomes active until GERRORN
//   acknowledges it. (A failed CMD_SYNC is skipped by drivers that replace the command, so a driver
//   waiting for that CMD_SYNC's MSI never gets it: that is what cmdsync-stall exercises.)
// - gerror: GERROR.EVENTQ_ABT_ERR is activated once the event queue and the GERROR interrupt are
//   enabled (§7.2.2: an SMMU may read anywhere in an enabled event queue, and an external abort on
//   such an access raises it). Chosen because it needs no other state and a driver must handle it
//   (report, acknowledge); the queue is not writable until the acknowledgement (§7.2.1).
// - evtq-overflow: on a device's next DMA with the event queue writable (§7.2.1), that device
//   first issues 2^LOG2SIZE + 1 reads at IOVAs
//   its driver never mapped: each faults, the queue fills, the last record is dropped and
//   EVENTQ_PROD.OVFLG toggles (§7.4) — a genuine overflow, by genuine F_TRANSLATION records.
// - dma-fault: on a device's next DMA, the device first reads an IOVA its driver never mapped
//   (FAULT_IOVA): the SMMU translates it and writes the resulting event record (F_TRANSLATION for
//   a translating stream) — the driver prints what the model wrote. The device's own access follows.
// - msi-unmapped: the next MSI the SMMU itself writes (an event/GERROR interrupt or a CMD_SYNC
//   completion write) targets no memory or device and is aborted, so the SMMU activates the matching
//   GERROR.MSI_*_ABT_ERR (§7.5).
//
// When (`NAME@WHEN`): `boot` (armed from the start; the default), `after=N-commands` (once N
// commands have been consumed), `after=Ns` (N seconds, decimals allowed, after the injector starts).
import type { DmaFault, DmaPort, MsiOutcome, MsiSink } from '../../memory/types.js';
import { get32, rd } from '../../spec/bits.js';
import { CMD, commandName, OP } from '../../spec/smmuv3/commands.js';
import { CERROR, CR0, GERROR, IRQ_CTRL, queueLog2 } from '../../spec/smmuv3/registers.js';
import { UserInputError } from '../../util/errors.js';
import { hex } from '../../util/hex.js';
import type { CommandGate } from './command-queue.js';
import type { SmmuV3 } from './smmu-v3.js';
import { eventRecordReport, type EventRecordReport } from './stats.js';

export const INJECTION_NAMES = ['cmdsync-stall', 'cmd-error', 'gerror', 'evtq-overflow', 'dma-fault', 'msi-unmapped'] as const;
export type InjectionName = (typeof INJECTION_NAMES)[number];

/** One line per injection, for `--help` and docs. */
export const INJECTION_SUMMARIES: Readonly<Record<InjectionName, string>> = Object.freeze({
  'cmdsync-stall': 'CMD_SYNC never completes: CMDQ_CONS never passes it',
  'cmd-error': 'the next command other than CMD_SYNC fails with CERROR_ILL (GERROR.CMDQ_ERR)',
  gerror: 'GERROR.EVENTQ_ABT_ERR once the event queue and the GERROR interrupt are enabled',
  'evtq-overflow': "a device's next DMA is preceded by enough faulting reads to overflow the event queue (OVFLG)",
  'dma-fault': "a device's next DMA is preceded by a read of an IOVA its driver never mapped (F_TRANSLATION)",
  'msi-unmapped': "the SMMU's next own MSI write aborts (GERROR.MSI_*_ABT_ERR)",
});

/** The IOVA the faulting device reads: low in the IOVA space, below what DMA allocators hand out. */
export const FAULT_IOVA = 0xdead_0000;

export type InjectWhen =
  | { readonly kind: 'boot' }
  | { readonly kind: 'after-commands'; readonly count: number }
  | { readonly kind: 'after-seconds'; readonly seconds: number };

export interface InjectionSpec {
  readonly name: InjectionName;
  readonly when: InjectWhen;
}

export function formatWhen(w: InjectWhen): string {
  if (w.kind === 'boot') return 'boot';
  return w.kind === 'after-commands' ? `after=${w.count}-commands` : `after=${w.seconds}s`;
}

/** Parses `NAME[@WHEN]`; a bad one is a UserInputError naming `where` (e.g. the flag). */
export function parseInjection(text: string, where = '--inject'): InjectionSpec {
  const at = text.indexOf('@');
  const name = (at < 0 ? text : text.slice(0, at)).trim();
  const whenText = at < 0 ? 'boot' : text.slice(at + 1).trim();
  if (!(INJECTION_NAMES as readonly string[]).includes(name)) {
    throw new UserInputError(`unknown injection '${name}' (known: ${INJECTION_NAMES.join(', ')})`, where);
  }
  let when: InjectWhen;
  let m: RegExpExecArray | null;
  if (whenText === 'boot') when = { kind: 'boot' };
  else if ((m = /^after=([0-9]{1,9})-commands$/.exec(whenText)) !== null) when = { kind: 'after-commands', count: Number(m[1]) };
  else if ((m = /^after=([0-9]{1,6}(?:\.[0-9]{1,3})?)s$/.exec(whenText)) !== null) when = { kind: 'after-seconds', seconds: Number(m[1]) };
  else throw new UserInputError(`'${whenText}' is not a time to inject at (boot, after=N-commands, after=Ns)`, `${where} ${text}`);
  return { name: name as InjectionName, when };
}

/** Parses several injections; the same injection named twice is an error. */
export function parseInjections(texts: readonly string[], where = '--inject'): InjectionSpec[] {
  const out = texts.map((t) => parseInjection(t, where));
  const seen = new Set<string>();
  for (const s of out) {
    if (seen.has(s.name)) throw new UserInputError(`injection '${s.name}' named more than once`, where);
    seen.add(s.name);
  }
  return out;
}

/** What one injection did (for reports). */
export interface InjectionReport {
  readonly name: InjectionName;
  readonly when: string;
  readonly fired: boolean;
  /** Commands consumed and seconds since the injector started, when it fired. */
  readonly at?: { readonly commands: number; readonly seconds: number };
  /** What happened, in one sentence (or why it has not fired). */
  readonly effect: string;
  /** Event records the injection caused (the first and the last, for an overflow). */
  readonly records?: readonly EventRecordReport[];
  /** How many event records it caused. */
  readonly recordsWritten: number;
}

interface Slot {
  readonly spec: InjectionSpec;
  armed: boolean;
  fired: boolean;
  at?: { commands: number; seconds: number };
  effect: string;
  records?: EventRecordReport[];
  recordsWritten: number;
}

export interface InjectorOptions {
  /** Milliseconds clock (default: performance.now). */
  readonly now?: () => number;
}

const WAITING: Readonly<Record<InjectionName, string>> = Object.freeze({
  'cmdsync-stall': 'no CMD_SYNC was consumed after the trigger',
  'cmd-error': 'no command other than CMD_SYNC was consumed after the trigger',
  gerror: 'the event queue and the GERROR interrupt were never both enabled after the trigger',
  'evtq-overflow': 'no device DMA with the event queue writable after the trigger',
  'dma-fault': 'no device DMA after the trigger',
  'msi-unmapped': 'the SMMU wrote no MSI after the trigger',
});

/**
 * Applies injections to one SmmuV3. Create it after the SMMU's MSI sink is wired; give the devices
 * `port(sid)` instead of `smmu.dma(sid)`; call `tick()` from the host's service loop (time-based
 * triggers and conditions that wait for driver state).
 */
export class SmmuInjector implements CommandGate {
  private readonly slots: Slot[];
  private readonly now: () => number;
  private readonly start: number;
  private commands = 0;
  private readonly sink: MsiSink;
  private inner: MsiSink;
  private readonly scratch = new Uint8Array(4);

  constructor(
    private readonly smmu: SmmuV3,
    specs: readonly InjectionSpec[],
    opts: InjectorOptions = {},
  ) {
    this.now = opts.now ?? (() => performance.now());
    this.start = this.now();
    this.slots = specs.map((spec) => ({ spec, armed: false, fired: false, effect: WAITING[spec.name], recordsWritten: 0 }));
    smmu.cmdq.gate = this;
    this.inner = smmu.irq.msiSink;
    this.sink = { msiWrite: (a, d, id) => this.msiWrite(a, d, id) };
    smmu.irq.msiSink = this.sink;
    this.arm();
  }

  private seconds(): number {
    return (this.now() - this.start) / 1000;
  }

  /** Arms the injections whose trigger has come. */
  private arm(): void {
    for (const s of this.slots) {
      if (s.armed) continue;
      const w = s.spec.when;
      s.armed = w.kind === 'boot' || (w.kind === 'after-commands' ? this.commands >= w.count : this.seconds() >= w.seconds);
    }
  }

  private slot(name: InjectionName): Slot | null {
    for (const s of this.slots) if (s.spec.name === name && s.armed && !s.fired) return s;
    return null;
  }

  private fire(s: Slot, effect: string): void {
    s.fired = true;
    s.at = { commands: this.commands, seconds: Math.round(this.seconds() * 1000) / 1000 };
    s.effect = effect;
  }

  private eventqEnabled(): boolean {
    return get32(this.smmu.regs.get('CR0'), CR0.EVENTQEN) === 1;
  }

  /** §7.2.1 writable, but for fullness: enabled and no unacknowledged EVENTQ_ABT_ERR. */
  private eventqWritable(): boolean {
    return this.eventqEnabled() && (this.smmu.irq.active() & (1 << GERROR.EVENTQ_ABT_ERR.lsb)) === 0;
  }

  private gerrorIrqEnabled(): boolean {
    return get32(this.smmu.regs.get('IRQ_CTRL'), IRQ_CTRL.GERROR_IRQEN) === 1;
  }

  /** Host service step: time triggers, a re-wired MSI sink, and the GERROR injection. */
  tick(): void {
    if (this.smmu.irq.msiSink !== this.sink) {
      this.inner = this.smmu.irq.msiSink;
      this.smmu.irq.msiSink = this.sink;
    }
    this.arm();
    const g = this.slot('gerror');
    if (g !== null && this.eventqEnabled() && this.gerrorIrqEnabled()) {
      this.smmu.irq.activate(1 << GERROR.EVENTQ_ABT_ERR.lsb);
      this.fire(g, 'GERROR.EVENTQ_ABT_ERR activated (an aborted access to the enabled event queue)');
    }
  }

  // ------------------------------------------------------------ command queue (CommandGate)

  /** @internal Called by the command queue before each command it consumes. */
  before(words: Uint32Array): number {
    const opcode = rd(words, CMD.OPCODE);
    const cons = this.smmu.regs.get('CMDQ_CONS');
    for (const s of this.slots) {
      if (s.spec.name === 'cmdsync-stall' && s.fired && opcode === OP.SYNC) return -1;
    }
    this.arm();
    const stall = this.slot('cmdsync-stall');
    if (stall !== null && opcode === OP.SYNC) {
      this.fire(stall, `CMD_SYNC at CMDQ_CONS ${hex(cons)} held: CONS never passes it`);
      return -1;
    }
    this.commands++;
    const err = opcode === OP.SYNC ? null : this.slot('cmd-error');
    if (err !== null) {
      this.fire(err, `${commandName(opcode) ?? `opcode ${hex(opcode, 2)}`} at CMDQ_CONS ${hex(cons)} failed with CERROR_ILL`);
      return CERROR.ILL;
    }
    return 0;
  }

  // ------------------------------------------------------------ the SMMU's own MSIs

  private msiWrite(address: number, data: number, deviceId: number | null): MsiOutcome {
    this.arm();
    const s = this.slot('msi-unmapped');
    if (s === null) return this.inner.msiWrite(address, data, deviceId);
    const before = this.smmu.regs.get('GERROR');
    // The GERROR bit is activated by the caller once this returns: name it on the next report.
    this.fire(s, `MSI write of ${hex(data)} to ${hex(address)} aborted`);
    this.pendingMsi = { slot: s, gerrorBefore: before };
    return 'aborted';
  }

  private pendingMsi: { slot: Slot; gerrorBefore: number } | null = null;

  // ------------------------------------------------------------ device DMA

  /** The DMA port a device behind the SMMU should use: `inner` (default `smmu.dma(sid)`), plus injections. */
  port(sid: number, inner: DmaPort = this.smmu.dma(sid)): DmaPort {
    const self = this;
    return {
      read(iova: number, dst: Uint8Array): DmaFault | null {
        self.beforeDma(sid, inner);
        return inner.read(iova, dst);
      },
      write(iova: number, src: Uint8Array): DmaFault | null {
        self.beforeDma(sid, inner);
        return inner.write(iova, src);
      },
    };
  }

  private beforeDma(sid: number, port: DmaPort): void {
    if (this.slots.length === 0) return;
    this.arm();
    const f = this.slot('dma-fault');
    if (f !== null) {
      const { fault, records } = this.stray(port, 1);
      const rec = records[0];
      // 'external-abort': translated, but no memory answered at the output address.
      const what = fault === null || fault.reason === 'external-abort'
        ? `stream ${hex(sid)} read IOVA ${hex(FAULT_IOVA)} without a translation fault (the stream's configuration lets it through)`
        : rec !== undefined
          ? `stream ${hex(sid)} read unmapped IOVA ${hex(FAULT_IOVA)}: ${fault.reason}, event ${rec.code} written`
          : `stream ${hex(sid)} read unmapped IOVA ${hex(FAULT_IOVA)}: ${fault.reason}, no event record written`;
      this.fire(f, what);
      f.recordsWritten = records.length;
      if (records.length > 0) f.records = records;
    }
    const o = this.slot('evtq-overflow');
    if (o !== null && this.eventqWritable()) {
      const log2 = queueLog2(this.smmu.regs.get('EVENTQ_BASE'), this.smmu.features.eventqLog2);
      const n = 2 ** log2 + 1;
      const ovf0 = this.smmu.eventq.stats.overflowed;
      const { records } = this.stray(port, n);
      const dropped = this.smmu.eventq.stats.overflowed - ovf0;
      this.fire(o, `stream ${hex(sid)} issued ${n} faulting reads into a ${2 ** log2}-entry event queue: ${records.length} records written, ${dropped} dropped, EVENTQ_PROD ${hex(this.smmu.regs.get('EVENTQ_PROD'))}`);
      o.recordsWritten = records.length;
      const first = records[0];
      const last = records.at(-1);
      if (first !== undefined && last !== undefined) o.records = records.length > 1 ? [first, last] : [first];
    }
  }

  /** `count` reads of unmapped IOVAs by the device's port; returns the last fault and the records written. */
  private stray(port: DmaPort, count: number): { fault: DmaFault | null; records: EventRecordReport[] } {
    const q = this.smmu.eventq;
    const prev = q.onRecord;
    const records: EventRecordReport[] = [];
    q.onRecord = (ev, words) => {
      records.push(eventRecordReport(ev, words));
      if (prev !== null) prev(ev, words);
    };
    let fault: DmaFault | null = null;
    try {
      for (let i = 0; i < count; i++) fault = port.read(FAULT_IOVA + i * 0x1000, this.scratch) ?? fault;
    } finally {
      q.onRecord = prev;
    }
    return { fault, records };
  }

  // ------------------------------------------------------------ report

  report(): InjectionReport[] {
    const p = this.pendingMsi;
    if (p !== null) {
      const toggled = (this.smmu.regs.get('GERROR') ^ p.gerrorBefore) >>> 0;
      const names = Object.entries(GERROR).filter(([, f]) => ((toggled >>> f.lsb) & 1) === 1).map(([n]) => n);
      p.slot.effect = `${p.slot.effect}; GERROR ${names.length > 0 ? names.join(', ') : 'unchanged (error already active)'}`;
      this.pendingMsi = null;
    }
    return this.slots.map((s) => ({
      name: s.spec.name,
      when: formatWhen(s.spec.when),
      fired: s.fired,
      ...(s.at !== undefined ? { at: { ...s.at } } : {}),
      effect: s.fired ? s.effect : `not fired: ${s.armed ? WAITING[s.spec.name] : 'its trigger never came'}`,
      ...(s.records !== undefined ? { records: s.records } : {}),
      recordsWritten: s.recordsWritten,
    }));
  }
}
