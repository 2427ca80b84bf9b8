// Interrupt outputs of the intc models, connected by the VMM to its vCPUs / CPU interfaces:
// LpiSink receives "LPI n pending (and enabled) for PE k" from the redistributors, SpiSink receives
// SPIs set pending by a GICv2m frame. IHI 0069 §5.1 (LPIs are edge-like: pending until the
// CPU interface acknowledges them; no active state).

/**
 * Where forwardable LPIs go. Calls are state updates, not edges: `lpiPending` may repeat for an
 * LPI that is already pending (after INV/INVALL, EnableLPIs, MOVI...), so a sink treats it
 * idempotently. The CPU interface acknowledges with `GicRedistributor.acknowledge(intid)`.
 */
export interface LpiSink {
  /** LPI `intid` is pending and enabled on PE `pe` with `priority` (config byte [7:2] << 2). */
  lpiPending(pe: number, intid: number, priority: number): void;
  /** LPI `intid` is no longer forwardable to PE `pe` (cleared, discarded, moved, disabled). */
  lpiCleared(pe: number, intid: number): void;
}

export const NO_LPI_SINK: LpiSink = Object.freeze({
  lpiPending(): void {},
  lpiCleared(): void {},
});

/** Where a GICv2m frame sends the SPIs it sets pending (edge-triggered, IHI 0069 SPI INTIDs). */
export interface SpiSink {
  spiPending(intid: number): void;
}

export const NO_SPI_SINK: SpiSink = Object.freeze({ spiPending(): void {} });

/** One logged sink call. */
export interface LpiLogEntry {
  readonly kind: 'pending' | 'cleared';
  readonly pe: number;
  readonly intid: number;
}

/** Default number of calls an {@link LpiRecorder} keeps in its log. */
export const LPI_LOG_DEFAULT = 1024;

/**
 * A simple sink that remembers what is forwardable per PE, for tests, tools and VMMs that poll.
 * Host-side helper: its state is bounded by the configured LPI INTID space, and its call log is a
 * ring of the last `logLimit` calls (default {@link LPI_LOG_DEFAULT}; 0 = no log) with running
 * counts of every call, so a guest that makes millions of LPIs pending cannot grow it.
 */
export class LpiRecorder implements LpiSink {
  private readonly pending = new Map<number, Map<number, number>>();
  /** Calls since construction (or `clearLog()`): forwarded, withdrawn, and log entries overwritten. */
  readonly counts = { pending: 0, cleared: 0, overwritten: 0 };
  /** Set to false to stop logging (counts continue). */
  logEnabled = true;
  readonly logLimit: number;
  private readonly ringKind: Uint8Array;
  private readonly ringPe: Uint32Array;
  private readonly ringIntid: Uint32Array;
  private ringNext = 0;
  private ringSize = 0;

  constructor(opts: { logLimit?: number } = {}) {
    const n = opts.logLimit ?? LPI_LOG_DEFAULT;
    if (!Number.isInteger(n) || n < 0 || n > 1 << 24) throw new RangeError('LpiRecorder logLimit must be an integer in 0..2^24');
    this.logLimit = n;
    this.ringKind = new Uint8Array(n);
    this.ringPe = new Uint32Array(n);
    this.ringIntid = new Uint32Array(n);
  }

  private record(kind: number, pe: number, intid: number): void {
    if (!this.logEnabled || this.logLimit === 0) return;
    const i = this.ringNext;
    this.ringKind[i] = kind;
    this.ringPe[i] = pe;
    this.ringIntid[i] = intid;
    this.ringNext = i + 1 === this.logLimit ? 0 : i + 1;
    if (this.ringSize < this.logLimit) this.ringSize++;
    else this.counts.overwritten++;
  }

  lpiPending(pe: number, intid: number, priority: number): void {
    let m = this.pending.get(pe);
    if (!m) this.pending.set(pe, (m = new Map()));
    m.set(intid, priority);
    this.counts.pending++;
    this.record(0, pe, intid);
  }

  lpiCleared(pe: number, intid: number): void {
    this.pending.get(pe)?.delete(intid);
    this.counts.cleared++;
    this.record(1, pe, intid);
  }

  /** The last logged calls (at most `logLimit`), oldest first. */
  get log(): LpiLogEntry[] {
    const out: LpiLogEntry[] = [];
    const start = (this.ringNext - this.ringSize + this.logLimit) % Math.max(1, this.logLimit);
    for (let k = 0; k < this.ringSize; k++) {
      const i = (start + k) % this.logLimit;
      out.push({ kind: this.ringKind[i] === 0 ? 'pending' : 'cleared', pe: this.ringPe[i]!, intid: this.ringIntid[i]! });
    }
    return out;
  }

  /** Forwardable LPIs of a PE, ascending. */
  pendingOn(pe: number): number[] {
    return [...(this.pending.get(pe)?.keys() ?? [])].sort((a, b) => a - b);
  }

  priorityOf(pe: number, intid: number): number | undefined {
    return this.pending.get(pe)?.get(intid);
  }

  /** The highest-priority (lowest value, then lowest INTID) forwardable LPI of a PE, or null. */
  highestPending(pe: number): number | null {
    let best: number | null = null;
    let bestPrio = Infinity;
    for (const [intid, prio] of this.pending.get(pe) ?? []) {
      if (prio < bestPrio || (prio === bestPrio && best !== null && intid < best)) {
        best = intid;
        bestPrio = prio;
      }
    }
    return best;
  }

  /** Empties the log and zeroes the counts (the forwardable state is kept). */
  clearLog(): void {
    this.ringNext = this.ringSize = 0;
    this.counts.pending = this.counts.cleared = this.counts.overwritten = 0;
  }
}

/** Records SPIs set pending, in order: the last `limit` (default 1024) and a running count. */
export class SpiRecorder implements SpiSink {
  readonly spis: number[] = [];
  total = 0;

  constructor(readonly limit = LPI_LOG_DEFAULT) {}

  spiPending(intid: number): void {
    this.total++;
    if (this.limit <= 0) return;
    if (this.spis.length >= this.limit) this.spis.shift();
    this.spis.push(intid);
  }
}
