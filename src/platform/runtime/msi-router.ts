// MSI routing by address, after any SMMU translation (the platform's MsiSink): a write to an
// interrupt controller's doorbell (an ITS's GITS_TRANSLATER, a GICv2m frame's MSI_SETSPI_NS; each
// controller owns its doorbell address, DoorbellSink) goes to that controller with the writer's
// DeviceID, any other address is a 32-bit RAM write (memoryMsiSink, e.g. CMD_SYNC MSI completion),
// and what RAM does not take is dropped and counted. IHI 0069 §5.3 (ITS), GICv2m MSI frames.
// Per-MSI path: no allocation (counters only; a bounded ring of recent drops for diagnostics).
import { memoryMsiSink } from '../../memory/msi-memory.js';
import type { DoorbellSink, MsiOutcome, MsiSink, PhysMemory } from '../../memory/types.js';

export interface MsiTarget {
  readonly name: string;
  readonly sink: DoorbellSink;
}

export interface DroppedMsi {
  address: number;
  data: number;
  deviceId: number | null;
}

const DROP_RING = 32;

export class MsiRouter implements MsiSink {
  private readonly targets: MsiTarget[] = [];
  readonly counts = { delivered: 0, memory: 0, dropped: 0, aborted: 0, unrouted: 0 };
  private readonly drops: DroppedMsi[] = [];
  private dropNext = 0;

  private readonly ram: MsiSink;

  constructor(memory: PhysMemory) {
    this.ram = memoryMsiSink(memory);
  }

  /** Routes MSIs written to `sink.doorbell` to `sink`. */
  addTarget(name: string, sink: DoorbellSink): void {
    this.targets.push({ name, sink });
  }

  msiWrite(address: number, data: number, deviceId: number | null): MsiOutcome {
    const ts = this.targets;
    for (let i = 0; i < ts.length; i++) {
      const t = ts[i]!;
      if (t.sink.doorbell === address) {
        const out = t.sink.msiWrite(address, data, deviceId);
        this.counts[out]++;
        return out;
      }
    }
    if (this.ram.msiWrite(address, data, deviceId) === 'memory') {
      this.counts.memory++;
      return 'memory';
    }
    this.counts.unrouted++;
    this.counts.dropped++;
    this.noteDrop(address, data, deviceId);
    return 'dropped';
  }

  private noteDrop(address: number, data: number, deviceId: number | null): void {
    if (this.drops.length < DROP_RING) {
      this.drops.push({ address, data, deviceId });
    } else {
      const d = this.drops[this.dropNext]!;
      d.address = address;
      d.data = data;
      d.deviceId = deviceId;
    }
    this.dropNext = (this.dropNext + 1) % DROP_RING;
  }

  /** Recent MSIs that matched no target and no RAM (oldest first). */
  recentDrops(): DroppedMsi[] {
    if (this.drops.length < DROP_RING) return this.drops.map((d) => ({ ...d }));
    return [...this.drops.slice(this.dropNext), ...this.drops.slice(0, this.dropNext)].map((d) => ({ ...d }));
  }
}
