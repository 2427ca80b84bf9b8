// The differential tests' QEMU side: qemu-system-aarch64 7.2 `virt,iommu=smmuv3,gic-version=3,its=on`
// with one `edu` at 00:01.0 (dma_mask all ones), driven over qtest. There is no qtest accelerator
// in this build, so virtual time only moves while a vCPU runs: the vCPU sits in a `wfi; b .-4`
// loop loaded with `-device loader`, and `-icount shift=0,sleep=off` warps the clock to the next
// timer (edu's DMA timer) while it idles.
import { join } from 'node:path';
import { tempDir } from './paths.js';
import { startQemu, type QemuBinary, type QemuProcess } from '../../../src/host/qemu.js';
import { QtestClient } from '../../../src/host/qtest.js';
import { EDU_BUF, EDU_DMA_LIMIT, EDU_DEVFN, VIRT, type DmaDirection, type Machine } from './machine.js';

/** Where the idle loop lives: the last page of RAM, which the scenarios never use. */
export const IDLE_LOOP_ADDR = VIRT.ramBase + VIRT.ramSize - 0x1000;
/** `wfi` (0xd503207f) then `b .-4` (0x17ffffff), little-endian, as one 8-byte loader datum. */
const IDLE_LOOP = 0x17ff_ffff_d503_207fn;

/** edu registers (BAR0 offsets) and PCI config offsets (QEMU 7.2). */
const EDU = Object.freeze({ RAISE: 0x60, ACK: 0x64, DMA_SRC: 0x80, DMA_DST: 0x88, DMA_CNT: 0x90, DMA_CMD: 0x98 });
const DMA_CMD = Object.freeze({ START: 1, TO_RAM: 2 });
const PCI = Object.freeze({ COMMAND: 0x04, BAR0: 0x10, MSI_CAP: 0x40 });
const PCI_COMMAND_MEM_BUSMASTER = 0x0006;

export interface QemuMachineOptions {
  /** vCPUs (each has a redistributor); default 1. */
  readonly cpus?: number;
  /** Hard limit for the QEMU child. */
  readonly timeoutMs?: number;
  /** Which QEMU build runs (the system's 7.2 by default). */
  readonly binary?: QemuBinary;
  /** Extra arguments (e.g. `-global arm-smmuv3.stage=nested`). */
  readonly extraArgs?: readonly string[];
}

export class QemuMachine implements Machine {
  readonly kind = 'qemu' as const;
  private msiAddr = -1n;
  private msiData = -1;

  private constructor(
    private readonly proc: QemuProcess,
    readonly qt: QtestClient,
    private readonly cleanup: () => void,
  ) {}

  static async start(opts: QemuMachineOptions = {}): Promise<QemuMachine> {
    const tmp = tempDir('qtest');
    const sock = join(tmp.path, 'qtest.sock');
    const listener = QtestClient.listen(sock);
    const loop = `0x${IDLE_LOOP_ADDR.toString(16)}`;
    const proc = startQemu(
      [
        '-M', 'virt,iommu=smmuv3,gic-version=3,its=on',
        '-cpu', 'cortex-a57',
        '-smp', String(opts.cpus ?? 1),
        '-m', `${VIRT.ramSize >> 20}M`,
        '-nodefaults', '-display', 'none', '-serial', 'none', '-monitor', 'none',
        '-qtest', `unix:${sock}`, '-qtest-log', 'none',
        '-icount', 'shift=0,sleep=off',
        '-device', `edu,addr=${(EDU_DEVFN >> 3).toString(16)}.${EDU_DEVFN & 7},dma_mask=0xffffffffffffffff`,
        '-device', `loader,data=0x${IDLE_LOOP.toString(16)},data-len=8,addr=${loop}`,
        '-device', `loader,addr=${loop},cpu-num=0`,
        ...(opts.extraArgs ?? []),
      ],
      { timeoutMs: opts.timeoutMs ?? 120_000, ...(opts.binary ? { binary: opts.binary } : {}) },
    );
    let qt: QtestClient;
    try {
      qt = await Promise.race([
        listener.accepted(15_000),
        proc.exited.then(() => {
          throw new Error(`QEMU exited at start: ${proc.stderr()}`);
        }),
      ]);
    } catch (e) {
      listener.server.close();
      await proc.kill();
      tmp.cleanup();
      throw e;
    }
    const m = new QemuMachine(proc, qt, tmp.cleanup);
    try {
      await m.setupEdu();
    } catch (e) {
      await m.close();
      throw e;
    }
    return m;
  }

