// Runs one scenario on QEMU 7.2 (qtest) and on our models (by hand and through the platform
// runtime), and compares what each recorded.
// Equal observations pass. A difference passes only when the scenario names a documented QEMU 7.2
// departure for that observation; then our model must show the architected outcome the scenario
// states (from the specification) and QEMU the documented departing one. Global normalisation:
// QEMU's per-4-byte fault bursts are folded (departure `fault-per-4-bytes`).
import { DEPARTURES, type DepartureId } from './qemu-departures.js';
import type { Machine } from './machine.js';
import { ModelMachine } from './model-machine.js';
import { foldBursts, Recorder, type Ev, type Observation } from './observe.js';
import { PlatformMachine } from './platform-machine.js';
import { QemuMachine } from './qemu-machine.js';

export interface DepartureExpectation {
  readonly id: DepartureId;
  /** The observation it affects. */
  readonly label: string;
  /** What the architecture requires (our model must show exactly this). */
  readonly arch: Observation['value'];
  /** What QEMU 7.2 does instead (as documented). */
  readonly qemu: Observation['value'];
}

export interface Scenario {
  readonly name: string;
  /** vCPUs / redistributors (MOVI needs two). */
  readonly cpus?: number;
  readonly departures?: readonly DepartureExpectation[];
  run(m: Machine, rec: Recorder): Promise<void>;
}

export interface DifferentialResult {
  readonly qemu: Observation[];
  /** Our models assembled by hand (ModelMachine, qemu-7.2 profiles). */
  readonly model: Observation[];
  /** The same through the platform runtime (PlatformMachine). */
  readonly platform: Observation[];
  /** Every difference no named departure explains (empty = pass). */
  readonly mismatches: string[];
  /** Departures that were needed to explain a difference. */
  readonly departuresSeen: DepartureId[];
}

async function runOn(m: Machine, s: Scenario): Promise<Observation[]> {
  const rec = new Recorder();
  try {
    await s.run(m, rec);
  } finally {
    await m.close();
  }
  return rec.obs;
}

function normalise(o: Observation): { o: Observation; folded: boolean } {
  if (o.kind !== 'events') return { o, folded: false };
  const f = foldBursts(o.value);
  return { o: { ...o, value: f.evs }, folded: f.folded };
}

const show = (v: unknown): string => JSON.stringify(v);

const INPUT_FAULTS = new Set(['F_TRANSLATION', 'F_PERMISSION', 'F_ACCESS', 'F_ADDR_SIZE']);

/**
 * Departure `event-class-zero`: where QEMU's record is a stage-1 input-address fault with CLASS = 0
 * and ours the same record with CLASS = IN (2), QEMU's CLASS is set to 2 before comparing, and
 * nothing else about the record is relaxed.
 */
function classZero(qemu: readonly Ev[], model: readonly Ev[]): { evs: Ev[]; changed: boolean } {
  let changed = false;
  const evs = qemu.map((e, i) => {
    const o = model[i];
    if (o && INPUT_FAULTS.has(e.type) && e.type === o.type && !e.s2 && e.cls === 0 && o.cls === 2) {
      changed = true;
      return { ...e, cls: 2 };
    }
    return e;
  });
  return { evs, changed };
}

export function compare(s: Scenario, qemuObs: readonly Observation[], modelObs: readonly Observation[]): { mismatches: string[]; departuresSeen: DepartureId[] } {
  const mismatches: string[] = [];
  const seen = new Set<DepartureId>();
  const labels = [...new Set([...qemuObs, ...modelObs].map((o) => o.label))];
  for (const label of labels) {
    const q0 = qemuObs.find((o) => o.label === label);
    const m0 = modelObs.find((o) => o.label === label);
    if (!q0 || !m0) {
      mismatches.push(`${label}: recorded only by ${q0 ? 'QEMU' : 'our model'}`);
      continue;
    }
    const q = normalise(q0);
    const m = normalise(m0);
    if (q.folded) seen.add('fault-per-4-bytes');
    if (q.o.kind === 'events' && m.o.kind === 'events') {
      const c = classZero(q.o.value, m.o.value);
      if (c.changed) seen.add('event-class-zero');
      q.o = { ...q.o, value: c.evs };
    }
    if (m.folded) mismatches.push(`${label}: our model wrote a burst of events for one access: ${show(m0.value)}`);
    const dep = s.departures?.find((d) => d.label === label);
    if (dep) {
      if (show(m.o.value) !== show(dep.arch)) mismatches.push(`${label}: our model ${show(m.o.value)} != architected ${show(dep.arch)}`);
      if (show(q.o.value) !== show(dep.qemu)) mismatches.push(`${label}: QEMU ${show(q.o.value)} != documented departure ${dep.id} ${show(dep.qemu)}`);
      else if (show(q.o.value) !== show(m.o.value)) seen.add(dep.id);
      continue;
    }
    if (show(q.o.value) !== show(m.o.value)) mismatches.push(`${label}: QEMU ${show(q.o.value)} != our model ${show(m.o.value)}`);
  }
  return { mismatches, departuresSeen: [...seen] };
}

/**
 * Runs `s` on a fresh QEMU, on our models assembled by hand and on the platform runtime, and
 * compares each model side with QEMU (mismatches of the runtime are prefixed "platform: ").
 */
export async function runDifferential(s: Scenario): Promise<DifferentialResult> {
  const cpus = s.cpus ?? 1;
  const qemu = await runOn(await QemuMachine.start({ cpus }), s);
  const model = await runOn(new ModelMachine({ cpus }), s);
  const platform = await runOn(new PlatformMachine({ cpus }), s);
  const a = compare(s, qemu, model);
  const b = compare(s, qemu, platform);
  return {
    qemu,
    model,
    platform,
    mismatches: [...a.mismatches, ...b.mismatches.map((x) => `platform: ${x}`)],
    departuresSeen: [...new Set([...a.departuresSeen, ...b.departuresSeen])],
  };
}

export function departureDoc(id: DepartureId): string {
  return `${id}: ${DEPARTURES[id]}`;
}

export type { Ev };
