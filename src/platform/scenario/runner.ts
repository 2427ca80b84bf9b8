// Runs a scenario: builds the Platform from its description with the requested device models,
// boots the reference guest (PCI enumeration, SMMU and ITS drivers, driver binding with DMA
// domains and MSI-X through the ITS), executes the steps through the guest's CPU bus exactly as
// a guest would (device registers in BARs, tables and queues in guest memory), services
// interrupts after every step (LPIs/SPIs taken and acknowledged by the "vCPU", the SMMU event
// queue drained by the guest's IRQ thread, pciehp on port interrupts) and checks expectations.
// Scenario mistakes (unknown names) are UserInputError with file:line; failed expectations are
// collected into the report (the CLI exits 1).
import { GuestOutOfMemory } from '../../guest/allocator.js';
import { ReferenceGuest, type BoundDevice } from '../../guest/guest.js';
import { ItsProbeError } from '../../guest/its-driver.js';
import { SmmuProbeError } from '../../guest/smmu-driver.js';
import type { FoundFunction } from '../../guest/pci-enum.js';
import type { DeviceDriverContext } from '../../guest/device-driver.js';
import { runDmaTransfer } from '../../guest/dma-engine-driver.js';
import { CQ_BYTES, QueueDriver, SQ_BYTES } from '../../guest/queue-driver.js';
import type { LpiSink, SpiSink } from '../../intc/sinks.js';
import type { PciFunction } from '../../pcie/function.js';
import { eventName, type SmmuEvent } from '../../spec/smmuv3/events.js';
import { UserInputError } from '../../util/errors.js';
import { hex } from '../../util/hex.js';
import type { PlatformDescription } from '../description.js';
import { deviceFactory, type DeviceModelName, type DeviceModels } from '../devices/factory.js';
import { Platform } from '../runtime/platform.js';
import { buildReport } from './build-report.js';
import type { Buffer, DevState, PendingEvent, PendingInterrupt } from './context.js';
import { expectStep, type ExpectContext } from './expect.js';
import { DEFAULT_DETAIL, EventRecord, InterruptRecord, Pending, StepRecord } from './record.js';
import type { ReportFailure, ReportInterrupt, ScenarioReport } from './report.js';
import type { Scenario, Step, StepBody } from './schema.js';

export interface RunOptions {
  /** Called after every executed step (including repeated ones). */
  readonly onProgress?: (done: number, total: number) => void;
  /** Single records kept per list in the report (executions, events, interrupts, failures); default DEFAULT_DETAIL. */
  readonly detail?: number;
}

function stepTotal(steps: readonly Step[]): number {
  let n = 0;
  for (const s of steps) n += s.kind === 'repeat' ? s.body.count * stepTotal(s.body.steps) : 1;
  return n;
}

export class ScenarioRun implements ExpectContext {
  readonly platform!: Platform;
  readonly guest!: ReferenceGuest;
  readonly models: DeviceModels;
  /** What the guest's test-device drivers use: the CPU bus, RAM, and the VMM servicing devices. */
  private readonly driverContext!: DeviceDriverContext;
  private readonly modelOf: Record<string, DeviceModelName>;
  private readonly devs = new Map<string, DevState>();
  /** Devices removed by unplug (kept for the report). */
  private readonly gone: { d: DevState; b: BoundDevice | null }[] = [];
  private readonly buffers = new Map<string, Buffer>();
  private readonly names = new Map<string, number>();
  private readonly detail: number;
  private readonly stepRecord: StepRecord;
  private readonly events: EventRecord;
  private readonly interrupts: InterruptRecord;
  /** Events / interrupts since the previous event / interrupt check. */
  private readonly freshEvents = new Pending<PendingEvent>();
  private readonly freshInterrupts = new Pending<PendingInterrupt>();
  private readonly pendingLpis: { pe: number; intid: number }[] = [];
  private readonly pendingSpis: number[] = [];
  lastDmaDevice: string | null = null;
  private readonly failures: ReportFailure[] = [];
  private failed = 0;
  private passed = 0;
  /** Bus-number gap of each root complex's last enumeration (rescans keep it). */
  private readonly busGaps = new Map<string, number>();
  private stepNo = 0;
  private done = 0;
  private total = 0;
  private hotplugs = 0;
  private renumbers = 0;
  private currentLine = 0;

