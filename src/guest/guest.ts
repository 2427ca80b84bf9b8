// The reference guest: boots the platform the way a Linux 6.1 kernel would from its firmware
// description — PCI enumeration of every root complex, the SMMUv3 driver (probe + reset), the
// ITS (or GICv2m) MSI domain — and binds PCI devices like a driver with a DMA domain does:
// one DMA domain per device (ASID, CD, io-pgtable), the STE for its stream ID, MSI-X vectors
// allocated from the ITS (DeviceID from msi-map / IORT) with the doorbell mapped into the domain
// at the top of the 32-bit IOVA space (IOVA 0xfffff000 -> GITS_TRANSLATER page, device address
// 0xfffff040), DMA buffers mapped with dma-iommu's prot (coherent RW = PA | 0xF47).
// The guest learns IDs only from the firmware it boots with (firmware-ids.ts: IORT or device tree,
// by default the device tree generated from the description) and touches devices only through
// the CPU bus and guest memory.
import type { PhysMemory } from '../memory/types.js';
import type { PlatformDescription } from '../platform/description.js';
import { buildDeviceTree } from '../firmware/dt/build.js';
import { writeDtb } from '../firmware/fdt/writer.js';
import { deriveIdMaps, smmuUsesMsi } from '../platform/derive-ids.js';
import { V2M } from '../spec/gic/gicv2m-registers.js';
import { PageAllocator } from './allocator.js';
import type { CpuBus } from './cpu-bus.js';
import { firmwareIds, type FirmwareIds, type GuestFirmware } from './firmware-ids.js';
import type { IommuProt } from './io-pgtable.js';
import { GuestItsDriver } from './its-driver.js';
import { GuestPci, type FoundFunction } from './pci-enum.js';
import { GuestSmmuDriver, type DmaDomain } from './smmu-driver.js';

export interface GuestOptions {
  /**
   * Bytes of RAM for driver structures (queues, tables), from the first RAM region + 16 MiB.
   * Default: 64 MiB or half of what the region has beyond 16 MiB, whichever is smaller.
   */
  readonly kernelBytes?: number;
  /** Bytes after that for DMA buffers. Default: 64 MiB or the rest of the region, whichever is smaller. */
  readonly bufferBytes?: number;
  /** Attach devices to DMA domains (default) or leave the abort STE (no driver). */
  readonly defaultDomain?: 'dma' | 'identity';
  /** The firmware the guest reads its ID translations from. Default: the device tree generated from the description. */
  readonly firmware?: GuestFirmware;
}

export interface VectorInfo {
  /** Address programmed into the device (an IOVA when the device is behind a DMA domain). */
  readonly address: number;
  readonly data: number;
  /** INTID the guest expects: an LPI (ITS) or SPI (GICv2m). */
  readonly intid: number;
}

export interface BoundDevice {
  readonly name: string;
  readonly fn: FoundFunction;
  readonly smmu: string | null;
  readonly streamId: number | null;
  readonly deviceId: number | null;
  readonly domain: DmaDomain | null;
  readonly vectors: VectorInfo[];
}

export class ReferenceGuest {
  /** ID translations as the firmware describes them. */
  readonly ids: FirmwareIds;
  readonly kernel: PageAllocator;
  readonly buffers: PageAllocator;
  readonly pci = new Map<string, GuestPci>();
  readonly smmus = new Map<string, GuestSmmuDriver>();
  its: GuestItsDriver | null = null;
  private nextSpi = 0;
  readonly bound = new Map<string, BoundDevice>();
  /** LPIs of each SMMU's own MSIs: [eventq, gerror]. */
  readonly smmuLpis = new Map<string, number[]>();
  readonly messages: string[] = [];

  constructor(
    readonly desc: PlatformDescription,
    readonly bus: CpuBus,
    readonly mem: PhysMemory,
    readonly opts: GuestOptions = {},
  ) {
    this.ids = firmwareIds(opts.firmware ?? { kind: 'dt', dtb: writeDtb(buildDeviceTree(desc, deriveIdMaps(desc))) });
    const ram = desc.memory[0];
    if (!ram) throw new RangeError('guest: no RAM');
    const avail = Math.max(0, ram.size - 0x100_0000);
    const kb = opts.kernelBytes ?? Math.min(0x400_0000, Math.floor(avail / 2 / 0x1000) * 0x1000);
    const bb = opts.bufferBytes ?? Math.min(0x400_0000, avail - kb);
    if (kb < 0x10_0000 || bb < 0x1000 || ram.size < 0x100_0000 + kb + bb) throw new RangeError('guest: the first RAM region is too small for the reference guest (needs more than 17 MiB)');
    this.kernel = new PageAllocator(mem, ram.base + 0x100_0000, kb);
    this.buffers = new PageAllocator(mem, ram.base + 0x100_0000 + kb, bb);
  }

