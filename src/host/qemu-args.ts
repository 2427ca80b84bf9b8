// The QEMU 7.2 command line of the hosted layout: `virt` with GICv3 + ITS and no IOMMU, guest RAM
// in a shared file, the register window as a cold-plugged DIMM over another shared file, the boot
// stub as firmware (so QEMU creates the GED the DIMM needs and puts our DTB at the start of RAM),
// the kernel Image and initramfs placed by generic loaders, the serial console on stdio, and a
// qtest socket through which this process pends interrupts.

export interface HostedQemuConfig {
  readonly ramPath: string;
  readonly ramBytes: number;
  readonly windowPath: string;
  readonly windowBase: number;
  readonly windowBytes: number;
  readonly stubPath: string;
  readonly dtbPath: string;
  readonly kernelPath: string;
  readonly kernelAddress: number;
  readonly initrdPath: string;
  readonly initrdAddress: number;
  /** Unix socket QEMU's qtest connects to (we listen). */
  readonly qtestSocket: string;
  /** GDB stub on 127.0.0.1:PORT (QEMU `-gdb`), or none. */
  readonly gdbPort?: number | undefined;
  readonly cpu?: string;
}

const mib = (bytes: number): number => Math.ceil(bytes / 0x10_0000);
const hex = (v: number): string => `0x${v.toString(16)}`;

export function hostedQemuArgs(c: HostedQemuConfig): string[] {
  const args = [
    '-M', 'virt,gic-version=3,its=on,memory-backend=ram',
    '-cpu', c.cpu ?? 'cortex-a57',
    '-smp', '1',
    '-m', `${mib(c.ramBytes)}M,slots=2,maxmem=${mib(c.ramBytes) + 1024 + mib(c.windowBytes)}M`,
    '-object', `memory-backend-file,id=ram,mem-path=${c.ramPath},size=${mib(c.ramBytes)}M,share=on`,
    '-object', `memory-backend-file,id=win,mem-path=${c.windowPath},size=${mib(c.windowBytes)}M,share=on`,
    '-device', `pc-dimm,id=win0,memdev=win,addr=${hex(c.windowBase)}`,
    '-bios', c.stubPath,
    '-dtb', c.dtbPath,
    '-device', `loader,file=${c.kernelPath},addr=${hex(c.kernelAddress)},force-raw=on`,
    '-device', `loader,file=${c.initrdPath},addr=${hex(c.initrdAddress)},force-raw=on`,
    '-display', 'none',
    '-serial', 'stdio',
    '-monitor', 'none',
    '-nic', 'none',
    '-no-reboot',
    '-qtest', `unix:${c.qtestSocket}`,
    '-qtest-log', 'none',
  ];
  if (c.gdbPort !== undefined) args.push('-gdb', `tcp:127.0.0.1:${c.gdbPort}`);
  return args;
}
