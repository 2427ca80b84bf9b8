// The differential tests' model side, assembled by hand: our SmmuV3 (the peer's feature profile,
// `qemu-7.2` by default), GicV3 redistributors and GicIts (profile `qemu-7.2`) over a GuestMemory laid out like QEMU's
// virt machine, and a model of the `edu` function (4 KiB buffer, one MSI vector) on stream 0x8.
// The edu model is device behaviour, not SMMU behaviour: like QEMU's edu it ignores DMA errors, so
// a failed read leaves zeros in its buffer from the failing byte on, and a failed write stops.
// ./platform-machine.ts is the same through the platform runtime (PCIe, ECAM, ID maps, MSI router).
import { GuestMemory } from '../../../src/memory/guest-memory.js';
import type { DmaPort, MmioDevice, MsiSink, U64 } from '../../../src/memory/types.js';
import { MsiRouter } from '../../../src/platform/runtime/msi-router.js';
import { GicIts } from '../../../src/intc/its.js';
import { GicV3 } from '../../../src/intc/gicv3.js';
import { QEMU_7_2_FEATURES, type SmmuFeatures } from '../../../src/smmu/features.js';
import type { ItsProfileName } from '../../../src/intc/its-config.js';
import { SmmuV3 } from '../../../src/smmu/device/smmu-v3.js';
import { SMMU_MMIO_SIZE } from '../../../src/spec/smmuv3/registers.js';
import { ITS_FRAME_SIZE } from '../../../src/spec/gic/its-registers.js';
import { EDU_BUF_SIZE, EDU_DMA_LIMIT, EDU_SID, VIRT, type DmaDirection, type Machine } from './machine.js';

export interface ModelMachineOptions {
  readonly cpus?: number;
  /** SMMU feature profile (default: qemu-7.2's). */
  readonly features?: SmmuFeatures;
  /** ITS profile (default: qemu-7.2). */
  readonly itsProfile?: ItsProfileName;
}

/**
 * The edu function's behaviour over any DMA port: a 4 KiB buffer; a DMA error ends the transfer
 * (QEMU's edu ignores errors: a failed read leaves zeros from the failing byte on, a failed write
 * stops). Shared by both model-side machines.
 */
export class EduModel {
  readonly buffer = new Uint8Array(EDU_BUF_SIZE);

  constructor(private readonly port: DmaPort) {}

  dma(dir: DmaDirection, iova: bigint, len: number, bufOffset: number): void {
    if (bufOffset < 0 || len <= 0 || bufOffset + len > EDU_DMA_LIMIT) throw new RangeError(`edu DMA ${bufOffset}+${len} is outside its buffer`);
    const buf = this.buffer.subarray(bufOffset, bufOffset + len);
    if (dir === 'to-ram') {
      this.port.write(Number(iova), buf);
    } else {
      const tmp = new Uint8Array(len);
      const fault = this.port.read(Number(iova), tmp);
      if (fault) tmp.fill(0, fault.done);
      buf.set(tmp);
    }
  }
}

export class ModelMachine implements Machine {
  readonly kind = 'model' as const;
  readonly mem = new GuestMemory();
  readonly smmu: SmmuV3;
  readonly gic: GicV3;
  readonly its: GicIts;
  readonly edu: EduModel;
  /** Where translated MSIs land: the ITS doorbell, else RAM. */
  readonly msiSink: MsiSink;
  private readonly windows: Array<{ base: number; dev: MmioDevice }>;
  private readonly u: U64 = { lo: 0, hi: 0 };

  constructor(opts: ModelMachineOptions = {}) {
    this.mem.addRam(VIRT.ramBase, VIRT.ramSize);
    this.smmu = new SmmuV3(this.mem, { features: opts.features ?? QEMU_7_2_FEATURES });
    this.gic = new GicV3(this.mem, { peCount: opts.cpus ?? 1, redistributorBase: VIRT.gicrBase });
    this.its = new GicIts(this.mem, this.gic, { profile: opts.itsProfile ?? 'qemu-7.2' });
    // As the platform routes MSIs: the ITS doorbell to the ITS, anything else to RAM.
    const router = new MsiRouter(this.mem);
    router.addTarget('its', this.its.msiSink(VIRT.itsBase));
    this.msiSink = router;
    this.edu = new EduModel(this.smmu.dma(EDU_SID, null));
    this.windows = [
      { base: VIRT.smmuBase, dev: this.smmu },
      { base: VIRT.itsBase, dev: this.its },
      { base: VIRT.gicrBase, dev: this.gic.redistributorRegion },
    ];
  }

  private route(addr: number): { dev: MmioDevice; off: number } | null {
    for (const w of this.windows) {
      const size = w.dev === this.smmu ? SMMU_MMIO_SIZE : w.dev === this.its ? ITS_FRAME_SIZE : w.dev.mmioSize;
      if (addr >= w.base && addr < w.base + size) return { dev: w.dev, off: addr - w.base };
    }
    return null;
  }

  async writeBytes(addr: number, data: Uint8Array): Promise<void> {
    if (!this.mem.writeBytes(addr, data)) throw new Error(`model RAM write outside RAM at 0x${addr.toString(16)}`);
  }
  async readBytes(addr: number, len: number): Promise<Uint8Array> {
    const out = new Uint8Array(len);
    if (!this.mem.readBytes(addr, out)) throw new Error(`model RAM read outside RAM at 0x${addr.toString(16)}`);
    return out;
  }
  async read32(addr: number): Promise<number> {
    const r = this.route(addr);
    if (r) return r.dev.read(r.off, 4) >>> 0;
    const v = this.mem.read32(addr);
    return v < 0 ? 0 : v;
  }
  async write32(addr: number, v: number): Promise<void> {
    const r = this.route(addr);
    if (r) r.dev.write(r.off, 4, v >>> 0);
    else this.mem.write32(addr, v >>> 0);
  }
  async read64(addr: number): Promise<bigint> {
    const r = this.route(addr);
    if (r) r.dev.read64(r.off, this.u);
    else if (!this.mem.read64(addr, this.u)) return 0n;
    return (BigInt(this.u.hi >>> 0) << 32n) | BigInt(this.u.lo >>> 0);
  }
  async write64(addr: number, v: bigint): Promise<void> {
    const lo = Number(v & 0xffff_ffffn);
    const hi = Number((v >> 32n) & 0xffff_ffffn);
    const r = this.route(addr);
    if (r) r.dev.write64(r.off, lo, hi);
    else this.mem.write64(addr, lo, hi);
  }

  async eduDma(dir: DmaDirection, iova: bigint, len: number, bufOffset: number): Promise<void> {
    this.edu.dma(dir, iova, len, bufOffset);
  }

  async eduMsi(address: bigint, data: number): Promise<void> {
    // PCI MSI: a 4-byte write of the data (16-bit MSI data zero-extended), DeviceID = requester ID.
    this.smmu.translateMsi(EDU_SID, Number(address), data & 0xffff, EDU_SID, this.msiSink);
  }

  async close(): Promise<void> {}
}
