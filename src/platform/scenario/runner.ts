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
import { cmd } from '../../guest/smmu-cmdq.js';
import type { LpiSink, SpiSink } from '../../intc/sinks.js';
import type { PciFunction } from '../../pcie/function.js';
import { PciePort } from '../../pcie/port.js';
import { encodeFields } from '../../spec/bits.js';
import { CD } from '../../spec/smmuv3/cd.js';
import { eventName, type SmmuEvent } from '../../spec/smmuv3/events.js';
import { STE, STE_CONFIG } from '../../spec/smmuv3/ste.js';
import { UserInputError } from '../../util/errors.js';
import { hex } from '../../util/hex.js';
import type { PlatformDescription } from '../description.js';
import { enumerateRootComplex } from '../enumerate.js';
import { deviceFactory, type DeviceModelName, type DeviceModels } from '../devices/factory.js';
import { DMA_ENGINE_CMD_IRQ, DMA_ENGINE_OP, DMA_ENGINE_REG, DMA_ENGINE_STATUS } from '../devices/dma-engine.js';
import { QDEV_CQE, QDEV_OP, QDEV_REG, QDEV_SC, QDEV_SQE } from '../devices/queue-device.js';
import { Platform } from '../runtime/platform.js';
import { DEFAULT_DETAIL, EventRecord, InterruptRecord, Pending, StepRecord } from './record.js';
import type { ReportDevice, ReportEvent, ReportFailure, ReportFunction, ReportInterrupt, ReportRootComplex, ScenarioReport } from './report.js';
import type { Scenario, Step, StepBody } from './schema.js';

export interface RunOptions {
  /** Called after every executed step (including repeated ones). */
  readonly onProgress?: (done: number, total: number) => void;
  /** Single records kept per list in the report (executions, events, interrupts, failures); default DEFAULT_DETAIL. */
  readonly detail?: number;
}

interface DevState {
  readonly name: string;
  readonly rc: string;
  readonly model: DeviceModelName | 'port';
  fn: PciFunction;
  dma: { ok: number; faults: number; bytes: number; lastFault: string | null };
  lastDma: { ok: boolean; reason: string | null } | null;
  queue: { sq: number; cq: number; size: number; tail: number; head: number; phase: number; cid: number; last: 'ok' | 'error' | null } | null;
}

/** An event as an `expect` step matches it. */
interface PendingEvent {
  readonly smmu: string;
  readonly type: string;
  readonly device: string | null;
  /** Input address (-1: several, in the catch-all). */
  readonly address: number;
  readonly text: string;
}

type PendingInterrupt = Pick<ReportInterrupt, 'kind' | 'intid' | 'source'>;

const QUEUE_ENTRIES = 16;

function stepTotal(steps: readonly Step[]): number {
  let n = 0;
  for (const s of steps) n += s.kind === 'repeat' ? s.body.count * stepTotal(s.body.steps) : 1;
  return n;
}

export class ScenarioRun {
  readonly platform!: Platform;
  readonly guest!: ReferenceGuest;
  readonly models: DeviceModels;
  private readonly modelOf: Record<string, DeviceModelName>;
  private readonly devs = new Map<string, DevState>();
  /** Devices removed by unplug (kept for the report). */
  private readonly gone: { d: DevState; b: BoundDevice | null }[] = [];
  private readonly buffers = new Map<string, { pa: number; size: number }>();
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
  private lastDmaDevice: string | null = null;
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
    const sqBytes = QUEUE_ENTRIES * QDEV_SQE.BYTES;
    const cqBytes = QUEUE_ENTRIES * QDEV_CQE.BYTES;
    const sqPa = this.guest.buffers.alloc(sqBytes);
    const cqPa = this.guest.buffers.alloc(cqBytes);
    const prot = { read: true, write: true, cache: true };
    const sq = this.guest.dmaMap(d.name, sqPa, sqBytes, prot);
    const cq = this.guest.dmaMap(d.name, cqPa, cqBytes, prot);
    if (!sq.ok || !cq.ok) {
      this.guest.messages.push(`${d.name}: cannot map its queues`);
      return;
    }
    const bar = f.bars[0]?.base ?? 0;
    const w = (o: number, v: number): void => this.platform.bus.write(bar + o, 4, v >>> 0);
    w(QDEV_REG.SQ_BASE_LO, sq.iova);
    w(QDEV_REG.SQ_BASE_HI, Math.floor(sq.iova / 0x1_0000_0000));
    w(QDEV_REG.CQ_BASE_LO, cq.iova);
    w(QDEV_REG.CQ_BASE_HI, Math.floor(cq.iova / 0x1_0000_0000));
    w(QDEV_REG.QSIZE, QUEUE_ENTRIES);
    w(QDEV_REG.CTRL, 1);
    d.queue = { sq: sqPa, cq: cqPa, size: QUEUE_ENTRIES, tail: 0, head: 0, phase: 1, cid: 0, last: null };
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

