// The runtime platform a VMM embeds: instantiated from a PlatformDescription — guest RAM, the
// SMMUs, the GICv3 (distributor + redistributors, LPIs) with its ITS or a GICv2m frame, the PCIe
// root complexes with their topology and device models, an MMIO bus dispatching every register
// window, and the wiring the description implies: DMA and MSIs by requester ID through the
// covering SMMU (platform/derive-ids.ts, the one definition of RID -> stream ID -> device ID),
// MSIs routed by address (msi-router.ts), SMMU wired interrupts to SPIs. The VMM supplies the
// vCPU side as callbacks (LpiSink, SpiSink); nothing here assumes a particular VMM.
import { GuestMemory } from '../../memory/guest-memory.js';
import { isServiceable, type IrqLine, type Serviceable } from '../../memory/types.js';
import { GicIts } from '../../intc/its.js';
import { GicV2m } from '../../intc/gicv2m.js';
import { GicV3 } from '../../intc/gicv3.js';
import { NO_LPI_SINK, NO_SPI_SINK, type LpiSink, type SpiSink } from '../../intc/sinks.js';
import { buildChild, buildRootComplex, genericEndpoint, type EndpointFactory } from '../build-topology.js';
import { PcieDiagnostics } from '../../pcie/diagnostics.js';
import { EndpointFunction, type PcieDevice } from '../../pcie/endpoint.js';
import type { PciFunction } from '../../pcie/function.js';
import type { PciePort } from '../../pcie/port.js';
import type { RootComplex } from '../../pcie/root-complex.js';
import { PcieSwitch } from '../../pcie/switch.js';
import { FEATURE_PROFILES } from '../../smmu/features.js';
import { SmmuV3 } from '../../smmu/device/smmu-v3.js';
import { spiIntid, type SpiInterrupt, type EndpointDesc, type PlatformDescription, type SmmuDesc, type SwitchDesc } from '../description.js';
import { deriveIdMaps, type IdMaps } from '../derive-ids.js';
import { MmioBus } from './mmio-bus.js';
import { MsiRouter } from './msi-router.js';

/** The vCPU side a VMM connects. */
export interface PlatformCallbacks {
  /** LPIs made pending by the redistributors (GICv3 + ITS). */
  readonly lpi?: LpiSink;
  /** SPIs: GICv2m MSIs and the SMMUs' wired interrupt lines (INTID = SPI + 32). */
  readonly spi?: SpiSink;
}

export interface PlatformOptions {
  readonly callbacks?: PlatformCallbacks;
  /** Device model for each endpoint function (default: the PCIe subsystem's generic endpoint). */
  readonly endpoint?: EndpointFactory;
}

export interface RootComplexRuntime {
  readonly rc: RootComplex;
  readonly ports: ReadonlyMap<string, PciePort>;
  readonly devices: Map<string, PcieDevice>;
}

export class Platform {
  readonly desc: PlatformDescription;
  readonly ids: IdMaps;
  readonly memory = new GuestMemory();
  readonly bus: MmioBus;
  readonly msi: MsiRouter;
  readonly gic: GicV3 | null = null;
  readonly its: GicIts | null = null;
  readonly v2m: GicV2m | null = null;
  readonly smmus = new Map<string, SmmuV3>();
  readonly rootComplexes = new Map<string, RootComplexRuntime>();
  readonly diagnostics = new PcieDiagnostics(256);
  /** Counts of SPIs raised by SMMU wired lines and v2m, by INTID. */
  readonly spiCounts = new Map<number, number>();
  private readonly spiSink: SpiSink;
  private readonly endpoint: EndpointFactory;