  constructor(
    readonly scenario: Scenario,
    readonly desc: PlatformDescription,
    private readonly opts: RunOptions = {},
  ) {
    this.modelOf = { ...scenario.header.devices };
    this.detail = Math.max(0, opts.detail ?? DEFAULT_DETAIL);
    this.stepRecord = new StepRecord(scenario.steps, scenario.lineOf, this.detail);
    this.events = new EventRecord(this.detail);
    this.interrupts = new InterruptRecord(this.detail);
    const factory = deviceFactory(this.modelOf);
    this.models = factory.models;
    const lpi: LpiSink = {
      lpiPending: (pe, intid) => void this.pendingLpis.push({ pe, intid }),
      lpiCleared: () => {},
    };
    const spi: SpiSink = { spiPending: (intid) => void this.pendingSpis.push(intid) };
    try {
      this.platform = new Platform(desc, { callbacks: { lpi, spi }, endpoint: factory.endpoint });
      this.guest = new ReferenceGuest(desc, this.platform.bus, this.platform.memory, { defaultDomain: scenario.header.guest.defaultDomain });
      const platform = this.platform;
      this.driverContext = { bus: platform.bus, memory: platform.memory, settle: () => void platform.settle() };
    } catch (e) {
      if (e instanceof RangeError) this.fail(['platform'], `cannot run this platform: ${e.message}`);
      throw e;
    }
  }

  // ------------------------------------------------------------ boot

  private boot(): void {
    this.guest.boot();
    for (const [rcName, r] of this.platform.rootComplexes) {
      for (const [pname, port] of r.ports) if (port.hasSlot && port.hotplug) this.register(this.portKey(rcName, pname), rcName, 'port', port);
      for (const [dname, d] of r.devices) {
        const m = this.modelOf[dname];
        if (m && m !== 'generic') this.register(dname, rcName, m, d.functions[0]!);
      }
    }
    for (const d of this.devs.values()) this.bind(d);
    this.service();
    this.freshInterrupts.take();
    this.freshEvents.take();
  }

  /** A port's name in steps and reports: its own name when unique across root complexes, else "rc/name". */
  private portKey(rc: string, name: string): string {
    let n = 0;
    for (const r of this.platform.rootComplexes.values()) if (r.ports.has(name)) n++;
    return n > 1 ? `${rc}/${name}` : name;
  }

  private register(name: string, rc: string, model: DevState['model'], fn: PciFunction): DevState {
    const d: DevState = { name, rc, model, fn, dma: { ok: 0, faults: 0, bytes: 0, lastFault: null }, lastDma: null, queue: null };
    this.devs.set(name, d);
    return d;
  }

  /** The guest's enumeration record of a host function (by its current requester ID). */
  private found(d: DevState): FoundFunction | null {
    const rid = d.fn.requesterId();
    if (rid < 0) return null;
    return this.guest.findFunction(d.rc, rid >> 8, (rid >> 3) & 31, rid & 7);
  }

  private bind(d: DevState): void {
    const f = this.found(d);
    if (!f) {
      this.guest.messages.push(`${d.name}: not found by enumeration`);
      return;
    }
    const nvec = d.model === 'dma-engine' ? 2 : 1;
    this.guest.bindDevice(d.name, f, nvec);
    if (d.model === 'port') {
      this.guest.pci.get(d.rc)!.enableHotplug(f);
    } else if (d.model === 'queue') {
      this.initQueue(d, f);
    }
  }

