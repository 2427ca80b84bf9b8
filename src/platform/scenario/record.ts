// Bounded records of a scenario run. Memory grows with the size of the scenario file, never with
// the number of executed steps: each step of the file keeps counts and its first / last summary;
// events and interrupts are kept as groups with counts (plus the first `limit` of each as single
// records); what a later `expect` step checks ("since the previous check") is kept as counts per
// distinct event / interrupt, at most PENDING_KEYS of them.
import type { ReportEvent, ReportEventGroup, ReportExecution, ReportInterrupt, ReportInterruptGroup, ReportStep } from './report.js';
import type { Step } from './schema.js';

/** Single records kept per list by default (executions, events, interrupts, failures). */
export const DEFAULT_DETAIL = 1000;
/** Distinct events (or interrupts) kept apart between two checks; more are counted together. */
export const PENDING_KEYS = 10_000;

interface StepAgg {
  index: number;
  line: number;
  depth: number;
  kind: string;
  summary: string | null;
  last: string | null;
  runs: number;
  ok: number;
  failed: number;
}

/** One entry per step of the file, plus the first `limit` executions. */
export class StepRecord {
  private readonly byStep = new Map<Step, StepAgg>();
  private readonly order: StepAgg[] = [];
  readonly executions: ReportExecution[] = [];
  executionsOmitted = 0;

  constructor(
    steps: readonly Step[],
    lineOf: (path: readonly (string | number)[]) => number,
    private readonly limit: number,
  ) {
    const walk = (list: readonly Step[], depth: number): void => {
      for (const s of list) {
        const agg: StepAgg = { index: this.order.length, line: lineOf(s.path), depth, kind: s.kind, summary: null, last: null, runs: 0, ok: 0, failed: 0 };
        this.byStep.set(s, agg);
        this.order.push(agg);
        if (s.kind === 'repeat') walk(s.body.steps, depth + 1);
      }
    };
    walk(steps, 0);
  }

  /** A repeat step starts (its summary describes the loop). */
  enterRepeat(s: Step & { kind: 'repeat' }, total: number): void {
    const a = this.byStep.get(s)!;
    a.runs++;
    a.summary ??= `repeat ${s.body.count} times: ${s.body.steps.length} step${s.body.steps.length === 1 ? '' : 's'} (${total.toLocaleString('en-US')} steps run)`;
  }

  /** An executed step's outcome. */
  add(s: Step, execution: number, line: number, summary: string, status: ReportExecution['status']): void {
    const a = this.byStep.get(s)!;
    a.runs++;
    if (status === 'ok') a.ok++;
    else if (status === 'failed') a.failed++;
    if (a.summary === null) a.summary = summary;
    else a.last = summary;
    if (this.executions.length < this.limit) this.executions.push({ step: execution, line, kind: s.kind, summary, status });
    else this.executionsOmitted++;
  }

  steps(): ReportStep[] {
    return this.order.map((a) => ({
      index: a.index,
      line: a.line,
      depth: a.depth,
      kind: a.kind,
      summary: a.summary ?? '(not run)',
      last: a.last !== null && a.last !== a.summary ? a.last : null,
      runs: a.runs,
      ok: a.ok,
      failed: a.failed,
      status: a.failed ? 'failed' : a.ok ? 'ok' : 'info',
    }));
  }
}

/** Counts per key since the last `take()`, at most PENDING_KEYS distinct keys (then one catch-all). */
export class Pending<T> {
  private readonly counts = new Map<string, { item: T; count: number }>();
  private overflow: { item: T; count: number } | null = null;

  add(key: string, item: T, catchAll: () => T): void {
    const e = this.counts.get(key);
    if (e) e.count++;
    else if (this.counts.size < PENDING_KEYS) this.counts.set(key, { item, count: 1 });
    else if (this.overflow) this.overflow.count++;
    else this.overflow = { item: catchAll(), count: 1 };
  }

  /** Everything since the previous take, as distinct items with counts; clears. */
  take(): { item: T; count: number }[] {
    const out = [...this.counts.values()];
    if (this.overflow) out.push(this.overflow);
    this.counts.clear();
    this.overflow = null;
    return out;
  }
}

/** Report events: groups with counts, and the first `limit` single records. */
export class EventRecord {
  readonly list: ReportEvent[] = [];
  omitted = 0;
  total = 0;
  private readonly groups = new Map<string, ReportEventGroup & { count: number; last: ReportEventGroup['last'] }>();

  constructor(private readonly limit: number) {}

  add(e: ReportEvent): void {
    this.total++;
    if (this.list.length < this.limit) this.list.push(e);
    else this.omitted++;
    const key = `${e.smmu}|${e.type}|${e.streamId}|${e.device ?? ''}`;
    const at = { step: e.step, line: e.line, address: e.address };
    const g = this.groups.get(key);
    if (g) {
      g.count++;
      g.last = at;
    } else if (this.groups.size < PENDING_KEYS) {
      this.groups.set(key, { smmu: e.smmu, type: e.type, code: e.code, streamId: e.streamId, device: e.device, count: 1, first: at, last: at });
    }
  }

  groupList(): ReportEventGroup[] {
    return [...this.groups.values()].map((g) => ({ ...g }));
  }
}

/** Report interrupts: groups with counts, the first `limit` single records, deliveries per source. */
export class InterruptRecord {
  readonly list: ReportInterrupt[] = [];
  omitted = 0;
  total = 0;
  private readonly groups = new Map<string, ReportInterruptGroup & { count: number; last: ReportInterruptGroup['last'] }>();
  private readonly bySource = new Map<string, number>();

  constructor(private readonly limit: number) {}

  add(i: ReportInterrupt): void {
    this.total++;
    if (this.list.length < this.limit) this.list.push(i);
    else this.omitted++;
    if (i.source !== null) this.bySource.set(i.source, (this.bySource.get(i.source) ?? 0) + 1);
    const key = `${i.kind}|${i.intid}|${i.source ?? ''}`;
    const at = { step: i.step, line: i.line };
    const g = this.groups.get(key);
    if (g) {
      g.count++;
      g.last = at;
    } else if (this.groups.size < PENDING_KEYS) {
      this.groups.set(key, { kind: i.kind, intid: i.intid, source: i.source, count: 1, first: at, last: at });
    }
  }

  /** Interrupts delivered whose source matches. */
  delivered(match: (source: string) => boolean): number {
    let n = 0;
    for (const [s, c] of this.bySource) if (match(s)) n += c;
    return n;
  }

  groupList(): ReportInterruptGroup[] {
    return [...this.groups.values()].map((g) => ({ ...g }));
  }
}
