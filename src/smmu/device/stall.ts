// Stalled-transaction bookkeeping for the SMMUv3 stall model (IHI 0070 §3.12.2, §4.7.1 CMD_RESUME,
// §4.7.2 CMD_STALL_TERM). Used only when IDR0.STALL_MODEL advertises stalls.
//
// The model is synchronous: a DMA access that stalls returns to its device immediately with the
// reason 'stalled' (the device sees the transaction as not completed). The event record carries
// a STAG; CMD_RESUME / CMD_STALL_TERM retire the STAG (a RESUME naming an unknown STAG or a
// different StreamID is a no-op, §4.7.1). Retried transactions are not replayed by the SMMU: a
// device that wants retry semantics re-issues the access after the guest resumed it (see
// `resolved()`). The table is bounded by IDR5.STALL_MAX (at least 1).
import type { SmmuFeatures } from '../features.js';

export interface StallOutcome {
  readonly sid: number;
  readonly stag: number;
  /** 'retry' | 'terminate-abort' | 'terminate-raz' */
  readonly action: string;
}

export class StallTable {
  private readonly pending = new Map<number, number>(); // stag -> sid
  private nextTag = 0;
  private readonly max: number;
  /** Recently resolved stalls (bounded), so a device model can learn the guest's decision. */
  private readonly done: StallOutcome[] = [];

  constructor(features: SmmuFeatures) {
    this.max = Math.max(1, features.stallMax);
  }

  /** Registers a stalled transaction and returns its STAG (16 bits). */
  add(sid: number): number {
    if (this.pending.size >= this.max) {
      // Out of stall resources (IMPLEMENTATION SPECIFIC, §3.12.2.3): the oldest stall is terminated
      // with abort to make room, and reported like any other resolution.
      const oldest = this.pending.keys().next().value!;
      this.push({ sid: this.pending.get(oldest)!, stag: oldest, action: 'terminate-abort' });
      this.pending.delete(oldest);
    }
    for (let i = 0; i < 0x10000; i++) {
      const tag = this.nextTag;
      this.nextTag = (this.nextTag + 1) & 0xffff;
      if (!this.pending.has(tag)) {
        this.pending.set(tag, sid);
        return tag;
      }
    }
    return 0;
  }

  resume(sid: number, stag: number, retry: boolean, abort: boolean): void {
    if (this.pending.get(stag) !== sid) return; // no matching stalled transaction: no-op
    this.pending.delete(stag);
    this.push({ sid, stag, action: retry ? 'retry' : abort ? 'terminate-abort' : 'terminate-raz' });
  }

  terminate(sid: number): void {
    for (const [tag, s] of [...this.pending]) {
      if (s === sid) {
        this.pending.delete(tag);
        this.push({ sid, stag: tag, action: 'terminate-abort' });
      }
    }
  }

  /** True while `stag` is a stalled transaction of stream `sid`. */
  isPending(sid: number, stag: number): boolean {
    return this.pending.get(stag) === sid;
  }

  /** Every stalled transaction is terminated with abort (SMMUEN 1 -> 0, §6.3.9.6). */
  terminateAll(): void {
    for (const [tag, sid] of this.pending) this.push({ sid, stag: tag, action: 'terminate-abort' });
    this.pending.clear();
  }

  private push(o: StallOutcome): void {
    if (this.done.length >= 256) this.done.shift();
    this.done.push(o);
  }

  /** Takes the resolved stalls recorded since the last call. */
  resolved(): StallOutcome[] {
    return this.done.splice(0, this.done.length);
  }

  /** Stall slots (IDR5.STALL_MAX, at least 1). */
  get capacity(): number {
    return this.max;
  }

  get size(): number {
    return this.pending.size;
  }

  clear(): void {
    this.pending.clear();
    this.done.length = 0;
    this.nextTag = 0;
  }

  snapshot(): { stag: number; sid: number }[] {
    return [...this.pending].map(([stag, sid]) => ({ stag, sid }));
  }

  restore(entries: readonly { stag: number; sid: number }[]): void {
    this.clear();
    for (const e of entries.slice(0, this.max)) this.pending.set(e.stag & 0xffff, e.sid >>> 0);
  }
}