  private initQueue(d: DevState, f: FoundFunction): void {
    const sqPa = this.guest.buffers.alloc(SQ_BYTES);
    const cqPa = this.guest.buffers.alloc(CQ_BYTES);
    const prot = { read: true, write: true, cache: true };
    const sq = this.guest.dmaMap(d.name, sqPa, SQ_BYTES, prot);
    const cq = this.guest.dmaMap(d.name, cqPa, CQ_BYTES, prot);
    if (!sq.ok || !cq.ok) {
      this.guest.messages.push(`${d.name}: cannot map its queues`);
      return;
    }
    d.queue = new QueueDriver(this.driverContext, f.bars[0]?.base ?? 0, { pa: sqPa, iova: sq.iova }, { pa: cqPa, iova: cq.iova });
  }

  // ------------------------------------------------------------ interrupt and event servicing

  private sourceOf(kind: 'lpi' | 'spi', intid: number): string | null {
    for (const b of this.guest.bound.values()) {
      const v = b.vectors.findIndex((x) => x.intid === intid);
      if (v >= 0) return this.devs.get(b.name)?.model === 'port' ? `${b.name} hot-plug` : `${b.name} vector ${v}`;
    }
    for (const [smmu, lpis] of this.guest.smmuLpis) {
      const i = lpis.indexOf(intid);
      if (kind === 'lpi' && i >= 0) return `${smmu} ${i === 0 ? 'eventq' : 'gerror'} (MSI)`;
    }
    if (kind === 'spi') {
      for (const s of this.desc.smmus) {
        for (const [k, i] of Object.entries(s.interrupts)) if (i && i.spi + 32 === intid) return `${s.name} ${k}`;
      }
    }
    return null;
  }

  /** What the vCPU and the guest's interrupt threads do after a step. */
  private service(): void {
    this.platform.settle(); // deferred device work (command queues, LPI scans) first
    for (let round = 0; round < 4 && (this.pendingLpis.length || this.pendingSpis.length); round++) {
      const lpis = this.pendingLpis.splice(0);
      const spis = this.pendingSpis.splice(0);
      const hotplugPorts: string[] = [];
      for (const l of lpis) {
        const source = this.sourceOf('lpi', l.intid);
        this.interrupt({ step: this.stepNo, line: this.currentLine, kind: 'lpi', intid: l.intid, pe: l.pe, source });
        this.platform.gic?.redistributors[l.pe]?.acknowledge(l.intid);
        if (source?.endsWith(' hot-plug')) hotplugPorts.push(source.slice(0, -' hot-plug'.length));
      }
      for (const s of spis) {
        const source = this.sourceOf('spi', s);
        this.interrupt({ step: this.stepNo, line: this.currentLine, kind: 'spi', intid: s, pe: null, source });
        if (source?.endsWith(' hot-plug')) hotplugPorts.push(source.slice(0, -' hot-plug'.length));
      }
      for (const p of hotplugPorts) this.pciehp(p);
    }
    for (const { smmu, events } of this.guest.drainEvents()) {
      for (const ev of events) {
        const device = [...this.guest.bound.values()].find((b) => b.smmu === smmu && b.streamId === ev.sid)?.name ?? null;
        this.event(smmu, ev, device);
      }
    }
  }

  private interrupt(i: ReportInterrupt): void {
    this.interrupts.add(i);
    this.freshInterrupts.add(`${i.kind}|${i.intid}|${i.source ?? ''}`, { kind: i.kind, intid: i.intid, source: i.source }, () => ({ kind: i.kind, intid: -1, source: 'others' }));
  }

