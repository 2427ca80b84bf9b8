// What the guest must have printed for each fault injection that fired: the arm-smmu-v3 driver's
// own words for the condition (its GERROR handler, its event-queue thread, its CMD_SYNC wait), and
// for an injected translation fault the event record itself — the four doublewords the model wrote.
import type { InjectionName, InjectionReport } from '../smmu/device/inject.js';

export interface InjectionCheck {
  readonly name: string;
  readonly pass: boolean;
  readonly detail: string;
}

/** The driver line each injection makes Linux's arm-smmu-v3 driver print. */
const GUEST_LINE: Readonly<Record<InjectionName, RegExp>> = Object.freeze({
  'cmdsync-stall': /CMD_SYNC timeout at 0x[0-9a-f]+[^\n]*/,
  'cmd-error': /CMDQ error \(cons 0x[0-9a-f]+\): Illegal command[^\n]*/,
  gerror: /EVTQ write aborted -- events may have been lost/,
  'evtq-overflow': /EVTQ overflow detected -- events lost/,
  'dma-fault': /event 0x[0-9a-f]{2} received:?/,
  'msi-unmapped': /(?:CMDQ|EVTQ|PRIQ|GERROR) MSI write aborted/,
});

/** An event record as the guest's driver printed it (its number and 64-bit words). */
export interface PrintedEvent {
  readonly code: number;
  readonly words: readonly string[];
}

/**
 * One check per injection: it fired, and the guest printed what its driver prints for it (for an
 * injected translation fault: the very record the model wrote, among `printed`).
 */
export function injectionChecks(reports: readonly InjectionReport[], console: string, printed: readonly PrintedEvent[]): InjectionCheck[] {
  return reports.map((r) => {
    const name = `injection-${r.name}`;
    if (!r.fired) return { name, pass: false, detail: r.effect };
    const rec = r.records?.[0];
    if (r.name === 'dma-fault') {
      if (rec === undefined) return { name, pass: false, detail: r.effect };
      const code = parseInt(rec.code, 16);
      const same = printed.some((e) => e.code === code && e.words.length === rec.words.length && e.words.every((w, i) => w === rec.words[i]));
      return { name, pass: same, detail: same ? `the guest printed event ${rec.code} with the record words ${rec.words.join(' ')}` : `the guest did not print the record ${rec.words.join(' ')}` };
    }
    const line = GUEST_LINE[r.name].exec(console);
    return { name, pass: line !== null, detail: line !== null ? `the guest printed: ${line[0].trim()}` : `${r.effect}; the guest printed nothing about it` };
  });
}

/** Event records the injections caused (expected, not faults of the run). */
export function injectedRecordCount(reports: readonly InjectionReport[]): number {
  return reports.reduce((n, r) => n + r.recordsWritten, 0);
}
