// The firmware image QEMU runs first in the hosted layout: a 40-byte flash image that enters the
// arm64 Linux kernel the way its boot protocol asks (Documentation/arch/arm64/booting.rst:
// x0 = physical address of the device tree, x1 = x2 = x3 = 0, MMU off, jump to the Image).
// QEMU's virt only creates the ACPI GED that cold-plugged memory (the register window) needs when
// firmware is loaded, which is why the kernel is not started with -kernel.
import { br, ldrLiteral64, movReg64, XZR } from '../spec/a64.js';

export const BOOT_STUB_SIZE = 40;

/** Six instructions, then the two 64-bit literals they load. */
export function bootStub(dtbAddress: number, kernelAddress: number): Uint8Array {
  const out = new Uint8Array(BOOT_STUB_SIZE);
  const v = new DataView(out.buffer);
  const litDtb = 24;
  const litKernel = 32;
  const words = [
    ldrLiteral64(0, litDtb - 0), // x0 = DTB
    movReg64(1, XZR),
    movReg64(2, XZR),
    movReg64(3, XZR),
    ldrLiteral64(4, litKernel - 16), // x4 = kernel entry
    br(4),
  ];
  words.forEach((w, i) => v.setUint32(i * 4, w, true));
  v.setBigUint64(litDtb, BigInt(dtbAddress), true);
  v.setBigUint64(litKernel, BigInt(kernelAddress), true);
  return out;
}