  constructor(desc: PlatformDescription, opts: PlatformOptions = {}) {
    this.desc = desc;
    this.ids = deriveIdMaps(desc);
    this.endpoint = opts.endpoint ?? genericEndpoint;
    const userSpi = opts.callbacks?.spi ?? NO_SPI_SINK;
    this.spiSink = {
      spiPending: (intid: number): void => {
        this.spiCounts.set(intid, (this.spiCounts.get(intid) ?? 0) + 1);
        userSpi.spiPending(intid);
      },
    };
    for (const [i, r] of desc.memory.entries()) this.memory.addRam(r.base, r.size, `ram${i}`);
    this.bus = new MmioBus(this.memory);
    this.msi = new MsiRouter(this.memory);
    this.buildGic(opts.callbacks?.lpi ?? NO_LPI_SINK);
    for (const s of desc.smmus) this.buildSmmu(s);
    for (const [i, rcDesc] of desc.rootComplexes.entries()) {
      const maps = this.ids.rootComplexes[i]!;
      const ids = desc.gic.msi === 'its' ? { toSmmu: maps.toSmmu, toMsi: maps.toMsi } : { toSmmu: maps.toSmmu, toMsi: [] };
      const built = buildRootComplex(rcDesc, ids, { memory: this.memory, diagnostics: this.diagnostics, endpoint: this.endpoint });
      const rc = built.rc;
      if (maps.smmu !== null) rc.attachIommu(maps.smmu, this.smmus.get(maps.smmu)!);
      rc.connectMsi(this.msi);
      this.bus.map(rcDesc.ecam.base, rc.ecam, rcDesc.ecam.size);
      if (rcDesc.mmio32) this.bus.map(rcDesc.mmio32.base, rc.mmioWindow(rcDesc.mmio32.base, rcDesc.mmio32.size, `${rc.name}-mmio32`));
      if (rcDesc.mmio64) this.bus.map(rcDesc.mmio64.base, rc.mmioWindow(rcDesc.mmio64.base, rcDesc.mmio64.size, `${rc.name}-mmio64`));
      this.rootComplexes.set(rcDesc.name, { rc, ports: built.ports, devices: new Map(built.devices) });
    }
  }

  private buildGic(lpi: LpiSink): void {
    const g = this.desc.gic;
    const self = this as { gic: GicV3 | null; its: GicIts | null; v2m: GicV2m | null };
    if (g.version === 3) {
      const rdBase = g.redistributors[0]?.base;
      const gic = new GicV3(this.memory, { peCount: this.desc.cpus.count, lpiSink: lpi, ...(rdBase !== undefined ? { redistributorBase: rdBase } : {}) });
      self.gic = gic;
      this.bus.map(g.distributor.base, gic.distributor);
      if (rdBase !== undefined) this.bus.map(rdBase, gic.redistributorRegion);
      if (g.msi === 'its' && g.its) {
        // DeviceIDs are (segment << 16 | RID) by default: size the ITS for the largest one.
        let maxId = 0;
        for (const rc of this.ids.rootComplexes) for (const m of rc.toMsi) maxId = Math.max(maxId, m.outputBase + m.count - 1);
        for (const s of this.ids.smmus) if (s.ownMsi) maxId = Math.max(maxId, s.ownMsi.deviceId);
        const deviceIdBits = Math.max(16, Math.ceil(Math.log2(maxId + 1)));
        const its = new GicIts(this.memory, gic, { name: g.its.name, deviceIdBits });
        self.its = its;
        this.bus.map(g.its.base, its);
        this.msi.addTarget(g.its.name, its.msiSink(g.its.base));
      }
    }
    if (g.msi === 'v2m' && g.v2m) {
      const v2m = new GicV2m({ baseSpi: g.v2m.spiBase + 32, spiCount: g.v2m.spiCount, spiSink: this.spiSink, name: g.v2m.name });
      self.v2m = v2m;
      this.bus.map(g.v2m.base, v2m);
      this.msi.addTarget(g.v2m.name, v2m.msiSink(g.v2m.base));
    }
  }

  private buildSmmu(s: SmmuDesc): void {
    const features = FEATURE_PROFILES[s.features];
    if (!features) throw new RangeError(`unknown SMMU feature profile ${s.features}`);
    const own = this.ids.smmus.find((m) => m.smmu === s.name)?.ownMsi ?? null;
    const line = (i: SpiInterrupt | null): IrqLine | undefined => (i === null ? undefined : this.spiLine(spiIntid(i)));
    const irqs: Record<string, IrqLine> = {};
    for (const k of ['eventq', 'priq', 'cmdqSync', 'gerror'] as const) {
      const l = line(s.interrupts[k]);
      if (l) irqs[k] = l;
    }
    const smmu = new SmmuV3(this.memory, { features, name: s.name, msiSink: this.msi, msiDeviceId: own?.deviceId ?? null, irqs });
    this.smmus.set(s.name, smmu);
    this.bus.map(s.base, smmu);
  }

