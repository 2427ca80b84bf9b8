// Small fakes of the PCIe subsystem's neighbours for tests: an SMMU (page map per stream, stage-1
// style: translates DMA and MSI writes, faults otherwise), an ITS and a GICv2m frame as MsiSinks,
// the platform's real MSI router in front of them, and a guest-side ECAM enumerator that numbers
// buses depth-first the way Linux's pci_scan_bridge does.
import type { DmaFault, DmaPort, DoorbellSink, MmioDevice, MsiOutcome, MsiSink, PhysMemory } from '../../src/memory/types.js';
import type { IommuAttachment } from '../../src/pcie/types.js';
import { MsiRouter } from '../../src/platform/runtime/msi-router.js';

export const PAGE = 0x1000;

export class FakeSmmu implements IommuAttachment {
  /** sid -> (iova page -> pa page); only writable pages are modelled. */
  readonly maps = new Map<number, Map<number, number>>();
  readonly events: { sid: number; ssid: number | null; iova: number; write: boolean }[] = [];
  readonly dmaCalls: number[] = [];
  readonly msiCalls: { sid: number; deviceId: number | null }[] = [];
  private readonly ports = new Map<string, DmaPort>();

  constructor(private readonly memory: PhysMemory) {}

  map(sid: number, iova: number, pa: number): void {
    let m = this.maps.get(sid);
    if (!m) this.maps.set(sid, (m = new Map()));
    m.set(iova / PAGE, pa / PAGE);
  }

  private translate(sid: number, iova: number): number {
    const pa = this.maps.get(sid)?.get(Math.floor(iova / PAGE));
    return pa === undefined ? -1 : pa * PAGE + (iova % PAGE);
  }

  dma(sid: number, ssid: number | null): DmaPort {
    this.dmaCalls.push(sid);
    const key = `${sid}/${ssid}`;
    let p = this.ports.get(key);
    if (!p) {
      const access = (write: boolean, iova: number, buf: Uint8Array): DmaFault | null => {
        const pa = this.translate(sid, iova);
        if (pa < 0 || Math.floor(iova / PAGE) !== Math.floor((iova + buf.length - 1) / PAGE)) {
          this.events.push({ sid, ssid, iova, write });
          return { iova, reason: 'F_TRANSLATION', done: 0 };
        }
        const ok = write ? this.memory.writeBytes(pa, buf) : this.memory.readBytes(pa, buf);
        return ok ? null : { iova, reason: 'external-abort', done: 0 };
      };
      p = { read: (iova, dst) => access(false, iova, dst), write: (iova, src) => access(true, iova, src) };
      this.ports.set(key, p);
    }
    return p;
  }

  translateMsi(sid: number, address: number, data: number, deviceId: number | null, downstream: MsiSink): MsiOutcome {
    this.msiCalls.push({ sid, deviceId });
    const pa = this.translate(sid, address);
    if (pa < 0) {
      this.events.push({ sid, ssid: null, iova: address, write: true });
      return 'aborted';
    }
    return downstream.msiWrite(pa, data, deviceId);
  }
}

export const ITS_BASE = 0x0808_0000;
export const ITS_TRANSLATER = ITS_BASE + 0x1_0040;
export const V2M_BASE = 0x0802_0000;
export const V2M_SETSPI = V2M_BASE + 0x40;

/** An ITS stand-in: accepts TRANSLATER writes that carry a DeviceID and records (devid, eventId). */
export class FakeIts implements DoorbellSink {
  readonly doorbell = ITS_TRANSLATER;
  readonly received: { deviceId: number; eventId: number }[] = [];
  msiWrite(address: number, data: number, deviceId: number | null): MsiOutcome {
    if (address !== ITS_TRANSLATER || deviceId === null) return 'dropped';
    this.received.push({ deviceId, eventId: data });
    return 'delivered';
  }
}

/** A GICv2m stand-in: MSI_SETSPI_NS with data in [spiBase, spiBase + count) raises that SPI. */
export class FakeV2m implements DoorbellSink {
  readonly doorbell = V2M_SETSPI;
  readonly spis: number[] = [];
  constructor(
    readonly spiBase = 80,
    readonly count = 64,
  ) {}
  msiWrite(address: number, data: number): MsiOutcome {
    if (address !== V2M_SETSPI || data < this.spiBase || data >= this.spiBase + this.count) return 'dropped';
    this.spis.push(data);
    return 'delivered';
  }
}

