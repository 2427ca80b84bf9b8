// The devices this process hosts for a QEMU guest: vsmmu's SMMUv3 and the virtio-mmio transports
// behind it, their registers bridged through the polled window, their interrupts delivered to
// QEMU's GIC. Built from a platform description (the qemu-hosted preset or a file): the SMMU is
// the description's first SMMU, each virtio-mmio entry gets one device with its own stream ID.
import type { PlatformDescription, VirtioMmioDesc } from '../platform/description.js';
import { spiIntid } from '../platform/description.js';
import { itsDoorbell } from '../intc/its.js';
import { memoryMsiSink } from '../memory/msi-memory.js';
import type { DmaPort, IrqLine, MmioDevice, MsiSink, PhysMemory } from '../memory/types.js';
import type { SmmuFeatures } from '../smmu/features.js';
import { SmmuV3 } from '../smmu/device/smmu-v3.js';
import { SmmuInjector, type InjectionSpec } from '../smmu/device/inject.js';
import { EventLog } from '../smmu/device/stats.js';
import { makeRequest, newResult } from '../smmu/translation/types.js';
import { REGISTERS, REG, type RegName } from '../spec/smmuv3/registers.js';
import type { GuestInterrupts } from './guest-interrupts.js';
import { WindowBridge, type BridgedDevice, type WindowIo, type WindowRegister } from './window-bridge.js';

/**
 * SMMU registers a driver writes last and then waits on (enables, acknowledgements, producer and
 * consumer indexes), applied after the other registers that changed in the same poll.
 */
export const SMMU_DOORBELLS: readonly RegName[] = ['GERRORN', 'IRQ_CTRL', 'CR0', 'EVENTQ_CONS', 'PRIQ_CONS', 'CMDQ_PROD'];

/** The SMMU's architected registers as a window register list. */
export function smmuWindowRegisters(): WindowRegister[] {
  return REGISTERS.map((r) => ({ offset: r.offset, width: r.width === 64 ? 8 : 4 }));
}

/** A virtio-mmio device model placed in the window (built by the caller's factory). */
export interface HostedDevice {
  readonly kind: string;
  readonly mmio: MmioDevice;
  readonly registers: readonly WindowRegister[];
  readonly applyFirst?: readonly number[];
  readonly applyLast?: readonly number[];
  /** Requests served, bytes moved, DMA faults seen (for the report). */
  stats(): { requests: number; bytes: number; faults: number };
  /** Ring addresses (IOVAs) the driver programmed, per queue. */
  rings?(): RingAddresses[];
}

/** One virtqueue's areas as the driver programmed them (IOVAs on the device's stream). */
export interface RingAddresses {
  readonly desc: number;
  readonly driver: number;
  readonly device: number;
}

export type DeviceFactory = (slot: VirtioMmioDesc, dma: DmaPort, irq: IrqLine) => HostedDevice;

export interface HostedMachineOptions {
  readonly desc: PlatformDescription;
  readonly memory: PhysMemory;
  readonly window: WindowIo;
  /** Guest-physical base of the window. */
  readonly windowBase: number;
  readonly features: SmmuFeatures;
  readonly smmuIrqs: 'wired' | 'msi';
  readonly interrupts: GuestInterrupts;
  /** One factory per virtio-mmio entry of the description, in order. */
  readonly devices: readonly DeviceFactory[];
  /** Fault injections into the SMMU (its MSIs, commands, and the devices' DMA ports). */
  readonly injections?: readonly InjectionSpec[];
}

export interface HostedSlot {
  readonly desc: VirtioMmioDesc;
  readonly device: HostedDevice;
}

export class HostedMachine {
  readonly smmu: SmmuV3;
  readonly bridge: WindowBridge;
  readonly slots: HostedSlot[] = [];
  /** SMMU MSIs forwarded to the ITS, and ones that went nowhere. */
  readonly msiCounts = { its: 0, memory: 0, dropped: 0 };
  /** The event records the SMMU wrote (counts by type, the first ones whole). */
  readonly events: EventLog;
  /** The fault injections, when any were asked for (`tick()` it from the service loop). */
  readonly injector: SmmuInjector | null;

