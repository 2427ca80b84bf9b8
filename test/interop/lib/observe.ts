// Observations a differential scenario records on each machine (what landed in memory, the event
// records, register values, LPI pending bits), and their comparison. Event records are decoded
// with src/spec/smmuv3/events.ts. QEMU 7.2's known departures from the architecture are not copied
// into our model: they are listed in ./qemu-departures.ts, and a difference is accepted only when
// a departure the scenario names explains it; every departure that fired is reported.
import { decodeEvent, eventInputAddr, eventName } from '../../../src/spec/smmuv3/events.js';
import type { EventRecord } from './smmu-driver.js';

/** A decoded event, with the fields the comparison looks at. */
export interface Ev {
  readonly type: string;
  readonly sid: number;
  readonly ssv: boolean;
  readonly ssid: number;
  readonly rnw: boolean;
  readonly pnu: boolean;
  readonly ind: boolean;
  readonly s2: boolean;
  readonly cls: number;
  readonly inputAddr: string;
  readonly ipa: string;
  readonly fetchAddr: string;
  /** TTRnW, only for a stage-2 permission fault of a stage-1 table walk (UNKNOWN otherwise, §7.3.16). */
  readonly ttrnw?: boolean;
}

export function toEv(r: EventRecord): Ev {
  const e = decodeEvent(r.words);
  return {
    type: eventName(e.type),
    sid: e.sid,
    ssv: e.ssv,
    ssid: e.ssid,
    rnw: e.rnw,
    pnu: e.pnu,
    ind: e.ind,
    s2: e.s2,
    cls: e.cls,
    inputAddr: '0x' + eventInputAddr(e).toString(16),
    ipa: '0x' + e.ipa.toString(16),
    fetchAddr: '0x' + e.fetchAddr.toString(16),
    ...(e.s2 && e.cls === 1 && eventName(e.type) === 'F_PERMISSION' ? { ttrnw: e.ttrnw } : {}),
  };
}

export type Observation =
  | { readonly label: string; readonly kind: 'mem'; readonly value: string }
  | { readonly label: string; readonly kind: 'events'; readonly value: Ev[] }
  | { readonly label: string; readonly kind: 'value'; readonly value: string | number | boolean | number[] };

/** Collects a scenario's observations in order. */
export class Recorder {
  readonly obs: Observation[] = [];

  /** Memory contents, summarised as hex runs ("zero" when all zero). */
  mem(label: string, bytes: Uint8Array): void {
    this.obs.push({ label, kind: 'mem', value: summarise(bytes) });
  }
  events(label: string, recs: readonly EventRecord[]): void {
    this.obs.push({ label, kind: 'events', value: recs.map(toEv) });
  }
  value(label: string, value: string | number | boolean | number[]): void {
    this.obs.push({ label, kind: 'value', value });
  }
}

/** Compact, comparable text for a byte range: "zero", or its hex for small ranges, else runs. */
export function summarise(b: Uint8Array): string {
  if (b.every((x) => x === 0)) return 'zero';
  if (b.length <= 64) return Buffer.from(b).toString('hex');
  // Runs of zero / non-zero 16-byte lines, with a checksum of the content.
  let h = 0;
  for (const x of b) h = (Math.imul(h, 31) + x) >>> 0;
  const nz: string[] = [];
  for (let i = 0; i < b.length; i += 16) {
    const line = b.subarray(i, i + 16);
    const z = line.every((x) => x === 0);
    const last = nz[nz.length - 1];
    const tag = z ? 'z' : 'd';
    if (last && last.startsWith(tag)) nz[nz.length - 1] = `${tag}${Number(last.slice(1).split('@')[0]) + 1}@${last.split('@')[1]}`;
    else nz.push(`${tag}1@0x${i.toString(16)}`);
  }
  return `${nz.join(',')} sum=${h.toString(16)}`;
}

/**
 * Folds runs of event records that one transaction produced in QEMU, which translates a failing
 * access again for every naturally aligned <= 4-byte chunk (7.2) or for every 4 KiB page it
 * touches (10.0): the same event (every field but InputAddr and the IPA page equal) with InputAddr
 * increasing by at most 4, or jumping to the next 4 KiB boundary, each time, or identical records
 * (configuration errors carry no address). Applied to both machines; returns
 * the folded list and whether anything was folded.
 */
export function foldBursts(evs: readonly Ev[]): { evs: Ev[]; folded: boolean } {
  const out: Ev[] = [];
  let folded = false;
  let lastAddr = -1n;
  for (const e of evs) {
    const prev = out[out.length - 1];
    if (prev) {
      const same = JSON.stringify({ ...prev, inputAddr: 0, ipa: 0 }) === JSON.stringify({ ...e, inputAddr: 0, ipa: 0 });
      const a = BigInt(e.inputAddr);
      // The next record continues the same access: the next <= 4-byte chunk (7.2), or the start
      // of the next 4 KiB page (10.0 translates a failing access once per page).
      const nextChunk = a > lastAddr && (a - lastAddr <= 4n || (a % 4096n === 0n && a - lastAddr < 4096n));
      if (same && (a === lastAddr || nextChunk)) {
        lastAddr = a;
        folded = true;
        continue;
      }
    }
    out.push(e);
    lastAddr = BigInt(e.inputAddr);
  }
  return { evs: out, folded };
}
