// Boots Debian's arm64 kernel under QEMU (7.2, or another build) `virt` with an SMMUv3 and an ITS, a virtio-blk-pci
// disk behind the SMMU (iommu_platform=on), and the initramfs from ./initramfs.ts; optionally with
// our own DTB (`-dtb`), guest RAM in a shared file (for `vsmmu inspect`), a QMP socket and QEMU's
// smmuv3_* trace. Facts: Linux 6.1 booted on QEMU virt.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureGuestArtifacts, type GuestArtifacts } from '../../../src/host/guest-artifacts.js';
import { buildInitramfs, DISK } from './initramfs.js';
import { tempDir } from './paths.js';
import { QmpClient } from './qmp.js';
import { startQemu, type QemuBinary, type QemuProcess } from '../../../src/host/qemu.js';

/** Guest RAM base and size on QEMU's virt machine. */
export const RAM_BASE = 0x4000_0000;
export const RAM_MIB = 512;
/** PCI slot of the virtio-blk disk: 00:02.0, requester ID / stream ID / ITS device ID 0x10. */
export const DISK_DEVFN = 0x10;

export const MACHINE = 'virt,iommu=smmuv3,gic-version=3,its=on';

export interface LinuxBootOptions {
  /** A DTB to boot instead of QEMU's own. */
  readonly dtb?: string;
  /** After the I/O: power off, or wait for the host (QMP stop). */
  readonly after: 'poweroff' | 'wait';
  /** Guest RAM in /dev/shm (memory-backend-file, share=on) so the host can read it. */
  readonly sharedRam?: boolean;
  /** Log QEMU's smmuv3_* trace events to a file. */
  readonly trace?: boolean;
  /** QEMU's GDB stub on 127.0.0.1:PORT. */
  readonly gdbPort?: number;
  readonly timeoutMs: number;
  /** The QEMU build (the system's 7.2 by default). */
  readonly binary?: QemuBinary;
  /** The guest kernel and busybox (Debian bookworm's by default). */
  readonly guest?: GuestArtifacts;
}

export interface LinuxBoot {
  readonly proc: QemuProcess;
  readonly dir: string;
  readonly diskPath: string;
  /** sha256 (hex) of the first DISK.readMiB MiB of the disk, as the guest must print it. */
  readonly expectedReadSha256: string;
  readonly ramPath: string | null;
  readonly traceLog: string | null;
  readonly qmp: QmpClient | null;
  /** Kills QEMU and removes every file of this boot. */
  dispose(): Promise<void>;
}

export async function bootLinux(opts: LinuxBootOptions): Promise<LinuxBoot> {
  const guest = opts.guest ?? ensureGuestArtifacts();
  const tmp = tempDir('linux');
  const dir = tmp.path;
  const disk = randomBytes(DISK.sizeMiB << 20);
  const diskPath = join(dir, 'disk.raw');
  writeFileSync(diskPath, disk);
  const expectedReadSha256 = createHash('sha256')
    .update(disk.subarray(0, DISK.readMiB << 20))
    .digest('hex');
  const initrd = join(dir, 'initramfs.cpio.gz');
  writeFileSync(initrd, buildInitramfs(guest, { after: opts.after }));
  const qmpPath = join(dir, 'qmp.sock');
  const ramPath = opts.sharedRam ? `/dev/shm/vsmmu-interop-${process.pid}-${Date.now()}.ram` : null;
  const traceLog = opts.trace ? join(dir, 'smmu-trace.log') : null;
  let machine = MACHINE;
  const args: string[] = [];
  if (ramPath) {
    args.push('-object', `memory-backend-file,id=mem,size=${RAM_MIB}M,mem-path=${ramPath},share=on`);
    machine += ',memory-backend=mem';
  }
  if (traceLog) {
    const events = join(dir, 'trace-events');
    writeFileSync(events, 'smmuv3_*\n');
    args.push('-trace', `events=${events}`, '-D', traceLog);
  }
  if (opts.dtb) args.push('-dtb', opts.dtb);
  if (opts.gdbPort !== undefined) args.push('-gdb', `tcp:127.0.0.1:${opts.gdbPort}`);
  args.push(
    '-M', machine,
    '-cpu', 'cortex-a57',
    '-smp', '1',
    '-m', `${RAM_MIB}M`,
    '-display', 'none',
    '-serial', 'stdio',
    '-monitor', 'none',
    '-no-reboot',
    '-nic', 'none', // no default virtio-net (its option ROM comes from a package CI does not install)
    '-kernel', guest.kernel,
    '-initrd', initrd,
    '-append', 'console=ttyAMA0 panic=-1',
    '-drive', `if=none,id=hd0,file=${diskPath},format=raw`,
    '-device', `virtio-blk-pci,drive=hd0,iommu_platform=on,disable-legacy=on,addr=${(DISK_DEVFN >> 3).toString(16)}.0`,
    '-qmp', `unix:${qmpPath},server=on,wait=off`,
  );
  const proc = startQemu(args, { timeoutMs: opts.timeoutMs, ...(opts.binary ? { binary: opts.binary } : {}) });
  let qmp: QmpClient | null = null;
  const dispose = async (): Promise<void> => {
    qmp?.close();
    await proc.kill();
    if (ramPath) rmSync(ramPath, { force: true });
    tmp.cleanup();
  };
  try {
    qmp = await QmpClient.connect(qmpPath, proc);
  } catch (e) {
    await dispose();
    throw e;
  }
  return { proc, dir, diskPath, expectedReadSha256, ramPath, traceLog, qmp, dispose };
}

/** The console lines between `VSMMU-<name>-BEGIN` and `VSMMU-<name>-END`. */
export function consoleSection(console: string, name: string): string[] {
  const m = new RegExp(`VSMMU-${name}-BEGIN\\r?\\n([\\s\\S]*?)VSMMU-${name}-END`).exec(console);
  return m?.[1] ? m[1].split(/\r?\n/).filter((l) => l.trim().length > 0) : [];
}

/** True when the disk copy the guest made ([0,read) -> [copyTo, copyTo+read)) landed. */
export function diskCopyLanded(diskPath: string): boolean {
  const d = readFileSync(diskPath);
  const n = DISK.readMiB << 20;
  const off = DISK.copyToMiB << 20;
  return d.subarray(0, n).equals(d.subarray(off, off + n));
}
