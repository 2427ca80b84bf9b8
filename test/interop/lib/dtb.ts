// Device trees for the Linux interop test: our generated DTB (`vsmmu platform build`), QEMU 7.2's
// own (`-M ...,dumpdtb=`) as the control, and deliberately broken variants made with dtc
// (device-tree-compiler): decompile, edit one property, recompile.
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MACHINE, RAM_MIB } from './linux-boot.js';
import { SYSTEM_QEMU, type QemuBinary } from '../../../src/host/qemu.js';
import { vsmmuOk } from './vsmmu-cli.js';

/** Name of the PCIe root complex in our qemu-virt preset that the SMMU covers. */
export const QEMU_VIRT_RC = 'pcie0';

/**
 * QEMU's own DTB for the machine the Linux test boots, passed through dtc. The raw dumpdtb blob is
 * padded to 1 MiB, and QEMU 7.2 booting that blob with `-dtb` leaves the guest silent (observed
 * here); the dtc round trip drops the padding and boots like QEMU's built-in tree.
 */
export function dumpQemuDtb(dir: string, binary: QemuBinary = SYSTEM_QEMU, name = 'qemu-virt'): string {
  const raw = join(dir, `${name}.raw.dtb`);
  const args = ['-M', `${MACHINE},dumpdtb=${raw}`, '-cpu', 'cortex-a57', '-smp', '1', '-m', `${RAM_MIB}M`, '-display', 'none', '-nic', 'none'];
  execFileSync(binary.command, [...binary.prefixArgs, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 30_000,
  });
  return dtsToDtb(dtbToDts(raw), join(dir, `${name}.dtb`));
}

/** Our DTB: `vsmmu platform build --preset qemu-virt --gic-msi its --smmu <rc> --out DIR`. */
export async function buildOurDtb(dir: string, rc = QEMU_VIRT_RC): Promise<string> {
  const out = join(dir, 'platform');
  await vsmmuOk(['platform', 'build', '--preset', 'qemu-virt', '--gic-msi', 'its', '--smmu', rc, '--out', out]);
  const dtb = join(out, 'platform.dtb');
  if (!existsSync(dtb)) throw new Error(`vsmmu platform build wrote no ${dtb}`);
  return dtb;
}

export function dtbToDts(dtb: string): string {
  return execFileSync('dtc', ['-q', '-I', 'dtb', '-O', 'dts', dtb], { encoding: 'utf8', timeout: 30_000 });
}

export function dtsToDtb(dts: string, out: string): string {
  const src = out + '.dts';
  writeFileSync(src, dts);
  execFileSync('dtc', ['-q', '-I', 'dts', '-O', 'dtb', '-o', out, src], { timeout: 30_000 });
  return out;
}

/**
 * A copy of `dtb` whose PCIe `iommu-map` has its first entry's stream-ID base (the third cell)
 * replaced by `sidBase`: Linux then configures STEs for stream IDs QEMU never uses.
 */
export function withIommuMapBase(dtb: string, sidBase: number, out: string): string {
  const dts = dtbToDts(dtb);
  let hits = 0;
  const edited = dts.replace(/(iommu-map\s*=\s*<\s*\S+\s+\S+\s+)(\S+)/, (_m, head: string) => {
    hits++;
    return `${head}0x${sidBase.toString(16)}`;
  });
  if (hits !== 1) throw new Error(`no iommu-map property in ${dtb}`);
  return dtsToDtb(edited, out);
}

/** The iommu-map cells of the first PCIe node, as numbers (for asserting what a DTB says). */
export function iommuMapCells(dtb: string): number[] {
  const m = /iommu-map\s*=\s*<([^>]*)>/.exec(dtbToDts(dtb));
  if (!m?.[1]) return [];
  return m[1].trim().split(/\s+/).map((s) => Number(s));
}

