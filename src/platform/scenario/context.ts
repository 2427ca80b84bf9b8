// What the parts of a scenario run share: the per-device state the runner keeps, the pending
// events and interrupts an `expect` step matches, and the step context (name lookups that fail
// with file:line, the step record) the step and expectation code is given instead of the runner.
import type { QueueDriver } from '../../guest/queue-driver.js';
import type { PciFunction } from '../../pcie/function.js';
import type { DeviceModelName } from '../devices/factory.js';
import type { ReportInterrupt } from './report.js';
import type { Step } from './schema.js';

/** A device a scenario names: a function with a test-device model, or a hot-plug port. */
export interface DevState {
  readonly name: string;
  readonly rc: string;
  readonly model: DeviceModelName | 'port';
  fn: PciFunction;
  dma: { ok: number; faults: number; bytes: number; lastFault: string | null };
  lastDma: { ok: boolean; reason: string | null } | null;
  /** The guest's queue driver (queue devices whose rings are mapped). */
  queue: QueueDriver | null;
}

/** An event as an `expect` step matches it. */
export interface PendingEvent {
  readonly smmu: string;
  readonly type: string;
  readonly device: string | null;
  /** Input address (-1: several, in the catch-all). */
  readonly address: number;
  readonly text: string;
}

export type PendingInterrupt = Pick<ReportInterrupt, 'kind' | 'intid' | 'source'>;

/** A buffer allocated by an `alloc` step. */
export interface Buffer {
  readonly pa: number;
  readonly size: number;
}

/** Lookups and records of the step being executed. */
export interface StepContext {
  /** Throws UserInputError at the scenario line of `path`. */
  fail(path: readonly (string | number)[], msg: string): never;
  /** A named device (unknown names fail at the step). */
  dev(step: Step, name: string): DevState;
  /** A named buffer (unknown names fail at the step's `key`). */
  buffer(step: Step, name: string, key?: string): Buffer;
  /** An address: a number, or "name [+ offset]" bound by a map step. */
  ref(step: Step, v: number | string, key: string): number;
  /** Records an informational line for the step. */
  info(step: Step, summary: string): void;
  /** Records a checked expectation (counted; failures listed up to the detail limit). */
  check(step: Step, what: string, ok: boolean, expected: string, actual: string): void;
}

/** "A × 3; B" — distinct items with their counts, at most 6 listed. */
export function counted(xs: readonly { text: string; count: number }[]): string {
  const all = xs.reduce((a, x) => a + x.count, 0);
  const shown = xs.slice(0, 6).map((x) => (x.count > 1 ? `${x.text} × ${x.count}` : x.text));
  return `${shown.join('; ')}${xs.length > 6 ? `; ... (${all} in all)` : ''}`;
}