/**
 * The platform's MSI router (src/platform/runtime/msi-router.ts) in front of the fakes: a write to
 * ITS_TRANSLATER goes to `its`, to V2M_SETSPI to `v2m`, any other address is a RAM write or dropped.
 */
export function msiRouter(its: DoorbellSink | null, v2m: DoorbellSink | null, memory: PhysMemory): MsiRouter {
  const r = new MsiRouter(memory);
  if (its) r.addTarget('its', its);
  if (v2m) r.addTarget('v2m', v2m);
  return r;
}

// ------------------------------------------------------------------ guest-side ECAM helpers

export const ecamOff = (busRel: number, dev: number, fn: number, reg: number): number => (busRel << 20) | (dev << 15) | (fn << 12) | reg;

export class EcamGuest {
  constructor(
    readonly ecam: MmioDevice,
    readonly busStart: number,
  ) {}
  read(bus: number, devfn: number, reg: number, size: 1 | 2 | 4 = 4): number {
    return this.ecam.read(ecamOff(bus - this.busStart, devfn >> 3, devfn & 7, reg), size);
  }
  write(bus: number, devfn: number, reg: number, size: 1 | 2 | 4, v: number): void {
    this.ecam.write(ecamOff(bus - this.busStart, devfn >> 3, devfn & 7, reg), size, v);
  }

  /**
   * Depth-first enumeration as Linux does it without firmware numbering: each bridge gets the next
   * free bus as secondary, subordinate 0xff while scanning below, then the last bus used.
   * Returns the functions found as "bus:devfn" -> vendor/device dword.
   */
  enumerate(firstBus = this.busStart + 1): Map<string, number> {
    const found = new Map<string, number>();
    let next = firstBus;
    const scan = (bus: number): void => {
      for (let dev = 0; dev < 32; dev++) {
        for (let fn = 0; fn < 8; fn++) {
          const devfn = (dev << 3) | fn;
          const id = this.read(bus, devfn, 0);
          if (id === 0xffff_ffff) {
            if (fn === 0) break;
            continue;
          }
          found.set(`${bus}:${devfn}`, id);
          const ht = this.read(bus, devfn, 0x0e, 1);
          if ((ht & 0x7f) === 1) {
            const sec = next++;
            this.write(bus, devfn, 0x18, 4, bus | (sec << 8) | (0xff << 16));
            scan(sec);
            this.write(bus, devfn, 0x1a, 1, next - 1);
          }
          if (fn === 0 && (ht & 0x80) === 0) break;
        }
      }
    };
    scan(this.busStart);
    return found;
  }

  /** Sets Memory Space and Bus Master Enable on a function. */
  enable(bus: number, devfn: number): void {
    this.write(bus, devfn, 0x04, 2, this.read(bus, devfn, 0x04, 2) | 0x6);
  }
}

/** Offset of capability `id` of a function, walking its list through ECAM (bounded). */
export function findCap(g: EcamGuest, bus: number, devfn: number, id: number): number {
  let p = g.read(bus, devfn, 0x34, 1);
  for (let i = 0; i < 48 && p !== 0; i++) {
    if (g.read(bus, devfn, p, 1) === id) return p;
    p = g.read(bus, devfn, p + 1, 1);
  }
  return -1;
}

/** Programs and enables a 64-bit MSI capability (one vector) the way Linux does. */
export function programMsi(g: EcamGuest, bus: number, devfn: number, address: number, data: number): number {
  const p = findCap(g, bus, devfn, 0x05);
  if (p < 0) throw new Error('no MSI capability');
  g.write(bus, devfn, p + 4, 4, address % 0x1_0000_0000);
  g.write(bus, devfn, p + 8, 4, Math.floor(address / 0x1_0000_0000));
  g.write(bus, devfn, p + 0xc, 2, data);
  g.write(bus, devfn, p + 2, 2, 0x0001);
  return p;
}