  private event(smmu: string, ev: SmmuEvent, device: string | null): void {
    const addr = ev.inputHi * 0x1_0000_0000 + ev.inputLo;
    const type = eventName(ev.type);
    const text = this.eventText(ev, device);
    const access = ev.type >= 0x10 && ev.type <= 0x13 ? `${ev.pnu ? 'priv' : 'unpriv'} ${ev.ind ? 'inst' : 'data'} ${ev.rnw ? 'read' : 'write'}` : null;
    this.events.add({
      step: this.stepNo,
      line: this.currentLine,
      smmu,
      type,
      code: hex(ev.type, 2),
      streamId: hex(ev.sid),
      device,
      substreamId: ev.ssv ? hex(ev.ssid) : null,
      address: access !== null ? hex(addr) : null,
      access,
      text,
    });
    this.freshEvents.add(`${smmu}|${type}|${ev.sid}|${device ?? ''}|${addr}`, { smmu, type, device, address: addr, text }, () => ({ smmu, type: '*', device: null, address: -1, text: 'other events' }));
  }

  /** pciehp's interrupt thread for port `name`: ack Slot Status, rescan, bind new devices. */
  private pciehp(name: string): void {
    const port = this.devs.get(name);
    if (!port) return;
    const f = this.found(port);
    if (f) this.guest.pci.get(port.rc)!.ackSlotStatus(f);
    this.rescan(port.rc);
  }

  private rescan(rc: string): void {
    this.guest.enumerate(this.busGaps.get(rc) ?? 0, rc);
    const r = this.platform.rootComplexes.get(rc)!;
    for (const [dname, dev] of r.devices) {
      const m = this.modelOf[dname];
      if (!m || m === 'generic' || this.devs.has(dname)) continue;
      this.bind(this.register(dname, rc, m, dev.functions[0]!));
    }
    for (const d of this.devs.values()) {
      if (d.rc !== rc) continue;
      const f = this.found(d);
      if (!f) continue;
      // A function whose requester ID changed is bound again with its new IDs.
      if (this.guest.bound.get(d.name)?.fn.rid !== f.rid) this.guest.rebindDevice(d.name, f);
      else this.guest.refresh(d.name, f);
    }
  }

  // ------------------------------------------------------------ helpers

  fail(path: readonly (string | number)[], msg: string): never {
    throw new UserInputError(msg, `${this.scenario.file}:${this.scenario.lineOf(path)}`);
  }

  dev(step: Step, name: string): DevState {
    const d = this.devs.get(name);
    if (!d) {
      const known = [...this.devs.keys()];
      this.fail(
        [...step.path, step.kind, 'device'],
        `unknown device '${name}' (${known.length ? `devices: ${known.join(', ')}` : 'this scenario has no devices: give endpoints a model under "devices:" or hot-plug one first'})`,
      );
    }
    return d;
  }

  private bound(step: Step, d: DevState): BoundDevice {
    const b = this.guest.bound.get(d.name);
    if (!b) this.fail([...step.path, step.kind, 'device'], `device '${d.name}' is not bound by the guest (removed or not found)`);
    return b;
  }

  buffer(step: Step, name: string, key = 'buffer'): Buffer {
    const b = this.buffers.get(name);
    if (!b) this.fail([...step.path, step.kind, key], `unknown buffer '${name}' (allocate it with an alloc step first)`);
    return b;
  }

  ref(step: Step, v: number | string, key: string): number {
    if (typeof v === 'number') return v;
    const m = /^([A-Za-z][A-Za-z0-9_.-]*)\s*(?:\+\s*(\S+))?$/.exec(v)!;
    const base = this.names.get(m[1]!);
    if (base === undefined) this.fail([...step.path, step.kind, key], `unknown address name '${m[1]}' (bind it with a map step's 'as')`);
    return base + (m[2] ? Number(BigInt(m[2].replace(/_/g, ''))) : 0);
  }

  private bar(step: Step, d: DevState): number {
    const f = this.found(d);
    const base = f?.bars[0]?.base;
    if (base === undefined) this.fail([...step.path, step.kind, 'device'], `device '${d.name}' has no assigned BAR (not enumerated)`);
    return base;
  }

