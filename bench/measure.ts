// Measurement for `npm run bench`: CPU time (process.cpuUsage, user + system) of batches of calls,
// a workload and its baseline interleaved A B A B ..., the median of each; and allocated bytes per
// operation from the V8 heap counters. Every workload is compiled into its own loop function from
// its own source text, so each has its own call sites and type feedback: a loop shared by all
// workloads would see every workload's objects and measure megamorphic calls instead.
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// A full collection before each allocation count, so that a try starts with an empty young
// generation and only a real allocation can make the heap grow or trigger a scavenge.
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

/**
 * One benchmarked operation: `body` is a statement run for i = 0, 1, 2, ... with `ctx` in scope
 * (e.g. `ctx.sink += ctx.tlb.lookup(ctx.iovas[ctx.seq[i & ctx.mask]])`).
 */
export interface Workload {
  readonly ctx: Ctx;
  readonly body: string;
}

export interface Ctx {
  sink: number;
  readonly [name: string]: unknown;
}

type Loop = (ctx: Ctx, from: number, n: number) => void;

let loopSerial = 0;
/** A fresh loop function (its own SharedFunctionInfo and feedback) running `w.body`. */
function compile(w: Workload): (from: number, n: number) => void {
  loopSerial++;
  // The serial makes each function's source, and so its compiled code and feedback, distinct.
  const loop = new Function('ctx', 'from', 'n', `/* workload ${loopSerial} */ for (let i = from; i < from + n; i++) { ${w.body} }`) as Loop;
  return (from, n) => loop(w.ctx, from, n);
}

function cpuNs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}

export interface Measured {
  /** Median CPU ns per operation over the repetitions. */
  readonly nsPerOp: number;
  readonly reps: number;
}

export interface PairOptions {
  /** CPU time per repetition and side (ns). */
  readonly repNs?: number;
  /** Interleaved repetitions (odd, so the median is a sample). */
  readonly reps?: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[(s.length - 1) >> 1]!;
}

/** How many calls of `op` take about `targetNs` of CPU time (after warming it up). */
function calibrate(loop: (from: number, n: number) => void, targetNs: number): number {
  let n = 256;
  loop(0, n);
  for (;;) {
    const t0 = cpuNs();
    loop(0, n);
    const dt = cpuNs() - t0;
    // cpuUsage has microsecond resolution: calibrate on at least 5 ms.
    if (dt >= 5_000_000 || n >= 1 << 26) return Math.max(1, Math.round((n * targetNs) / Math.max(dt, 1)));
    n *= 4;
  }
}

/**
 * Measures workload `a` and baseline `b` interleaved (A B A B ...), each in its own loop, and
 * returns the median CPU ns/op of each. The running index continues across repetitions, so each
 * repetition sees the next part of its workload's sequence.
 */
export function pair(a: Workload, b: Workload, o: PairOptions = {}): [Measured, Measured] {
  const repNs = o.repNs ?? 40_000_000;
  const reps = o.reps ?? 7;
  const la = compile(a);
  const lb = compile(b);
  const na = calibrate(la, repNs);
  const nb = calibrate(lb, repNs);
  const ta: number[] = [];
  const tb: number[] = [];
  let ia = 0;
  let ib = 0;
  for (let r = 0; r < reps; r++) {
    let t0 = cpuNs();
    la(ia, na);
    ta.push((cpuNs() - t0) / na);
    ia += na;
    t0 = cpuNs();
    lb(ib, nb);
    tb.push((cpuNs() - t0) / nb);
    ib += nb;
  }
  return [
    { nsPerOp: median(ta), reps },
    { nsPerOp: median(tb), reps },
  ];
}

/**
 * Bytes allocated on the V8 heap per call of `op` (warm): the growth of the used heap over `n`
 * calls, as the median of a few tries (a try during which a garbage collection shrank the heap
 * counts as 0 and is retried). Small batches keep a try inside one young-generation cycle.
 */
export function bytesPerOp(w: Workload, n = 20_000, tries = 5): number {
  const loop = compile(w);
  loop(0, n);
  const xs: number[] = [];
  let start = n;
  for (let t = 0; t < tries * 3 && xs.length < tries; t++) {
    collect();
    const before = getHeapStatistics().used_heap_size;
    loop(start, n);
    const after = getHeapStatistics().used_heap_size;
    start += n;
    if (after >= before) xs.push((after - before) / n);
  }
  return xs.length === 0 ? NaN : median(xs);
}
