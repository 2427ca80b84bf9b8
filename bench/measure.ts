// Measurement for `npm run bench`: CPU time (process.cpuUsage, user + system) of batches of calls,
// a workload and its baseline interleaved A B A B ..., the median of each, after a warm-up; and
// allocated bytes per operation from the V8 young-generation counters. Every workload is compiled into its own loop function from
// its own source text, so each has its own call sites and type feedback: a loop shared by all
// workloads would see every workload's objects and measure megamorphic calls instead.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { youngBytes } from './young-heap.js';

// A full collection before each allocation count, so that a try starts with an empty young
// generation and only a real allocation can make the heap grow or trigger a scavenge.
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

/**
 * One benchmarked operation: `body` is a statement run for i = 0, 1, 2, ... with `ctx` and `sink`
 * in scope (e.g. `sink += ctx.tlb.lookup(ctx.iovas[ctx.seq[i & ctx.mask]])`). `sink` is a local
 * of the loop that the body adds each result to, so that no operation can be optimised away; it
 * is added to `ctx.sink` once per batch. (Adding to the `ctx.sink` field in the body would box a
 * double on every store: 12 bytes allocated per operation, on the workload and baseline alike.)
 */
export interface Workload {
  readonly ctx: Ctx;
  readonly body: string;
  /**
   * Serial: each operation's index depends on the results of the ones before it (through `sink`),
   * so that no two operations are in flight at once: their latencies add up. Otherwise the CPU
   * runs ahead into the next operations while one waits for memory, as far as its
   * instruction window reaches, and a short operation overlaps more of them than a long one.
   */
  readonly serial?: boolean;
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
  // Serial: `sink` stays far below 1e300, so the index is unchanged, but the compiler cannot know it.
  const head = w.serial ? 'for (let j = from; j < from + n; j++) { const i = j + ((sink / 1e300) | 0);' : 'for (let i = from; i < from + n; i++) {';
  const loop = new Function('ctx', 'from', 'n', `/* workload ${loopSerial} */ let sink = 0; ${head} ${w.body} } ctx.sink += sink;`) as Loop;
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
  /** Bytes allocated on the V8 heap per operation by the same (by then optimised) loop: see {@link bytesPerOp}. */
  readonly bytesPerOp: number;
}

export interface PairOptions {
  /** CPU time per repetition and side (ns). */
  readonly repNs?: number;
  /** Interleaved repetitions (odd, so the median is a sample). */
  readonly reps?: number;
  /** CPU time each side runs before it is calibrated and measured (ns). */
  readonly warmNs?: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[(s.length - 1) >> 1]!;
}

/**
 * How many calls of `op` take about `targetNs` of CPU time, after running it for `warmNs` of CPU
 * time: V8 optimises a hot function on a background thread while the loop goes on in slower code,
 * and those threads' CPU time counts in the process's; a loop measured before that has settled
 * reads up to 30 times slower in its first repetitions, and its median varies from run to run.
 */
function calibrate(loop: (from: number, n: number) => void, targetNs: number, warmNs: number): number {
  let n = 256;
  loop(0, n);
  const w0 = cpuNs();
  for (let k = n; cpuNs() - w0 < warmNs; k *= 2) loop(0, k);
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
  const warmNs = o.warmNs ?? 300_000_000;
  const na = calibrate(la, repNs, warmNs);
  const nb = calibrate(lb, repNs, warmNs);
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
  // Allocation is counted on the loops just timed (optimised by now, as in the timed runs, where a
  // fresh loop would run unoptimised code that boxes every double it computes), continuing their
  // sequences, in batches small enough that even 100 bytes per operation fit the young generation.
  return [
    { nsPerOp: median(ta), reps, bytesPerOp: bytesPerOp(la, ia, Math.min(na, 20_000)) },
    { nsPerOp: median(tb), reps, bytesPerOp: bytesPerOp(lb, ib, Math.min(nb, 20_000)) },
  ];
}

/**
 * Bytes allocated per call of `loop` (warm), from index `start` on, in batches of `n`: the growth of
 * the young generation over a batch (young-heap.ts), less that of an empty batch (the reading's
 * own), as the smallest of a few tries; a try during which a collection ran (the young generation
 * shrank) is retried. An operation's own allocation shows in every try; the smallest leaves out a
 * try in which the loop ran unoptimised for a while (the full collection before a try can drop
 * the loop's on-stack-replacement code, which V8 holds weakly: up to 64 bytes per operation then).
 */
function bytesPerOp(loop: (from: number, n: number) => void, start: number, n: number, tries = 5): number {
  const grown = (k: number): number => {
    collect();
    const before = youngBytes();
    loop(start, k);
    const after = youngBytes();
    start += k;
    return after - before;
  };
  const xs: number[] = [];
  for (let t = 0; t < tries * 3 && xs.length < tries; t++) {
    const idle = grown(0);
    const g = grown(n);
    if (g >= 0 && idle >= 0) xs.push(Math.max(0, g - idle) / n);
  }
  return xs.length === 0 ? NaN : Math.min(...xs);
}