  info(step: Step, summary: string): void {
    this.stepRecord.add(step, this.stepNo, this.currentLine, summary, 'info');
  }

  check(step: Step, what: string, ok: boolean, expected: string, actual: string): void {
    if (ok) this.passed++;
    else {
      this.failed++;
      if (this.failures.length < this.detail) this.failures.push({ step: this.stepNo, line: this.currentLine, what, expected, actual });
    }
    this.stepRecord.add(step, this.stepNo, this.currentLine, ok ? `${what}: ${actual}` : `${what}: expected ${expected}, got ${actual}`, ok ? 'ok' : 'failed');
  }

  device(name: string): DevState | undefined {
    return this.devs.get(name);
  }

  get memory(): Platform['memory'] {
    return this.platform.memory;
  }

  takeEvents(): { item: PendingEvent; count: number }[] {
    return this.freshEvents.take();
  }

  takeInterrupts(): { item: PendingInterrupt; count: number }[] {
    return this.freshInterrupts.take();
  }

  // ------------------------------------------------------------ run

  run(): ScenarioReport {
    this.total = stepTotal(this.scenario.steps);
    try {
      this.boot();
    } catch (e) {
      if (e instanceof SmmuProbeError || e instanceof ItsProbeError || e instanceof GuestOutOfMemory) this.fail(['platform'], `the reference guest cannot boot this platform: ${e.message}`);
      throw e;
    }
    this.runSteps(this.scenario.steps);
    return buildReport({
      scenario: this.scenario,
      desc: this.desc,
      platform: this.platform,
      guest: this.guest,
      modelOf: this.modelOf,
      devs: this.devs,
      gone: this.gone,
      stepRecord: this.stepRecord,
      events: this.events,
      interrupts: this.interrupts,
      failures: this.failures,
      passed: this.passed,
      failed: this.failed,
      detail: this.detail,
      done: this.done,
      hotplugs: this.hotplugs,
      renumbers: this.renumbers,
    });
  }

  private runSteps(steps: readonly Step[]): void {
    for (const s of steps) {
      if (s.kind === 'repeat') {
        this.stepRecord.enterRepeat(s, s.body.count * stepTotal(s.body.steps));
        for (let i = 0; i < s.body.count; i++) this.runSteps(s.body.steps);
        continue;
      }
      this.stepNo++;
      this.currentLine = this.scenario.lineOf(s.path);
      try {
        this.execute(s);
      } catch (e) {
        if (e instanceof GuestOutOfMemory) this.fail([...s.path, s.kind], e.message);
        throw e;
      }
      this.service();
      this.done++;
      this.opts.onProgress?.(this.done, this.total);
    }
  }

  private execute(s: Step): void {
    switch (s.kind) {
      case 'note':
        this.info(s, s.body);
        return;
      case 'alloc':
        return this.alloc(s, s.body);
      case 'write':
        return this.writeBuffer(s, s.body);
      case 'map':
        return this.map(s, s.body);
      case 'unmap':
        return this.unmap(s, s.body);
      case 'dma':
        return this.dma(s, s.body);
      case 'queue':
        return this.queue(s, s.body);
      case 'msi':
        return this.msi(s, s.body);
      case 'hotplug':
        return this.hotplug(s, s.body);
      case 'unplug':
        return this.unplug(s, s.body);
      case 'renumber':
        return this.renumber(s, s.body);
      case 'tlbi':
        return this.tlbi(s, s.body);
      case 'inject':
        return this.inject(s, s.body);
      case 'expect':
        return expectStep(this, s, s.body);
      case 'repeat':
        return;
    }
  }

