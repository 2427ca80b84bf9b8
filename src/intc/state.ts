// Save/restore snapshots of the intc models (for VMM snapshots, migration and tests). Only the
// register state lives in the models: the device, collection, ITT, LPI property and pending tables
// are guest memory and travel with it. Plain JSON-able objects with numbers; restoring validates
// the shape and raises UserInputError (a snapshot is host input, not guest input).

import { UserInputError } from '../util/errors.js';

export type Pair = readonly [lo: number, hi: number];

export interface RedistributorState {
  readonly enableLpis: boolean;
  readonly processorSleep: boolean;
  readonly propbaser: Pair;
  readonly pendbaser: Pair;
  readonly ptz: boolean;
}

export interface GicV3State {
  readonly version: 1;
  readonly gicdCtlr: number;
  readonly redistributors: readonly RedistributorState[];
}

export interface GicItsState {
  readonly version: 1;
  readonly enabled: boolean;
  readonly cbaser: Pair;
  readonly cwriter: number;
  readonly creadr: number;
  readonly stalled: boolean;
  readonly baser: readonly Pair[];
  /** Target PE per HCC collection, -1 = unmapped. */
  readonly hcc: readonly number[];
}

const fail = (where: string, what: string): never => {
  throw new UserInputError(what, where);
};

export function checkU32(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffff_ffff) fail(where, 'must be an unsigned 32-bit integer');
  return v as number;
}

export function checkBool(v: unknown, where: string): boolean {
  if (typeof v !== 'boolean') fail(where, 'must be a boolean');
  return v as boolean;
}

export function checkPair(v: unknown, where: string): Pair {
  if (!Array.isArray(v) || v.length !== 2) fail(where, 'must be a [lo, hi] pair');
  const a = v as unknown[];
  return [checkU32(a[0], `${where}[0]`), checkU32(a[1], `${where}[1]`)];
}

export function checkObject(v: unknown, where: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null) fail(where, 'must be an object');
  const o = v as Record<string, unknown>;
  if (o.version !== undefined && o.version !== 1) fail(`${where}.version`, 'unsupported snapshot version');
  return o;
}