  /** Boot: MSI controller, SMMUs, PCI enumeration. */
  boot(): void {
    const g = this.desc.gic;
    if (g.msi === 'its' && g.its && g.version === 3) {
      const rd = g.redistributors[0];
      if (rd) {
        this.its = new GuestItsDriver(this.bus, this.mem, this.kernel, { base: g.its.base, redistributorBase: rd.base, peCount: this.desc.cpus.count });
        this.its.init();
      }
    }
    for (const s of this.desc.smmus) {
      let msi: { eventq: { address: number; data: number }; gerror: { address: number; data: number } } | null = null;
      const own = this.ids.smmuDeviceId(s.base);
      if (this.its && own !== null && smmuUsesMsi(this.desc, s)) {
        // Platform MSIs from the ITS for the SMMU's own DeviceID: EVTQ (event 0), GERROR (event 1).
        const dev = this.its.allocDevice(own, 2);
        if (dev) {
          msi = { eventq: { address: this.its.doorbell, data: 0 }, gerror: { address: this.its.doorbell, data: 1 } };
          this.smmuLpis.set(s.name, dev.lpis);
        }
      }
      const d = new GuestSmmuDriver(this.bus, this.mem, this.kernel, { name: s.name, base: s.base, coherent: s.coherent, msi });
      d.probe();
      d.reset();
      this.smmus.set(s.name, d);
    }
    this.enumerate(0);
  }

  /** (Re)enumerates every root complex; `busGap` shifts the secondary bus numbers. */
  enumerate(busGap: number, only?: string): void {
    for (const rc of this.desc.rootComplexes) {
      if (only !== undefined && rc.name !== only) continue;
      let p = this.pci.get(rc.name);
      if (!p) {
        p = new GuestPci(this.bus, { name: rc.name, segment: rc.segment, ecamBase: rc.ecam.base, busStart: rc.buses.start, busEnd: rc.buses.end, mmio: rc.mmio32 });
        this.pci.set(rc.name, p);
      }
      p.enumerate(busGap);
    }
  }

  /** The function with requester `bdf` position or described name after enumeration. */
  findFunction(rcName: string, bus: number, device: number, fn: number): FoundFunction | null {
    return this.pci.get(rcName)?.lookup(bus, device, fn) ?? null;
  }

  /** Stream ID and SMMU the firmware tables give a RID (IORT RC node / DT iommu-map). */
  streamOf(rcName: string, rid: number): { smmu: string; sid: number } | null {
    const rc = this.desc.rootComplexes.find((r) => r.name === rcName);
    const m = rc ? this.ids.stream(rc.segment, rid) : null;
    const smmu = m ? this.desc.smmus.find((s) => s.base === m.smmuBase) : undefined;
    return m && smmu ? { smmu: smmu.name, sid: m.sid } : null;
  }

  /** ITS DeviceID of a RID (DT msi-map / IORT RC -> ITS), or null. */
  deviceIdOf(rcName: string, rid: number): number | null {
    const rc = this.desc.rootComplexes.find((r) => r.name === rcName);
    return rc ? this.ids.deviceId(rc.segment, rid) : null;
  }

  /**
   * A PCI driver's probe for `name` found at `fn`: DMA domain + STE (when behind an SMMU), then
   * `nvec` MSI-X vectors (MSI when there is no MSI-X).
   */
  bindDevice(name: string, fn: FoundFunction, nvec: number): BoundDevice {
    const stream = this.streamOf(fn.rootComplex, fn.rid);
    let domain: DmaDomain | null = null;
    if (stream && (this.opts.defaultDomain ?? 'dma') === 'dma') {
      const drv = this.smmus.get(stream.smmu);
      if (drv) {
        domain = drv.createDomain();
        if (!drv.attach(stream.sid, domain)) this.messages.push(`${name}: cannot attach SID 0x${stream.sid.toString(16)}`);
      }
    }
    const deviceId = this.deviceIdOf(fn.rootComplex, fn.rid);
    const vectors = this.allocVectors(name, fn, nvec, stream, domain, deviceId);
    const b: BoundDevice = { name, fn, smmu: stream?.smmu ?? null, streamId: stream?.sid ?? null, deviceId, domain, vectors };
    this.bound.set(name, b);
    return b;
  }

  private allocVectors(name: string, fn: FoundFunction, nvec: number, stream: { smmu: string; sid: number } | null, domain: DmaDomain | null, deviceId: number | null): VectorInfo[] {
    const g = this.desc.gic;
    const out: VectorInfo[] = [];
    let doorbell: number;
    const intids: number[] = [];
    const datas: number[] = [];
    if (this.its && g.its) {
      if (deviceId === null) {
        this.messages.push(`${name}: no ITS DeviceID for RID 0x${fn.rid.toString(16)}`);
        return out;
      }
      const dev = this.its.allocDevice(deviceId, nvec);
      if (!dev) return out;
      doorbell = this.its.doorbell;
      dev.lpis.forEach((l, ev) => {
        intids.push(l);
        datas.push(ev);
      });
    } else if (g.msi === 'v2m' && g.v2m) {
      doorbell = g.v2m.base + V2M.MSI_SETSPI_NS;
      for (let i = 0; i < nvec && this.nextSpi < g.v2m.spiCount; i++) {
        const intid = g.v2m.spiBase + 32 + this.nextSpi++;
        intids.push(intid);
        datas.push(intid);
      }
    } else {
      return out;
    }
    let address = doorbell;
    if (domain && stream) {
      const a = this.smmus.get(stream.smmu)?.mapMsiDoorbell(domain, doorbell) ?? null;
      if (a === null) {
        this.messages.push(`${name}: cannot map the MSI doorbell`);
        return out;
      }
      address = a;
    }
    for (let i = 0; i < intids.length; i++) out.push({ address, data: datas[i]!, intid: intids[i]! });
    const p = this.pci.get(fn.rootComplex)!;
    if (!p.setupMsix(fn, out) && !(out[0] && p.setupMsi(fn, out[0].address, out[0].data))) this.messages.push(`${name}: no MSI-X or MSI capability`);
    return out;
  }

