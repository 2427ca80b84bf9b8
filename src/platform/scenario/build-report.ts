// Builds the scenario report (report.ts) from a run's records: the topology with each function's
// IDs and the root complexes' ID maps, per-device DMA and MSI counts, the SMMUs' cache statistics,
// the guest's messages and command counts, and the bounded lists of the step, event and interrupt
// records.
import type { ReferenceGuest, BoundDevice } from '../../guest/guest.js';
import { PciePort } from '../../pcie/port.js';
import { hex } from '../../util/hex.js';
import type { PlatformDescription } from '../description.js';
import type { DeviceModelName } from '../devices/factory.js';
import { enumerateRootComplex } from '../enumerate.js';
import type { Platform } from '../runtime/platform.js';
import type { DevState } from './context.js';
import type { EventRecord, InterruptRecord, StepRecord } from './record.js';
import type { ReportDevice, ReportFailure, ReportFunction, ReportRootComplex, ScenarioReport } from './report.js';
import type { Scenario } from './schema.js';

/** What a run hands over to be reported. */
export interface ReportInput {
  readonly scenario: Scenario;
  readonly desc: PlatformDescription;
  readonly platform: Platform;
  readonly guest: ReferenceGuest;
  readonly modelOf: Readonly<Record<string, DeviceModelName>>;
  readonly devs: ReadonlyMap<string, DevState>;
  /** Devices removed by unplug. */
  readonly gone: readonly { d: DevState; b: BoundDevice | null }[];
  readonly stepRecord: StepRecord;
  readonly events: EventRecord;
  readonly interrupts: InterruptRecord;
  readonly failures: readonly ReportFailure[];
  readonly passed: number;
  readonly failed: number;
  readonly detail: number;
  /** Steps executed. */
  readonly done: number;
  readonly hotplugs: number;
  readonly renumbers: number;
}

function topology(r: ReportInput): ReportRootComplex[] {
  return r.desc.rootComplexes.map((rcDesc, i) => {
    const maps = r.platform.ids.rootComplexes[i]!;
    const rt = r.platform.rootComplexes.get(rcDesc.name)!;
    const fns: ReportFunction[] = [];
    const statics = new Map(enumerateRootComplex(rcDesc).functions.map((f) => [f.name, f.kind] as const));
    for (const fn of rt.rc.functions()) {
      const id = fn.identity();
      const isPort = fn instanceof PciePort;
      const kind: ReportFunction['kind'] = isPort ? (fn.kind === 'root' ? 'root-port' : fn.kind === 'upstream' ? 'switch-upstream' : 'switch-downstream') : 'endpoint';
      const children = isPort ? [...fn.secondary.walk()].filter((c) => c.bus === fn.secondary).map((c) => c.name) : [];
      const base = fn.name.replace(/\.\d$/, '');
      const model = isPort ? 'port' : (r.modelOf[base] ?? 'generic');
      fns.push({
        name: fn.name,
        kind: statics.get(fn.name) ?? kind,
        bdf: id.bdf,
        rid: id.rid === null ? null : hex(id.rid, 4),
        smmu: id.smmu,
        streamId: id.streamId === null ? null : hex(id.streamId),
        deviceId: id.deviceId === null ? null : hex(id.deviceId),
        model,
        children,
      });
    }
    const range = (base: number, count: number): string => `${hex(base)}..${hex(base + count - 1)}`;
    return {
      name: rcDesc.name,
      segment: rcDesc.segment,
      buses: `${hex(rcDesc.buses.start, 2)}..${hex(rcDesc.buses.end, 2)}`,
      smmu: maps.smmu,
      ecam: hex(rcDesc.ecam.base),
      toSmmu: maps.toSmmu.map((m) => ({ rids: range(m.inputBase, m.count), streamIds: range(m.outputBase, m.count), smmu: m.target })),
      toMsi: maps.toMsi.map((m) => ({ rids: range(m.inputBase, m.count), deviceIds: range(m.outputBase, m.count), its: m.target })),
      functions: fns,
    };
  });
}

