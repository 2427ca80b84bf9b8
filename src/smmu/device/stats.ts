// What an SMMUv3 did, for reports: commands consumed by opcode name, CMD_SYNCs, command errors,
// event records written (counted by type; the first ones kept whole, as the 4 doublewords a
// driver reads from the queue), global errors and interrupts, and the config-cache and IOTLB hit
// rates. Reading the counters costs nothing on the device's paths; the event log is fed by the
// event queue's record hook (a fault path) and keeps a bounded number of records.
import { commandName } from '../../spec/smmuv3/commands.js';
import { eventName, type SmmuEvent } from '../../spec/smmuv3/events.js';
import { GERROR } from '../../spec/smmuv3/registers.js';
import { hex } from '../../util/hex.js';
import type { SmmuV3 } from './smmu-v3.js';

/** One event record as written into the event queue. */
export interface EventRecordReport {
  readonly type: string;
  readonly code: string;
  readonly streamId: number;
  /** InputAddr of translation faults (the IOVA), else absent. */
  readonly inputAddr?: string;
  /** The record's four doublewords, as a driver reads them. */
  readonly words: readonly string[];
}

export interface CacheReport {
  readonly hits: number;
  readonly misses: number;
  /** hits / (hits + misses), or null before any lookup. */
  readonly hitRate: number | null;
}

export interface SmmuStatsReport {
  /** Commands consumed without error, by opcode name (unnamed opcodes as `OP_0x..`). */
  readonly commands: Readonly<Record<string, number>>;
  readonly commandsTotal: number;
  readonly commandErrors: number;
  /** CMD_SYNCs consumed; those completed with CS=IRQ (an MSI write and/or the cmdq-sync interrupt). */
  readonly cmdSync: { readonly count: number; readonly irqCompletions: number };
  readonly events: {
    readonly written: number;
    readonly overflowed: number;
    readonly discarded: number;
    readonly aborted: number;
    readonly byType: Readonly<Record<string, number>>;
    /** The first records written (at most EventLog.keep). */
    readonly records: readonly EventRecordReport[];
  };
  /** Global errors active now (GERROR ^ GERRORN), by name. */
  readonly gerrorActive: readonly string[];
  readonly interrupts: Readonly<Record<string, number>>;
  readonly configCache: CacheReport;
  readonly iotlb: CacheReport;
  readonly walks: number;
}

function u64(lo: number, hi: number): string {
  return `0x${(hi >>> 0).toString(16).padStart(8, '0')}${(lo >>> 0).toString(16).padStart(8, '0')}`;
}

const FAULTS_WITH_ADDRESS = new Set([0x01, 0x05, 0x07, 0x0b, 0x10, 0x11, 0x12, 0x13]);

/** Keeps the event records an SMMU writes: counts by type, and the first `keep` records whole. */
export class EventLog {
  readonly byType = new Map<number, number>();
  readonly records: EventRecordReport[] = [];

  constructor(readonly keep = 64) {}

  /** Starts logging the records `smmu` writes (replaces any earlier hook). */
  attach(smmu: SmmuV3): this {
    smmu.eventq.onRecord = (ev, words) => this.add(ev, words);
    return this;
  }

  add(ev: SmmuEvent, words: Uint32Array): void {
    this.byType.set(ev.type, (this.byType.get(ev.type) ?? 0) + 1);
    if (this.records.length < this.keep) this.records.push(eventRecordReport(ev, words));
  }
}

/** A record as reported: decoded type, stream, IOVA, and its doublewords (8 little-endian 32-bit words in). */
export function eventRecordReport(ev: SmmuEvent, words: Uint32Array): EventRecordReport {
  return {
    type: eventName(ev.type),
    code: hex(ev.type, 2),
    streamId: ev.sid,
    ...(FAULTS_WITH_ADDRESS.has(ev.type) ? { inputAddr: hex(ev.inputHi * 0x1_0000_0000 + ev.inputLo) } : {}),
    words: [0, 1, 2, 3].map((i) => u64(words[2 * i]!, words[2 * i + 1]!)),
  };
}

function cache(hits: number, misses: number): CacheReport {
  return { hits, misses, hitRate: hits + misses === 0 ? null : hits / (hits + misses) };
}

const GERROR_NAMES = Object.entries(GERROR) as [string, { lsb: number }][];

/** A snapshot of the SMMU's counters (with the records of `log`, when one is attached). */
export function smmuStats(smmu: SmmuV3, log: EventLog | null = null): SmmuStatsReport {
  const commands: Record<string, number> = {};
  let total = 0;
  const byOp = smmu.cmdq.byOpcode;
  for (let op = 0; op < byOp.length; op++) {
    const n = byOp[op]!;
    if (n === 0) continue;
    commands[commandName(op) ?? `OP_${hex(op, 2)}`] = n;
    total += n;
  }
  const ev = smmu.eventq.stats;
  const byType: Record<string, number> = {};
  if (log !== null) for (const [t, n] of [...log.byType].sort((a, b) => a[0] - b[0])) byType[eventName(t)] = n;
  const active = smmu.irq.active();
  const t = smmu.translator.stats();
  return {
    commands,
    commandsTotal: total,
    commandErrors: smmu.cmdq.stats.errors,
    cmdSync: { count: smmu.cmdq.stats.syncs, irqCompletions: smmu.irq.counts.cmdqSync },
    events: {
      written: ev.written,
      overflowed: ev.overflowed,
      discarded: ev.discarded,
      aborted: ev.aborted,
      byType,
      records: log === null ? [] : [...log.records],
    },
    gerrorActive: GERROR_NAMES.filter(([, f]) => ((active >>> f.lsb) & 1) === 1).map(([n]) => n),
    interrupts: { ...smmu.irq.counts },
    configCache: cache(t.configHits, t.configMisses),
    iotlb: cache(t.tlbHits, t.tlbMisses),
    walks: t.walks,
  };
}
