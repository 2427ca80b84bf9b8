// `vsmmu boot [PLATFORM|--preset NAME] [--kernel IMAGE] [--initrd FILE] [--disk FILE]...
//  [--profile NAME] [--append ARGS] [--run CMDS] [--interactive] [--dump DIR] [--json]
//  [--timeout S] [--gdb PORT]`: boots a stock Linux on QEMU with vsmmu's own SMMU and virtio-mmio
// devices (docs/boot.md). Exit 0 when the guest ran its commands and every check passed, 1 when a
// check failed, 2 on unusable input (no QEMU, a missing file, a bad flag).
import type { Command } from 'commander';
import { runBoot } from '../../host/boot.js';
import { buildReport, renderBootReport } from '../../host/boot-report.js';
import { bootProfile, BOOT_PROFILES, listProfiles } from '../../host/profile.js';
import { isKernelRelease, KERNEL_SUITES } from '../../host/debian.js';
import { INJECTION_NAMES, parseInjections } from '../../smmu/device/inject.js';
import { bootDevice } from '../../host/virtio-devices.js';
import { UserInputError } from '../../util/errors.js';

interface BootOpts {
  preset?: string;
  kernel?: string;
  initrd?: string;
  disk: string[];
  profile: string;
  append?: string;
  run?: string;
  interactive?: boolean;
  dump?: string;
  json?: boolean;
  timeout: string;
  gdb?: string;
  rng: boolean;
  inject: string[];
  kernelRelease: string;
  listProfiles?: boolean;
}

function positiveInt(v: string, flag: string, max: number): number {
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > max) throw new UserInputError(`expected a whole number 1..${max}, got '${v}'`, flag);
  return Number(v);
}

export function register(program: Command): void {
  program
    .command('boot')
    .description("boot Linux on QEMU with vsmmu's own SMMUv3 and virtio-mmio devices behind it, and report what the driver did")
    .argument('[platform]', 'platform description file (default: --preset qemu-hosted)')
    .option('--preset <name>', 'platform preset (default qemu-hosted)')
    .option('--kernel <image>', "arm64 kernel Image (default: Debian's stock kernel, fetched and cached)")
    .option('--initrd <file>', 'initramfs to boot instead of the built-in one (no --run then)')
    .option('--disk <file>', 'attach FILE as a virtio-blk disk (repeatable: vda, vdb, ...); writes land in it', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--profile <name>', `SMMU/boot profile (${Object.keys(BOOT_PROFILES).join(', ')}; --list-profiles describes them)`, 'default')
    .option('--list-profiles', 'list the profiles and exit')
    .option('--kernel-release <series>', `Debian kernel series when no --kernel is given (${Object.keys(KERNEL_SUITES).join(', ')})`, '6.1')
    .option('--inject <name[@when]>', `fault injection, repeatable (${INJECTION_NAMES.join(', ')}; when: boot, after=N-commands, after=Ns)`, (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--append <args>', 'extra kernel command-line arguments')
    .option('--run <commands>', 'guest shell commands to run (default: probe, IOMMU groups, checksummed O_DIRECT I/O on every disk)')
    .option('--interactive', "give the terminal to the guest's shell (Ctrl-] ends)")
    .option('--dump <dir>', 'after the run, write ram.bin, REGS.json and platform.dtb for vsmmu inspect')
    .option('--json', 'print one JSON report (the console is captured in it)')
    .option('--timeout <seconds>', 'wall-clock limit for the guest', '120')
    .option('--gdb <port>', "QEMU's GDB stub on 127.0.0.1:PORT")
    .option('--no-rng', 'do not attach the virtio-rng device')
    .action(async (platform: string | undefined, o: BootOpts) => {
      if (o.listProfiles) {
        process.stdout.write(listProfiles());
        return;
      }
      if (!isKernelRelease(o.kernelRelease)) throw new UserInputError(`expected one of ${Object.keys(KERNEL_SUITES).join(', ')}, got '${o.kernelRelease}'`, '--kernel-release');
      const injections = parseInjections(o.inject);
      if (platform !== undefined && o.preset !== undefined) throw new UserInputError('give either a PLATFORM file or --preset NAME, not both');
      if (o.interactive && o.json) throw new UserInputError('--interactive and --json cannot be combined', '--interactive');
      if (o.interactive && o.run !== undefined) throw new UserInputError('--interactive and --run cannot be combined', '--interactive');
      const profile = bootProfile(o.profile);
      const outcome = await runBoot({
        platformFile: platform,
        preset: o.preset,
        kernel: o.kernel,
        kernelRelease: o.kernelRelease,
        initrd: o.initrd,
        disks: o.disk,
        rng: o.rng,
        profile,
        injections,
        append: o.append,
        run: o.run,
        interactive: o.interactive === true,
        dump: o.dump,
        timeoutS: positiveInt(o.timeout, '--timeout', 86_400),
        gdbPort: o.gdb === undefined ? undefined : positiveInt(o.gdb, '--gdb', 65_535),
        consoleOut: o.json ? null : (s) => process.stdout.write(s),
        devices: bootDevice,
      });
      try {
        const report = buildReport(outcome, profile, o.interactive === true);
        if (o.json) process.stdout.write(JSON.stringify(report) + '\n');
        else process.stdout.write('\n' + renderBootReport(report));
        if (!report.ok) process.exitCode = 1;
      } finally {
        outcome.cleanup();
      }
    });
}