  private alloc(s: Step, b: StepBody<'alloc'>): void {
    if (this.buffers.has(b.buffer)) this.fail([...s.path, 'alloc', 'buffer'], `buffer '${b.buffer}' already allocated`);
    const pa = this.guest.buffers.alloc(b.size);
    if (b.fill !== undefined) this.platform.memory.writeBytes(pa, new Uint8Array(b.size).fill(b.fill));
    this.buffers.set(b.buffer, { pa, size: b.size });
    this.info(s, `${b.buffer}: ${hex(b.size)} bytes at PA ${hex(pa)}${b.fill !== undefined ? ` filled with ${hex(b.fill, 2)}` : ''}`);
  }

  private writeBuffer(s: Step, b: StepBody<'write'>): void {
    const buf = this.buffer(s, b.buffer);
    const bytes = Uint8Array.from(b.bytes.trim().split(/\s+/).join('').match(/../g)!.map((x) => parseInt(x, 16)));
    if (b.offset + bytes.length > buf.size) this.fail([...s.path, 'write', 'bytes'], 'write beyond the buffer');
    this.platform.memory.writeBytes(buf.pa + b.offset, bytes);
    this.info(s, `${bytes.length} bytes written to ${b.buffer}+${hex(b.offset)}`);
  }

  private map(s: Step, b: StepBody<'map'>): void {
    const d = this.dev(s, b.device);
    this.bound(s, d);
    const buf = this.buffer(s, b.buffer);
    const size = b.size ?? buf.size - b.offset;
    const coherent = this.desc.rootComplexes.find((r) => r.name === d.rc)?.dmaCoherent ?? true;
    const prot = { read: b.perm !== 'w', write: b.perm !== 'r', cache: coherent };
    const r = this.guest.dmaMap(d.name, buf.pa + b.offset, size, prot, b.iova);
    const as = b.as ?? b.buffer;
    if (!r.ok) {
      this.check(s, `map ${b.buffer} for ${d.name}`, false, 'mapped', r.reason);
      return;
    }
    this.names.set(as, r.iova);
    this.info(s, `${d.name}: ${as} = IOVA ${hex(r.iova)} -> PA ${hex(buf.pa + b.offset)} (${hex(size)} bytes, ${b.perm})`);
  }

  private unmap(s: Step, b: StepBody<'unmap'>): void {
    const d = this.dev(s, b.device);
    this.bound(s, d);
    const iova = this.ref(s, b.iova, 'iova');
    const n = this.guest.dmaUnmap(d.name, iova, b.size);
    this.info(s, `${d.name}: unmapped ${hex(n)} bytes at IOVA ${hex(iova)} (TLBI + CMD_SYNC)`);
  }

  private dma(s: Step, b: StepBody<'dma'>): void {
    const d = this.dev(s, b.device);
    if (d.model !== 'dma-engine') this.fail([...s.path, 'dma', 'device'], `device '${d.name}' is not a dma-engine`);
    if (b.op === 'copy' && b.from === undefined) this.fail([...s.path, 'dma'], "a copy needs 'from'");
    const bar = this.bar(s, d);
    const from = b.from === undefined ? 0 : this.ref(s, b.from, 'from');
    const to = this.ref(s, b.to, 'to');
    const out = runDmaTransfer(this.driverContext, bar, { op: b.op, from, to, length: b.length, pattern: b.pattern });
    const ok = out.ok;
    const engine = this.models.dmaEngines.get(d.name);
    const reason = ok ? null : (engine?.lastFault?.reason ?? 'error');
    d.lastDma = { ok, reason };
    this.lastDmaDevice = d.name;
    d.dma.bytes += out.doneBytes;
    if (ok) d.dma.ok++;
    else {
      d.dma.faults++;
      d.dma.lastFault = `${reason} at ${hex(out.faultAddress ?? 0)}`;
    }
    const what = b.op === 'copy' ? `copy ${hex(b.length)} bytes ${hex(from)} -> ${hex(to)}` : `fill ${hex(b.length)} bytes at ${hex(to)} with ${hex(b.pattern)}`;
    this.info(s, `${d.name}: ${what}: ${ok ? 'done' : `fault (${d.dma.lastFault})`}`);
  }