  constructor(o: HostedMachineOptions) {
    const d = o.desc;
    const s = d.smmus[0];
    if (!s) throw new RangeError('the hosted platform has no SMMU');
    this.bridge = new WindowBridge(o.window);
    const gi = o.interrupts;
    const its = d.gic.its;
    const translater = its ? itsDoorbell(its.base) : -1;
    const ram = memoryMsiSink(o.memory);
    const line = (irq: { spi: number } | null): IrqLine | undefined =>
      irq === null ? undefined : this.bridge.irqLine(() => gi.pendSpi(spiIntid({ spi: irq.spi, trigger: 'edge' })));
    const msiSink: MsiSink = {
      msiWrite: (address, data) => {
        if (address === translater) {
          this.msiCounts.its++;
          this.bridge.defer(() => gi.msi(address, data));
          return 'delivered';
        }
        // Anything else (a CMD_SYNC completion write into the command queue) is memory.
        if (ram.msiWrite(address, data, null) === 'memory') {
          this.msiCounts.memory++;
          return 'memory';
        }
        this.msiCounts.dropped++;
        return 'aborted';
      },
    };
    const irqs: Partial<Record<'eventq' | 'priq' | 'cmdqSync' | 'gerror', IrqLine>> = {};
    if (o.smmuIrqs === 'wired') {
      for (const k of ['eventq', 'priq', 'cmdqSync', 'gerror'] as const) {
        const l = line(s.interrupts[k]);
        if (l) irqs[k] = l;
      }
    }
    this.smmu = new SmmuV3(o.memory, { features: o.features, name: s.name, msiSink, msiDeviceId: 0, irqs });
    this.events = new EventLog().attach(this.smmu);
    const inj = o.injections !== undefined && o.injections.length > 0 ? new SmmuInjector(this.smmu, o.injections) : null;
    this.injector = inj;    this.bridge.attach({
      device: this.smmu,
      at: s.base - o.windowBase,
      registers: smmuWindowRegisters(),
      applyLast: SMMU_DOORBELLS.map((n) => REG[n]),
    });
    d.virtioMmio.forEach((v, i) => {
      const make = o.devices[i];
      if (!make) return;
      const irq = line(v.interrupt)!;
      const port = inj === null ? this.smmu.dma(v.streamId, null) : inj.port(v.streamId);
      const dev = make(v, port, irq);
      const spec: BridgedDevice = {
        device: dev.mmio,
        at: v.base - o.windowBase,
        registers: dev.registers,
        ...(dev.applyFirst ? { applyFirst: dev.applyFirst } : {}),
        ...(dev.applyLast ? { applyLast: dev.applyLast } : {}),
      };
      this.bridge.attach(spec);
      this.slots.push({ desc: v, device: dev });
    });
  }

  /**
   * Where the live SMMU sends a read of `iova` by stream `sid` now (null: it would fault). Uses
   * the translation engine directly, so nothing is recorded and no event is written.
   */
  translate(sid: number, iova: number): number | null {
    if (!this.smmu.smmuEnabled()) return iova;
    const res = newResult();
    this.smmu.translator.translate(makeRequest(sid, null, BigInt(iova), { write: false, instr: false, priv: false }), res);
    return res.ok ? res.pa : null;
  }

  /** Each device's virtqueue areas (IOVAs) and the physical addresses they translate to. */
  rings(): DeviceRings[] {
    return this.slots.map((s) => ({
      name: s.desc.name,
      streamId: s.desc.streamId,
      rings: (s.device.rings?.() ?? []).map((r) => {
        const one = (iova: number): { iova: number; pa: number | null } => ({ iova, pa: this.translate(s.desc.streamId, iova) });
        return { desc: one(r.desc), driver: one(r.driver), device: one(r.device) };
      }),
    }));
  }
}

export interface DeviceRings {
  readonly name: string;
  readonly streamId: number;
  readonly rings: readonly { readonly desc: RingPlace; readonly driver: RingPlace; readonly device: RingPlace }[];
}

export interface RingPlace {
  readonly iova: number;
  readonly pa: number | null;
}