  private fail(path: readonly (string | number)[], msg: string): never {
    throw new UserInputError(msg, `${this.scenario.file}:${this.scenario.lineOf(path)}`);
  }

  private dev(step: Step, name: string): DevState {
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

  private buffer(step: Step, name: string, key = 'buffer'): { pa: number; size: number } {
    const b = this.buffers.get(name);
    if (!b) this.fail([...step.path, step.kind, key], `unknown buffer '${name}' (allocate it with an alloc step first)`);
    return b;
  }

  private ref(step: Step, v: number | string, key: string): number {
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

  private info(step: Step, summary: string): void {
    this.stepRecord.add(step, this.stepNo, this.currentLine, summary, 'info');
  }

  private check(step: Step, what: string, ok: boolean, expected: string, actual: string): void {
    if (ok) this.passed++;
    else {
      this.failed++;
      if (this.failures.length < this.detail) this.failures.push({ step: this.stepNo, line: this.currentLine, what, expected, actual });
    }
    this.stepRecord.add(step, this.stepNo, this.currentLine, ok ? `${what}: ${actual}` : `${what}: expected ${expected}, got ${actual}`, ok ? 'ok' : 'failed');
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
    return this.report();
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
        return this.expect(s, s.body);
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
    const bus = this.platform.bus;
    const w = (o: number, v: number): void => bus.write(bar + o, 4, v >>> 0);
    const from = b.from === undefined ? 0 : this.ref(s, b.from, 'from');
    const to = this.ref(s, b.to, 'to');
    const R = DMA_ENGINE_REG;
    w(R.SRC_LO, from);
    w(R.SRC_HI, Math.floor(from / 0x1_0000_0000));
    w(R.DST_LO, to);
    w(R.DST_HI, Math.floor(to / 0x1_0000_0000));
    w(R.LEN, b.length);
    w(R.PATTERN, b.pattern);
    w(R.CMD, (b.op === 'copy' ? DMA_ENGINE_OP.COPY : DMA_ENGINE_OP.FILL) | DMA_ENGINE_CMD_IRQ);
    this.platform.settle(); // the transfer runs in slices: let it complete
    const status = bus.read(bar + R.STATUS, 4);
    const doneBytes = bus.read(bar + R.DONE, 4);
    const ok = status === DMA_ENGINE_STATUS.DONE;
    const engine = this.models.dmaEngines.get(d.name);
    const reason = ok ? null : (engine?.lastFault?.reason ?? 'error');
    d.lastDma = { ok, reason };
    this.lastDmaDevice = d.name;
    d.dma.bytes += doneBytes;
    if (ok) d.dma.ok++;
    else {
      d.dma.faults++;
      d.dma.lastFault = `${reason} at ${hex(bus.read(bar + R.FAULT_LO, 4) + bus.read(bar + R.FAULT_HI, 4) * 0x1_0000_0000)}`;
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
    const mem = this.platform.memory;
    const sqe = new Uint8Array(QDEV_SQE.BYTES);
    const v = new DataView(sqe.buffer);
    const cid = (q.cid = (q.cid + 1) & 0xffff);
    v.setUint8(QDEV_SQE.OPCODE, b.op === 'write' ? QDEV_OP.WRITE : QDEV_OP.READ);
    v.setUint16(QDEV_SQE.CID, cid, true);
    v.setBigUint64(QDEV_SQE.BUFFER, BigInt(iova), true);
    v.setUint32(QDEV_SQE.LBA, b.lba, true);
    v.setUint32(QDEV_SQE.LENGTH, b.length, true);
    mem.writeBytes(q.sq + q.tail * QDEV_SQE.BYTES, sqe);
    q.tail = (q.tail + 1) % q.size;
    this.platform.bus.write(bar + QDEV_REG.SQ_TAIL, 4, q.tail);
    // The guest polls its completion queue while the VMM services the device (a doorbell only
    // starts the queue; large transfers finish in later slices).
    this.platform.settle();
    // Completion: the entry at the CQ head carries the current phase once posted.
    const cqe = new Uint8Array(QDEV_CQE.BYTES);
    mem.readBytes(q.cq + q.head * QDEV_CQE.BYTES, cqe);
    const cv = new DataView(cqe.buffer);
    let result: string;
    if ((cv.getUint32(QDEV_CQE.PHASE, true) & 1) !== q.phase || cv.getUint16(QDEV_CQE.CID, true) !== cid) {
      q.last = 'error';
      result = 'no completion (device fault)';
    } else {
      const sc = cv.getUint16(QDEV_CQE.STATUS, true);
      q.last = sc === QDEV_SC.OK ? 'ok' : 'error';
      result = sc === QDEV_SC.OK ? 'completed' : `completed with status ${hex(sc)}`;
      q.head = (q.head + 1) % q.size;
      if (q.head === 0) q.phase ^= 1;
      this.platform.bus.write(bar + QDEV_REG.CQ_HEAD, 4, q.head);
    }
    if (q.last === 'ok') {
      d.dma.ok++;
      d.dma.bytes += b.length;
    }
    else d.dma.faults++;
    this.info(s, `${d.name}: ${b.op} ${hex(b.length)} bytes at LBA ${b.lba} via IOVA ${hex(iova)}: ${result}`);
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
      // A Reserved opcode: CERROR_ILL, GERROR.CMDQ_ERR, the driver's skip-and-acknowledge recovery.
      drv.cmdq!.issue([[0x7fn, 0n]]);
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
        drv.writeRawSte(sid, [0n]);
        this.info(s, `${d.name}: STE ${hex(sid)} V=0 + CFGI_STE`);
        return;
      case 'ste-illegal':
        drv.writeRawSte(sid, encodeFields(STE, { V: 1, CONFIG: STE_CONFIG.S2 }, 4));
        this.info(s, `${d.name}: STE ${hex(sid)} Config=S2 with no stage-2 fields + CFGI_STE`);
        return;
      case 'cd-invalid': {
        const w = drv.cdWords(bd.domain);
        const v0 = w[0]! & ~encodeFields(CD, { V: 1 }, 1)[0]!;
        this.platform.memory.write64(bd.domain.cdTable, Number(v0 & 0xffff_ffffn), Number(v0 >> 32n));
        drv.cmdq!.issue([cmd('CFGI_CD', { SID: sid, SSID: 0, LEAF: 1 })]);
        this.info(s, `${d.name}: CD V=0 + CFGI_CD`);
        return;
      }
      case 'pte-rewrite': {
        need('iova');
        need('buffer');
        const iova = this.ref(s, b.iova!, 'iova');
        const buf = this.buffer(s, b.buffer!);
        if (!bd.domain.pgtable.rewriteLeaf(iova, buf.pa)) this.fail([...s.path, 'inject', 'iova'], `IOVA ${hex(iova)} is not mapped for ${d.name}`);
        this.info(s, `${d.name}: PTE for IOVA ${hex(iova)} now points at ${b.buffer} (PA ${hex(buf.pa)}), no TLBI`);
        return;
      }
    }
  }

  // ------------------------------------------------------------ expectations

  private expect(s: Step, b: StepBody<'expect'>): void {
    if (b.dma) {
      const name = b.dma.device ?? this.lastDmaDevice;
      const d = name ? this.devs.get(name) : undefined;
      const last = d?.lastDma ?? null;
      const actual = last === null ? 'no DMA yet' : last.ok ? 'ok' : `fault ${last.reason}`;
      const ok = last !== null && (b.dma.result === 'ok' ? last.ok : !last.ok && (b.dma.reason === undefined || (last.reason ?? '').includes(b.dma.reason)));
      this.check(s, `dma ${name ?? ''}`.trim(), ok, b.dma.result === 'ok' ? 'ok' : `fault${b.dma.reason ? ` ${b.dma.reason}` : ''}`, actual);
      return;
    }
    if (b.event) {
      const e = b.event;
      const iova = e.iova !== undefined ? this.ref(s, e.iova, 'iova') : null;
      const fresh = this.freshEvents.take();
      const total = fresh.reduce((a, x) => a + x.count, 0);
      let hits = 0;
      for (const { item: r, count } of fresh) {
        if (r.type === e.type && (e.smmu === undefined || r.smmu === e.smmu) && (e.device === undefined || r.device === e.device) && (iova === null || r.address === iova)) hits += count;
      }
      const ok = e.count !== undefined ? hits === e.count : hits > 0;
      const want = `${e.count ?? '>= 1'} × ${e.type}${e.device ? ` from ${e.device}` : ''}${iova !== null ? ` at ${hex(iova)}` : ''}`;
      this.check(s, 'event', ok, want, total ? `${hits} matching of ${total}: ${counted(fresh.map((x) => ({ text: x.item.text, count: x.count })))}` : 'no events');
      return;
    }
    if (b.noEvents) {
      const fresh = this.freshEvents.take();
      this.check(s, 'no events', fresh.length === 0, 'no events', fresh.length ? counted(fresh.map((x) => ({ text: x.item.text, count: x.count }))) : 'no events');
      return;
    }
    if (b.interrupt) {
      const i = b.interrupt;
      const fresh = this.freshInterrupts.take();
      const src = i.device !== undefined ? (this.devs.get(i.device)?.model === 'port' ? `${i.device} hot-plug` : `${i.device} vector ${i.vector ?? 0}`) : null;
      const matches = (r: PendingInterrupt): boolean => (src === null || r.source === src) && (i.lpi === undefined || (r.kind === 'lpi' && r.intid === i.lpi)) && (i.spi === undefined || (r.kind === 'spi' && r.intid === i.spi));
      const total = fresh.reduce((a, x) => a + x.count, 0);
      const hitList = fresh.filter((x) => matches(x.item));
      const hits = hitList.reduce((a, x) => a + x.count, 0);
      const ok = i.count !== undefined ? hits === i.count : hits > 0;
      const want = `${i.count ?? '>= 1'} × ${src ?? ''}${i.lpi !== undefined ? ` LPI ${i.lpi}` : ''}${i.spi !== undefined ? ` SPI INTID ${i.spi}` : ''}`.replace(/ +/g, ' ');
      const shown = hits && ok ? hitList : fresh;
      const text = counted(shown.map(({ item: r, count }) => ({ text: `${r.kind.toUpperCase()} ${r.intid}${r.source ? ` (${r.source})` : ''}`, count })));
      this.check(s, 'interrupt', ok, want.trim(), total ? `${text}${ok && total > hits ? ` (+${total - hits} other)` : ''}` : 'no interrupts');
      return;
    }
    if (b.noInterrupts) {
      const fresh = this.freshInterrupts.take();
      this.check(s, 'no interrupts', fresh.length === 0, 'no interrupts', fresh.length ? counted(fresh.map(({ item: r, count }) => ({ text: `${r.kind.toUpperCase()} ${r.intid}`, count }))) : 'no interrupts');
      return;
    }
    if (b.data) {
      const x = b.data;
      const buf = this.buffer(s, x.buffer);
      let expected: Uint8Array;
      if (x.equals !== undefined) expected = Uint8Array.from(x.equals.replace(/\s+/g, '').match(/../g) ?? [], (h) => parseInt(h, 16));
      else if (x.sameAs !== undefined) {
        const o = this.buffer(s, x.sameAs, 'sameAs');
        expected = new Uint8Array(Math.min(x.length ?? o.size, o.size));
        this.platform.memory.readBytes(o.pa, expected);
      } else if (x.fill !== undefined) expected = new Uint8Array(x.length ?? buf.size - x.offset).fill(x.fill);
      else this.fail([...s.path, 'expect', 'data'], "expect data needs 'equals', 'sameAs' or 'fill'");
      const n = Math.min(expected.length, Math.max(0, buf.size - x.offset));
      const actual = new Uint8Array(n);
      this.platform.memory.readBytes(buf.pa + x.offset, actual);
      let bad = n < expected.length ? n : -1;
      for (let k = 0; k < n && bad < 0; k++) if (actual[k] !== expected[k]) bad = k;
      const show = (a: Uint8Array, at: number): string => [...a.subarray(at, at + 8)].map((v) => v.toString(16).padStart(2, '0')).join(' ');
      const what = `data ${x.buffer}+${hex(x.offset)} (${hex(expected.length)} bytes)`;
      if (bad < 0) this.check(s, what, true, '', `matches (${show(actual, 0)}${n > 8 ? ' ...' : ''})`);
      else this.check(s, what, false, `at +${hex(bad)}: ${show(expected, bad)}`, `at +${hex(bad)}: ${show(actual, bad)}`);
      return;
    }
    if (b.queue) {
      const d = this.devs.get(b.queue.device);
      const last = d?.queue?.last ?? null;
      this.check(s, `queue ${b.queue.device}`, last === b.queue.status, b.queue.status, last ?? 'no command yet');
    }
  }

  private eventText(ev: SmmuEvent, dev: string | null): string {
    const addr = ev.inputHi * 0x1_0000_0000 + ev.inputLo;
    return `${eventName(ev.type)} SID ${hex(ev.sid)}${dev ? ` (${dev})` : ''}${addr ? ` at ${hex(addr)}` : ''}`;
  }

  // ------------------------------------------------------------ report

  private topology(): ReportRootComplex[] {
    return this.desc.rootComplexes.map((rcDesc, i) => {
      const maps = this.platform.ids.rootComplexes[i]!;
      const rt = this.platform.rootComplexes.get(rcDesc.name)!;
      const fns: ReportFunction[] = [];
      const statics = new Map(enumerateRootComplex(rcDesc).functions.map((f) => [f.name, f.kind] as const));
      for (const fn of rt.rc.functions()) {
        const id = fn.identity();
        const isPort = fn instanceof PciePort;
        const kind: ReportFunction['kind'] = isPort ? (fn.kind === 'root' ? 'root-port' : fn.kind === 'upstream' ? 'switch-upstream' : 'switch-downstream') : 'endpoint';
        const children = isPort ? [...fn.secondary.walk()].filter((c) => c.bus === fn.secondary).map((c) => c.name) : [];
        const base = fn.name.replace(/\.\d$/, '');
        const model = isPort ? 'port' : (this.modelOf[base] ?? 'generic');
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

  private report(): ScenarioReport {
    const diag = this.platform.diagnostics.recent();
    const all = [...[...this.devs.values()].map((d) => ({ d, b: this.guest.bound.get(d.name) ?? null, removed: false })), ...this.gone.map((g) => ({ ...g, removed: true }))];
    const devices: ReportDevice[] = all.map(({ d, b, removed }) => {
      const delivered = this.interrupts.delivered((src) => src === `${d.name} hot-plug` || src.startsWith(`${d.name} vector `));
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
    for (const [n, smmu] of this.platform.smmus) caches[n] = { ...smmu.translator.stats() };
    const smmuCommands: Record<string, number> = {};
    for (const [n, d] of this.guest.smmus) smmuCommands[n] = d.cmdq?.stats.commands ?? 0;
    const dmaOk = devices.reduce((a, d) => a + d.dma.ok, 0);
    const dmaFaults = devices.reduce((a, d) => a + d.dma.faults, 0);
    const v2m = this.desc.gic.msi === 'v2m' ? (this.desc.gic.v2m ?? null) : null;
    const allMessages = this.guest.allMessages();
    const messages = allMessages.slice(0, this.detail);
    return {
      schema: 'vsmmu-run-report/2',
      scenario: { name: this.scenario.name, file: this.scenario.file, description: this.scenario.description },
      platform: {
        model: this.desc.model,
        msiController: this.desc.gic.msi,
        smmus: this.desc.smmus.map((s) => ({ name: s.name, base: hex(s.base), features: s.features, rootComplexes: s.rootComplexes })),
        its: this.desc.gic.msi === 'its' && this.desc.gic.its ? `${this.desc.gic.its.name} @ ${hex(this.desc.gic.its.base)}` : null,
        v2m: v2m ? `${v2m.name} @ ${hex(v2m.base)}` : null,
        v2mSpis: v2m ? { first: v2m.spiBase + 32, count: v2m.spiCount } : null,
      },
      topology: this.topology(),
      steps: this.stepRecord.steps(),
      executions: this.stepRecord.executions,
      devices,
      events: this.events.list,
      eventGroups: this.events.groupList(),
      interrupts: this.interrupts.list,
      interruptGroups: this.interrupts.groupList(),
      caches,
      guest: { messages, smmuCommands, itsCommands: this.guest.its?.commandsIssued ?? 0 },
      diagnostics: this.platform.diagnostics.messages().slice(-50),
      expectations: { passed: this.passed, failed: this.failed, failures: this.failures },
      detail: {
        limit: this.detail,
        omitted: {
          executions: this.stepRecord.executionsOmitted,
          events: this.events.omitted,
          interrupts: this.interrupts.omitted,
          failures: this.failed - this.failures.length,
          messages: allMessages.length - messages.length,
        },
      },
      summary: {
        steps: this.done,
        dmaOk,
        dmaFaults,
        events: this.events.total,
        interrupts: this.interrupts.total,
        hotplugs: this.hotplugs,
        renumbers: this.renumbers,
        ok: this.failed === 0,
      },
    };
  }
}

/** "A × 3; B" — distinct items with their counts, at most 6 listed. */
function counted(xs: readonly { text: string; count: number }[]): string {
  const all = xs.reduce((a, x) => a + x.count, 0);
  const shown = xs.slice(0, 6).map((x) => (x.count > 1 ? `${x.text} × ${x.count}` : x.text));
  return `${shown.join('; ')}${xs.length > 6 ? `; ... (${all} in all)` : ''}`;
}

/** Runs a loaded scenario on its platform and returns the report. */
export function runScenario(scenario: Scenario, desc: PlatformDescription, opts: RunOptions = {}): ScenarioReport {
  return new ScenarioRun(scenario, desc, opts).run();
}

