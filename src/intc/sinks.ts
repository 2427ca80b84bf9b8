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

/**
 * A simple sink that remembers what is forwardable per PE, for tests, tools and VMMs that poll.
 * Host-side helper: its size is bounded by the configured LPI INTID space, not by guest input
 * beyond that.
 */
export class LpiRecorder implements LpiSink {
  private readonly pending = new Map<number, Map<number, number>>();
  /** Every call, in order (for tests); cleared by `clearLog()`. */
  readonly log: { kind: 'pending' | 'cleared'; pe: number; intid: number }[] = [];
  logEnabled = true;

  lpiPending(pe: number, intid: number, priority: number): void {
    let m = this.pending.get(pe);
    if (!m) this.pending.set(pe, (m = new Map()));
    m.set(intid, priority);
    if (this.logEnabled) this.log.push({ kind: 'pending', pe, intid });
  }

  lpiCleared(pe: number, intid: number): void {
    this.pending.get(pe)?.delete(intid);
    if (this.logEnabled) this.log.push({ kind: 'cleared', pe, intid });
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

  clearLog(): void {
    this.log.length = 0;
  }
}

/** Records SPIs set pending, in order. */
export class SpiRecorder implements SpiSink {
  readonly spis: number[] = [];
  spiPending(intid: number): void {
    this.spis.push(intid);
  }
}