  /**
   * The device moved (bus renumbering): re-resolve its stream ID and DeviceID from its new RID,
   * move its DMA domain to the new stream ID (old STE back to abort), re-create its ITS mapping
   * for the new DeviceID and reprogram its vectors. Mappings in the domain are kept.
   */
  rebindDevice(name: string, fn: FoundFunction): BoundDevice | null {
    const old = this.bound.get(name);
    if (!old) return null;
    const stream = this.streamOf(fn.rootComplex, fn.rid);
    if (old.smmu && old.streamId !== null) this.smmus.get(old.smmu)?.installAbort(old.streamId);
    if (old.deviceId !== null && this.its) this.its.freeDevice(old.deviceId);
    let domain = old.domain;
    if (stream && domain) {
      const drv = this.smmus.get(stream.smmu);
      if (!drv?.attach(stream.sid, domain)) this.messages.push(`${name}: cannot attach SID 0x${stream.sid.toString(16)}`);
    } else if (!stream) domain = null;
    const deviceId = this.deviceIdOf(fn.rootComplex, fn.rid);
    const vectors = this.allocVectors(name, fn, Math.max(1, old.vectors.length), stream, domain, deviceId);
    const b: BoundDevice = { name, fn, smmu: stream?.smmu ?? null, streamId: stream?.sid ?? null, deviceId, domain, vectors };
    this.bound.set(name, b);
    return b;
  }

  /** Driver removal after surprise removal: abort STE, ITS device freed. */
  unbindDevice(name: string): void {
    const b = this.bound.get(name);
    if (!b) return;
    if (b.smmu && b.streamId !== null) this.smmus.get(b.smmu)?.installAbort(b.streamId);
    if (b.deviceId !== null && this.its) this.its.freeDevice(b.deviceId);
    this.bound.delete(name);
  }

  /** Refreshes a bound device's enumeration record (BARs may have moved after a rescan). */
  refresh(name: string, fn: FoundFunction): void {
    const b = this.bound.get(name);
    if (b) this.bound.set(name, { ...b, fn });
  }

  /** dma_map: maps `size` bytes at guest-physical `pa` for `device`; returns the bus address. */
  dmaMap(name: string, pa: number, size: number, prot: IommuProt, iova?: number): { ok: true; iova: number } | { ok: false; reason: string } {
    const b = this.bound.get(name);
    if (!b) return { ok: false, reason: `device ${name} is not bound` };
    if (!b.domain || !b.smmu) return { ok: true, iova: pa };
    const drv = this.smmus.get(b.smmu)!;
    const len = Math.ceil(size / 0x1000) * 0x1000;
    const at = iova ?? b.domain.allocIova(len);
    if (at === null) return { ok: false, reason: 'IOVA space exhausted' };
    const r = drv.map(b.domain, at, pa, len, prot);
    return r.ok ? { ok: true, iova: at } : { ok: false, reason: r.reason ?? 'map failed' };
  }

  /** dma_unmap: unmap + TLBI + CMD_SYNC. Returns the bytes unmapped. */
  dmaUnmap(name: string, iova: number, size: number): number {
    const b = this.bound.get(name);
    if (!b?.domain || !b.smmu) return 0;
    return this.smmus.get(b.smmu)!.unmap(b.domain, iova, Math.ceil(size / 0x1000) * 0x1000);
  }

  /** The event-queue IRQ thread of every SMMU: consume and return new events by SMMU. */
  drainEvents(): { smmu: string; events: ReturnType<GuestSmmuDriver['drainEvents']> }[] {
    const out: { smmu: string; events: ReturnType<GuestSmmuDriver['drainEvents']> }[] = [];
    for (const [n, d] of this.smmus) {
      d.handleGerror();
      const ev = d.drainEvents();
      if (ev.length) out.push({ smmu: n, events: ev });
    }
    return out;
  }

  /** Every driver message so far (SMMU, ITS, PCI, guest), in driver order. */
  allMessages(): string[] {
    return [...this.messages, ...[...this.smmus.values()].flatMap((d) => d.messages), ...(this.its?.messages ?? []), ...[...this.pci.values()].flatMap((p) => p.messages)];
  }
}