  private queue(s: Step, b: StepBody<'queue'>): void {
    const d = this.dev(s, b.device);
    const q = d.queue;
    if (d.model !== 'queue' || q === null) this.fail([...s.path, 'queue', 'device'], `device '${d.name}' is not a bound queue device`);
    const bar = this.bar(s, d);
    const iova = this.ref(s, b.buffer, 'buffer');
    const out = q.submit(bar, { op: b.op, iova, lba: b.lba, length: b.length });
    if (out.ok) {
      d.dma.ok++;
      d.dma.bytes += b.length;
    } else d.dma.faults++;
    this.info(s, `${d.name}: ${b.op} ${hex(b.length)} bytes at LBA ${b.lba} via IOVA ${hex(iova)}: ${out.text}`);
  }

  private msi(s: Step, b: StepBody<'msi'>): void {
    const d = this.dev(s, b.device);
    const out = d.fn.signal(b.vector);
    this.info(s, `${d.name}: vector ${b.vector} signalled: ${out}`);
  }

  private hotplug(s: Step, b: StepBody<'hotplug'>): void {
    if (this.platform.device(b.device) || this.devs.has(b.device)) this.fail([...s.path, 'hotplug', 'device'], `a device named '${b.device}' already exists`);
    if (!this.platform.port(b.port)) this.fail([...s.path, 'hotplug', 'port'], `no unique port named '${b.port}'`);
    this.modelOf[b.device] = b.model;
    try {
      this.platform.hotplug(b.port, { kind: 'endpoint', name: b.device, device: 0, functions: b.functions });
    } catch (e) {
      this.fail([...s.path, 'hotplug'], e instanceof Error ? e.message : String(e));
    }
    this.hotplugs++;
    // Without an MSI controller the port cannot interrupt: pciehp polls the slot instead.
    if (this.desc.gic.msi === 'none') this.pciehp(this.portKey(this.platform.port(b.port)!.rc.rc.name, b.port.replace(/^.*\//, '')));
    this.info(s, `${b.device} (${b.model}) hot-plugged below ${b.port}`);
  }

  private unplug(s: Step, b: StepBody<'unplug'>): void {
    if (!this.platform.port(b.port)) this.fail([...s.path, 'unplug', 'port'], `no unique port named '${b.port}'`);
    let gone: string | null = null;
    try {
      gone = this.platform.unplug(b.port);
    } catch (e) {
      this.fail([...s.path, 'unplug'], e instanceof Error ? e.message : String(e));
    }
    if (gone) {
      const d = this.devs.get(gone);
      if (d) this.gone.push({ d, b: this.guest.bound.get(gone) ?? null });
      this.guest.unbindDevice(gone);
      this.devs.delete(gone);
    }
    this.hotplugs++;
    this.info(s, gone ? `${gone} removed from ${b.port}` : `${b.port} was empty`);
  }

  private renumber(s: Step, b: StepBody<'renumber'>): void {
    if (!this.platform.rootComplexes.has(b.rootComplex)) this.fail([...s.path, 'renumber', 'rootComplex'], `unknown root complex '${b.rootComplex}' (root complexes: ${[...this.platform.rootComplexes.keys()].join(', ')})`);
    this.busGaps.set(b.rootComplex, b.busGap);
    this.guest.enumerate(b.busGap, b.rootComplex);
    const moved: string[] = [];
    for (const d of this.devs.values()) {
      if (d.rc !== b.rootComplex) continue;
      const f = this.found(d);
      if (!f) continue;
      const nb = this.guest.rebindDevice(d.name, f);
      if (nb) moved.push(`${d.name} ${nb.fn.bdf}${nb.streamId !== null ? ` SID ${hex(nb.streamId)}` : ''}${nb.deviceId !== null ? ` DevID ${hex(nb.deviceId)}` : ''}`);
    }
    this.renumbers++;
    this.info(s, `${b.rootComplex} renumbered (bus gap ${b.busGap}): ${moved.join('; ')}`);
  }

  private tlbi(s: Step, b: StepBody<'tlbi'>): void {
    const d = this.dev(s, b.device);
    const bd = this.bound(s, d);
    if (!bd.domain || !bd.smmu) {
      this.info(s, `${d.name}: no DMA domain, nothing to invalidate`);
      return;
    }
    const drv = this.guest.smmus.get(bd.smmu)!;
    if (b.iova === undefined) {
      drv.flushAll(bd.domain);
      this.info(s, `${d.name}: TLBI_NH_ASID ${bd.domain.asid} + CMD_SYNC`);
      return;
    }
    const iova = this.ref(s, b.iova, 'iova');
    const size = b.size ?? 0x1000;
    drv.cmdq!.issue(drv.tlbiRange(bd.domain.asid, iova, size, 0x1000, true));
    this.info(s, `${d.name}: TLBI_NH_VA ${hex(iova)}+${hex(size)} ASID ${bd.domain.asid} + CMD_SYNC`);
  }

  private inject(s: Step, b: StepBody<'inject'>): void {
    const need = (k: 'device' | 'iova' | 'buffer'): void => {
      if (b[k] === undefined) this.fail([...s.path, 'inject'], `inject ${b.kind} needs '${k}'`);
    };
    if (b.kind === 'illegal-command') {
      const drv = this.guest.smmus.values().next().value;
      if (!drv) this.fail([...s.path, 'inject'], 'no SMMU in the platform');
      drv.injectIllegalCommand();
      this.info(s, `${drv.opts.name}: illegal command (opcode 0x7f) issued`);
      return;
    }
    need('device');
    const d = this.dev(s, b.device!);
    const bd = this.bound(s, d);
    if (!bd.smmu || bd.streamId === null || !bd.domain) this.fail([...s.path, 'inject', 'device'], `device '${d.name}' is not behind an SMMU`);
    const drv = this.guest.smmus.get(bd.smmu)!;
    const sid = bd.streamId;
    switch (b.kind) {
      case 'ste-invalid':
        drv.injectInvalidSte(sid);
        this.info(s, `${d.name}: STE ${hex(sid)} V=0 + CFGI_STE`);
        return;
      case 'ste-illegal':
        drv.injectIllegalSte(sid);
        this.info(s, `${d.name}: STE ${hex(sid)} Config=S2 with no stage-2 fields + CFGI_STE`);
        return;
      case 'cd-invalid': {
        drv.injectInvalidCd(bd.domain, sid);
        this.info(s, `${d.name}: CD V=0 + CFGI_CD`);
        return;
      }
      case 'pte-rewrite': {
        need('iova');
        need('buffer');
        const iova = this.ref(s, b.iova!, 'iova');
        const buf = this.buffer(s, b.buffer!);
        if (!drv.injectStalePte(bd.domain, iova, buf.pa)) this.fail([...s.path, 'inject', 'iova'], `IOVA ${hex(iova)} is not mapped for ${d.name}`);
        this.info(s, `${d.name}: PTE for IOVA ${hex(iova)} now points at ${b.buffer} (PA ${hex(buf.pa)}), no TLBI`);
        return;
      }
    }
  }

  private eventText(ev: SmmuEvent, dev: string | null): string {
    const addr = ev.inputHi * 0x1_0000_0000 + ev.inputLo;
    return `${eventName(ev.type)} SID ${hex(ev.sid)}${dev ? ` (${dev})` : ''}${addr ? ` at ${hex(addr)}` : ''}`;
  }
}

/** Runs a loaded scenario on its platform and returns the report. */
export function runScenario(scenario: Scenario, desc: PlatformDescription, opts: RunOptions = {}): ScenarioReport {
  return new ScenarioRun(scenario, desc, opts).run();
}

