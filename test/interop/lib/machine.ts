// The one interface the differential tests drive: a machine with guest RAM, the SMMUv3, the ITS
// and redistributors at QEMU virt's addresses, and one `edu` PCI function (00:01.0, requester ID =
// stream ID = ITS DeviceID 0x8) that can DMA and raise an MSI. Implemented by QEMU 7.2 over qtest
// (./qemu-machine.ts) and by our models (./model-machine.ts), so a scenario is written once and
// its observations compared. Addresses come from our qemu-virt preset (which mirrors
// QEMU 7.2); a preset that disagrees with QEMU makes these tests fail.
import { loadPreset } from '../../../src/platform/presets/index.js';

const P = loadPreset('qemu-virt');
const smmu0 = P.smmus[0];
const rc0 = P.rootComplexes[0];
const its0 = P.gic.its;
const ram0 = P.memory[0];
const rd0 = P.gic.redistributors[0];
if (!smmu0 || !rc0 || !its0 || !ram0 || !rd0 || !rc0.mmio32) throw new Error('qemu-virt preset lacks an SMMU, root complex, ITS, RAM, redistributors or 32-bit window');

export const VIRT = Object.freeze({
  ramBase: ram0.base,
  ramSize: ram0.size,
  smmuBase: smmu0.base,
  itsBase: its0.base,
  gicrBase: rd0.base,
  ecamBase: rc0.ecam.base,
  /** First 32-bit MMIO window address: where the harness puts edu's BAR0. */
  mmio32Base: rc0.mmio32.base,
});

/** edu at 00:01.0. */
export const EDU_DEVFN = 0x08;
export const EDU_SID = EDU_DEVFN;
/** edu's DMA buffer: 4 KiB at device address 0x40000 (QEMU 7.2). */
export const EDU_BUF = 0x40000;
export const EDU_BUF_SIZE = 0x1000;
/**
 * The bytes of the buffer a DMA may use: QEMU 7.2's edu range check rejects a range that ends at
 * the buffer's last byte (observed: "DMA range 0x40000-0x40fff out of bounds (0x40000-0x40fff)",
 * then hw_error aborts QEMU), so the last byte is never used.
 */
export const EDU_DMA_LIMIT = EDU_BUF_SIZE - 1;

export type DmaDirection = 'to-ram' | 'from-ram';

export interface Machine {
  readonly kind: 'qemu' | 'model';
  /** Guest-physical byte access (RAM). */
  writeBytes(addr: number, data: Uint8Array): Promise<void>;
  readBytes(addr: number, len: number): Promise<Uint8Array>;
  /** 32/64-bit access at a guest-physical address (RAM or a device register). */
  read32(addr: number): Promise<number>;
  write32(addr: number, v: number): Promise<void>;
  read64(addr: number): Promise<bigint>;
  write64(addr: number, v: bigint): Promise<void>;
  /**
   * One edu DMA of `len` bytes between its buffer (at `bufOffset`) and bus address `iova`:
   * 'to-ram' is a device write, 'from-ram' a device read. Resolves when the transfer finished.
   */
  eduDma(dir: DmaDirection, iova: bigint, len: number, bufOffset: number): Promise<void>;
  /** edu raises its MSI: a 4-byte write of `data` to bus address `address` (through the SMMU). */
  eduMsi(address: bigint, data: number): Promise<void>;
  close(): Promise<void>;
}
