// Runs one scenario on a QEMU peer (qtest) and on our models (by hand and through the platform
// runtime) with that peer's feature profiles, and compares what each recorded.
// Equal observations pass. A difference passes only when the scenario names a documented
// departure for that observation and the peer's list (./peers.ts) contains it; then our model must
// show the architected outcome the scenario states (from the specification) and QEMU the
// documented departing one. Global normalisations, only for peers that show them: per-4-byte
// fault bursts are folded (`fault-per-4-bytes`), CLASS = 0 on stage-1 input faults
// (`event-class-zero`).
import { FEATURE_PROFILES } from '../../../src/smmu/features.js';
import { DEPARTURES, type DepartureId } from './qemu-departures.js';
import type { Machine } from './machine.js';
import { ModelMachine } from './model-machine.js';
import { foldBursts, Recorder, type Ev, type Observation } from './observe.js';
import type { Peer, PeerId } from './peers.js';
import { PlatformMachine } from './platform-machine.js';
import { QemuMachine } from './qemu-machine.js';

export interface DepartureExpectation {
  readonly id: DepartureId;
  /** The observation it affects. */
  readonly label: string;
  /** What the architecture requires (our model must show exactly this). */
  readonly arch: Observation['value'];
  /** What QEMU does instead (as documented). */
  readonly qemu: Observation['value'];
  /** Only on this peer (when a later build departs differently); default: every peer whose list has `id`. */
  readonly peer?: PeerId;
}

export interface Scenario {
  readonly name: string;
  /** vCPUs / redistributors (MOVI needs two). */
  readonly cpus?: number;
  readonly departures?: readonly DepartureExpectation[];
  /** Peers that implement what the scenario needs (default: all), e.g. stage 2 needs QEMU 10.0. */
  readonly peers?: readonly PeerId[];
  run(m: Machine, rec: Recorder): Promise<void>;
}

export interface DifferentialResult {
  readonly qemu: Observation[];
  /** Our models assembled by hand (ModelMachine, the peer's profiles). */
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

function normalise(o: Observation, fold: boolean): { o: Observation; folded: boolean } {
  if (o.kind !== 'events' || !fold) return { o, folded: false };
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

/** The departures of the scenario that apply on a peer showing `shown`. */
export function applicableDepartures(s: Scenario, shown: readonly DepartureId[], peer?: PeerId): DepartureExpectation[] {
  return (s.departures ?? []).filter((d) => shown.includes(d.id) && (d.peer === undefined || d.peer === peer));
}

/**
 * Compares QEMU's observations with our model's. `shown` lists the departures the peer is known to
 * show (default: all of them); any other difference is a mismatch.
 */
export function compare(
  s: Scenario,
  qemuObs: readonly Observation[],
  modelObs: readonly Observation[],
  shown: readonly DepartureId[] = Object.keys(DEPARTURES) as DepartureId[],
  peer?: PeerId,
): { mismatches: string[]; departuresSeen: DepartureId[] } {
  const deps = applicableDepartures(s, shown, peer);
  const fold = shown.includes('fault-per-4-bytes');
  const classZeroShown = shown.includes('event-class-zero');
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
    const q = normalise(q0, fold);
    const m = normalise(m0, fold);
    if (q.folded) seen.add('fault-per-4-bytes');
    if (classZeroShown && q.o.kind === 'events' && m.o.kind === 'events') {
      const c = classZero(q.o.value, m.o.value);
      if (c.changed) seen.add('event-class-zero');
      q.o = { ...q.o, value: c.evs };
    }
    if (m.folded) mismatches.push(`${label}: our model wrote a burst of events for one access: ${show(m0.value)}`);
    const dep = deps.find((d) => d.label === label);
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
 * Runs `s` on a fresh QEMU of `peer`, on our models assembled by hand and on the platform runtime
 * (both with the peer's profiles), and compares each model side with QEMU (mismatches of the
 * runtime are prefixed "platform: ").
 */
export async function runDifferential(s: Scenario, peer: Peer): Promise<DifferentialResult> {
  const cpus = s.cpus ?? 1;
  const features = FEATURE_PROFILES[peer.smmuProfile];
  if (!features) throw new Error(`no SMMU feature profile ${peer.smmuProfile}`);
  const qemu = await runOn(await QemuMachine.start({ cpus, binary: peer.binary() }), s);
  const model = await runOn(new ModelMachine({ cpus, features, itsProfile: peer.itsProfile }), s);
  const platform = await runOn(new PlatformMachine({ cpus, smmuProfile: peer.smmuProfile }), s);
  const a = compare(s, qemu, model, peer.departures, peer.id);
  const b = compare(s, qemu, platform, peer.departures, peer.id);
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