  private cfg(reg: number): number {
    return VIRT.ecamBase + (EDU_DEVFN << 12) + reg;
  }

  private bar(reg: number): number {
    return VIRT.mmio32Base + reg;
  }

  /** BAR0 at the start of the 32-bit window, memory decoding and bus mastering on (no firmware ran). */
  private async setupEdu(): Promise<void> {
    await this.qt.writel(this.cfg(PCI.BAR0), VIRT.mmio32Base);
    await this.qt.writew(this.cfg(PCI.COMMAND), PCI_COMMAND_MEM_BUSMASTER);
    const id = await this.qt.readl(this.bar(0));
    if (id !== 0x010000ed) throw new Error(`edu ID register reads 0x${id.toString(16)}, expected 0x010000ed`);
  }

  writeBytes(addr: number, data: Uint8Array): Promise<void> {
    return this.qt.write(addr, data);
  }
  readBytes(addr: number, len: number): Promise<Uint8Array> {
    return this.qt.read(addr, len);
  }
  read32(addr: number): Promise<number> {
    return this.qt.readl(addr);
  }
  write32(addr: number, v: number): Promise<void> {
    return this.qt.writel(addr, v);
  }
  read64(addr: number): Promise<bigint> {
    return this.qt.readq(addr);
  }
  write64(addr: number, v: bigint): Promise<void> {
    return this.qt.writeq(addr, v);
  }

  async eduDma(dir: DmaDirection, iova: bigint, len: number, bufOffset: number): Promise<void> {
    // A device range outside the 4 KiB buffer makes QEMU 7.2 abort (hw_error): refuse it here.
    if (bufOffset < 0 || len <= 0 || bufOffset + len > EDU_DMA_LIMIT) throw new RangeError(`edu DMA ${bufOffset}+${len} is outside its buffer`);
    const dev = BigInt(EDU_BUF + bufOffset);
    await this.qt.writeq(this.bar(EDU.DMA_SRC), dir === 'to-ram' ? dev : iova);
    await this.qt.writeq(this.bar(EDU.DMA_DST), dir === 'to-ram' ? iova : dev);
    await this.qt.writeq(this.bar(EDU.DMA_CNT), BigInt(len));
    await this.qt.writeq(this.bar(EDU.DMA_CMD), BigInt(DMA_CMD.START | (dir === 'to-ram' ? DMA_CMD.TO_RAM : 0)));
    const deadline = Date.now() + 10_000;
    while ((await this.qt.readq(this.bar(EDU.DMA_CMD))) & 1n) {
      if (Date.now() > deadline) throw new Error('edu DMA did not complete in 10 s');
      await new Promise((r) => setTimeout(r, 1));
    }
  }

  async eduMsi(address: bigint, data: number): Promise<void> {
    const cap = PCI.MSI_CAP;
    if (address !== this.msiAddr || data !== this.msiData) {
      await this.qt.writel(this.cfg(cap + 4), Number(address & 0xffff_ffffn));
      await this.qt.writel(this.cfg(cap + 8), Number(address >> 32n));
      await this.qt.writew(this.cfg(cap + 12), data);
      await this.qt.writew(this.cfg(cap + 2), 1); // MSI Enable, one vector
      this.msiAddr = address;
      this.msiData = data;
    }
    // edu sends its MSI synchronously inside the RAISE write; ACK clears its status again.
    await this.qt.writel(this.bar(EDU.RAISE), 1);
    await this.qt.writel(this.bar(EDU.ACK), 1);
  }

  async close(): Promise<void> {
    this.qt.close();
    await this.proc.kill();
    this.cleanup();
  }
}