  /**
   * An interrupt output raising INTID `intid` through the platform's SPI sink (counted in
   * `spiCounts`), for devices a VMM adds with `bus.map` (e.g. virtio-mmio transports).
   */
  spiLine(intid: number): IrqLine {
    return { pulse: () => this.spiSink.spiPending(intid), setLevel: (on: boolean) => (on ? this.spiSink.spiPending(intid) : undefined) };
  }

  // ------------------------------------------------------------ topology queries

  /** A port by name: "port" when unique across root complexes, else "rc/port". */
  port(name: string): { rc: RootComplexRuntime; port: PciePort } | null {
    const [rcName, portName] = name.includes('/') ? (name.split('/', 2) as [string, string]) : [null, name];
    const hits: { rc: RootComplexRuntime; port: PciePort }[] = [];
    for (const [n, rc] of this.rootComplexes) {
      if (rcName !== null && n !== rcName) continue;
      const p = rc.ports.get(portName);
      if (p) hits.push({ rc, port: p });
    }
    return hits.length === 1 ? hits[0]! : null;
  }

  /** A device by endpoint name (unique across root complexes), with its root complex. */
  device(name: string): { rc: RootComplexRuntime; device: PcieDevice } | null {
    for (const rc of this.rootComplexes.values()) {
      const d = rc.devices.get(name);
      if (d) return { rc, device: d };
    }
    return null;
  }

  /** Every function of every root complex, with its root complex name. */
  functions(): { rc: string; fn: PciFunction }[] {
    const out: { rc: string; fn: PciFunction }[] = [];
    for (const [n, r] of this.rootComplexes) for (const f of r.rc.functions()) out.push({ rc: n, fn: f });
    return out;
  }

  // ------------------------------------------------------------ hot-plug

  /**
   * Hot-plugs a described endpoint or switch below `portName` (Presence Detect Changed and DLL
   * State Changed are raised; the port signals its MSI if the guest enabled hot-plug interrupts).
   */
  hotplug(portName: string, child: EndpointDesc | SwitchDesc): PcieDevice | PcieSwitch {
    const p = this.port(portName);
    if (p === null) throw new RangeError(`no unique port named ${portName}`);
    const built = buildChild(child, `${portName}/${child.name}`, this.endpoint);
    p.port.plug(built, 'hot');
    if (!(built instanceof PcieSwitch)) p.rc.devices.set(child.name, built);
    return built;
  }

  /** Surprise-removes what occupies `portName`. */
  unplug(portName: string): string | null {
    const p = this.port(portName);
    if (p === null) throw new RangeError(`no unique port named ${portName}`);
    const child = p.port.unplug();
    if (child !== null) p.rc.devices.delete(child.name);
    return child?.name ?? null;
  }

  // ------------------------------------------------------------ deferred work

  /**
   * Every device with deferred work: whatever is mapped on the bus and Serviceable (SMMUs, the ITS,
   * transports a VMM added), the GIC's redistributors, endpoint models that have it.
   */
  serviceables(): Serviceable[] {
    const out = new Set<Serviceable>();
    for (const m of this.bus.mappings) if (isServiceable(m.device)) out.add(m.device);
    if (this.gic !== null) out.add(this.gic);
    for (const r of this.rootComplexes.values()) {
      for (const d of r.devices.values()) {
        for (const f of d.functions) if (f instanceof EndpointFunction && f.barHandler !== null && isServiceable(f.barHandler)) out.add(f.barHandler);
      }
    }
    return [...out];
  }

  /**
   * One bounded step of every device's deferred work (command queues, LPI scans, DMA transfers):
   * what a VMM does after a vCPU exit or on a timer. Returns true while work remains.
   */
  service(): boolean {
    let more = false;
    for (const s of this.serviceables()) if (s.service()) more = true;
    return more;
  }

  /**
   * Services every device until none has work left (at most `maxRounds` rounds; a guest that keeps
   * refilling a queue from its own side effects cannot hold the host). Returns the rounds taken.
   */
  settle(maxRounds = 1 << 20): number {
    let n = 0;
    while (n < maxRounds && this.service()) n++;
    return n;
  }

  /** Resets every device model (SMMUs, GIC, root complexes). RAM is kept. */
  reset(): void {
    for (const s of this.smmus.values()) s.reset();
    this.gic?.reset();
    this.its?.reset();
    for (const r of this.rootComplexes.values()) r.rc.reset();
  }
}