/** The report of a finished (or stopped) run. */
export function buildReport(r: ReportInput): ScenarioReport {
  const diag = r.platform.diagnostics.recent();
  const all = [...[...r.devs.values()].map((d) => ({ d, b: r.guest.bound.get(d.name) ?? null, removed: false })), ...r.gone.map((g) => ({ ...g, removed: true }))];
  const devices: ReportDevice[] = all.map(({ d, b, removed }) => {
    const delivered = r.interrupts.delivered((src) => src === `${d.name} hot-plug` || src.startsWith(`${d.name} vector `));
    const mine = diag.filter((x) => x.source === d.fn.name);
    return {
      name: d.name,
      model: d.model,
      removed,
      bdf: b?.fn.bdf ?? null,
      streamId: b?.streamId == null ? null : hex(b.streamId),
      deviceId: b?.deviceId == null ? null : hex(b.deviceId),
      dma: { ...d.dma },
      msi: {
        signalled: delivered + mine.filter((x) => x.kind === 'msi-dropped' || x.kind === 'msi-aborted').length,
        delivered,
        dropped: mine.filter((x) => x.kind === 'msi-dropped').length,
        aborted: mine.filter((x) => x.kind === 'msi-aborted').length,
      },
      vectors: (b?.vectors ?? []).map((v) => ({ address: hex(v.address), data: hex(v.data), intid: v.intid })),
    };
  });
  const caches: Record<string, Record<string, number>> = {};
  for (const [n, smmu] of r.platform.smmus) caches[n] = { ...smmu.translator.stats() };
  const smmuCommands: Record<string, number> = {};
  for (const [n, d] of r.guest.smmus) smmuCommands[n] = d.cmdq?.stats.commands ?? 0;
  const dmaOk = devices.reduce((a, d) => a + d.dma.ok, 0);
  const dmaFaults = devices.reduce((a, d) => a + d.dma.faults, 0);
  const v2m = r.desc.gic.msi === 'v2m' ? (r.desc.gic.v2m ?? null) : null;
  const allMessages = r.guest.allMessages();
  const messages = allMessages.slice(0, r.detail);
  return {
    schema: 'vsmmu-run-report/2',
    scenario: { name: r.scenario.name, file: r.scenario.file, description: r.scenario.description },
    platform: {
      model: r.desc.model,
      msiController: r.desc.gic.msi,
      smmus: r.desc.smmus.map((s) => ({ name: s.name, base: hex(s.base), features: s.features, rootComplexes: s.rootComplexes })),
      its: r.desc.gic.msi === 'its' && r.desc.gic.its ? `${r.desc.gic.its.name} @ ${hex(r.desc.gic.its.base)}` : null,
      v2m: v2m ? `${v2m.name} @ ${hex(v2m.base)}` : null,
      v2mSpis: v2m ? { first: v2m.spiBase + 32, count: v2m.spiCount } : null,
    },
    topology: topology(r),
    steps: r.stepRecord.steps(),
    executions: r.stepRecord.executions,
    devices,
    events: r.events.list,
    eventGroups: r.events.groupList(),
    interrupts: r.interrupts.list,
    interruptGroups: r.interrupts.groupList(),
    caches,
    guest: { messages, smmuCommands, itsCommands: r.guest.its?.commandsIssued ?? 0 },
    diagnostics: r.platform.diagnostics.messages().slice(-50),
    expectations: { passed: r.passed, failed: r.failed, failures: r.failures },
    detail: {
      limit: r.detail,
      omitted: {
        executions: r.stepRecord.executionsOmitted,
        events: r.events.omitted,
        interrupts: r.interrupts.omitted,
        failures: r.failed - r.failures.length,
        messages: allMessages.length - messages.length,
      },
    },
    summary: {
      steps: r.done,
      dmaOk,
      dmaFaults,
      events: r.events.total,
      interrupts: r.interrupts.total,
      hotplugs: r.hotplugs,
      renumbers: r.renumbers,
      ok: r.failed === 0,
    },
  };
}
