// The differential tests' second model side: the platform runtime a VMM embeds (src/platform/
// runtime/platform.ts) built from our `qemu-virt` preset (with the peer's SMMU feature profile)
// plus one endpoint `edu` at 00:01.0. The
// harness reaches it only the way the guest reaches QEMU: RAM and registers through the platform's
// MMIO bus (SMMU, ITS, GICR, ECAM), edu's command register and MSI capability through ECAM config
// space, its DMA through the PCIe function's port (requester ID -> stream ID by the derived ID
// maps, then the SMMU) and its MSI through the function's MSI capability (SMMU, then the MSI
// router to the ITS). The ITS uses the runtime's default profile: its tables' IMPLEMENTATION
// DEFINED layouts differ from QEMU's, which the comparison must not (and does not) see.
import { loadPreset } from '../../../src/platform/presets/index.js';
import { Platform } from '../../../src/platform/runtime/platform.js';
import type { PciFunction } from '../../../src/pcie/function.js';
import type { SmmuProfileName } from '../../../src/platform/description.js';
import type { U64 } from '../../../src/memory/types.js';
import { EDU_DEVFN, VIRT, type DmaDirection, type Machine } from './machine.js';
import { EduModel } from './model-machine.js';

const PCI = Object.freeze({ COMMAND: 0x04, MSI_CAP_ID: 0x05, CAP_PTR: 0x34 });
const PCI_COMMAND_MEM_BUSMASTER = 0x0006;

export class PlatformMachine implements Machine {
  readonly kind = 'model' as const;
  readonly platform: Platform;
  readonly fn: PciFunction;
  private readonly edu: EduModel;
  private readonly u: U64 = { lo: 0, hi: 0 };
  private msiCap = -1;

  constructor(opts: { cpus?: number; smmuProfile?: SmmuProfileName } = {}) {
    const base = loadPreset('qemu-virt');
    const [rc0, ...rest] = base.rootComplexes;
    if (!rc0) throw new Error('qemu-virt preset has no root complex');
    const desc = {
      ...base,
      smmus: base.smmus.map((s) => ({ ...s, features: opts.smmuProfile ?? s.features })),
      cpus: { ...base.cpus, count: opts.cpus ?? 1 },
      rootComplexes: [{ ...rc0, endpoints: [...rc0.endpoints, { kind: 'endpoint' as const, name: 'edu', device: EDU_DEVFN >> 3, functions: 1 }] }, ...rest],
    };
    this.platform = new Platform(desc);
    const fn = this.platform.functions().find((f) => f.fn.requesterId() === EDU_DEVFN)?.fn;
    if (!fn) throw new Error(`the platform has no function at requester ID 0x${EDU_DEVFN.toString(16)}`);
    this.fn = fn;
    this.edu = new EduModel(fn.dmaPort(null));
    this.platform.bus.write(this.cfg(PCI.COMMAND), 2, PCI_COMMAND_MEM_BUSMASTER);
  }

  private cfg(reg: number): number {
    return VIRT.ecamBase + (EDU_DEVFN << 12) + reg;
  }

  /** Offset of the MSI capability, found by walking the capability list in config space. */
  private msiCapability(): number {
    if (this.msiCap >= 0) return this.msiCap;
    let p = this.platform.bus.read(this.cfg(PCI.CAP_PTR), 1) & 0xfc;
    for (let guard = 0; p !== 0 && guard < 48; guard++) {
      if (this.platform.bus.read(this.cfg(p), 1) === PCI.MSI_CAP_ID) return (this.msiCap = p);
      p = this.platform.bus.read(this.cfg(p + 1), 1) & 0xfc;
    }
    throw new Error('the edu function has no MSI capability');
  }

  async writeBytes(addr: number, data: Uint8Array): Promise<void> {
    if (!this.platform.memory.writeBytes(addr, data)) throw new Error(`platform RAM write outside RAM at 0x${addr.toString(16)}`);
  }
  async readBytes(addr: number, len: number): Promise<Uint8Array> {
    const out = new Uint8Array(len);
    if (!this.platform.memory.readBytes(addr, out)) throw new Error(`platform RAM read outside RAM at 0x${addr.toString(16)}`);
    return out;
  }
  async read32(addr: number): Promise<number> {
    return this.platform.bus.read(addr, 4) >>> 0;
  }
  async write32(addr: number, v: number): Promise<void> {
    this.platform.bus.write(addr, 4, v >>> 0);
  }
  async read64(addr: number): Promise<bigint> {
    this.platform.bus.read64(addr, this.u);
    return (BigInt(this.u.hi >>> 0) << 32n) | BigInt(this.u.lo >>> 0);
  }
  async write64(addr: number, v: bigint): Promise<void> {
    this.platform.bus.write64(addr, Number(v & 0xffff_ffffn), Number((v >> 32n) & 0xffff_ffffn));
  }

  async eduDma(dir: DmaDirection, iova: bigint, len: number, bufOffset: number): Promise<void> {
    this.edu.dma(dir, iova, len, bufOffset);
  }

  async eduMsi(address: bigint, data: number): Promise<void> {
    // Program the MSI capability (64-bit layout: address lo/hi at +4/+8, data at +12), enable, signal.
    const cap = this.msiCapability();
    const bus = this.platform.bus;
    const is64 = (bus.read(this.cfg(cap + 2), 2) & 0x80) !== 0;
    bus.write(this.cfg(cap + 4), 4, Number(address & 0xffff_ffffn));
    if (is64) bus.write(this.cfg(cap + 8), 4, Number(address >> 32n));
    bus.write(this.cfg(cap + (is64 ? 12 : 8)), 2, data & 0xffff);
    bus.write(this.cfg(cap + 2), 2, bus.read(this.cfg(cap + 2), 2) | 1);
    this.fn.signal(0);
  }

  async close(): Promise<void> {}
}
