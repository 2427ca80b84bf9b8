// `vsmmu boot`: a stock Linux guest on QEMU (CPU, RAM, GICv3 + ITS, UART) whose SMMU is vsmmu's
// SmmuV3 running in this process, with virtio-mmio devices behind it. This module runs one boot:
// it prepares the files (shared RAM, register window, boot stub, device tree, initramfs, disks),
// starts QEMU with a wall-clock limit, polls the window until the guest powers off (or the limit,
// or Ctrl-C), and returns what happened. Every exit path kills QEMU by its pid and removes every
// file and socket it created.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { performance } from 'node:perf_hooks';
import type { PlatformDescription } from '../platform/description.js';
import { deriveIdMaps } from '../platform/derive-ids.js';
import { loadPlatform } from '../platform/presets/index.js';
import { HOSTED_WINDOW } from '../platform/presets/qemu-hosted.js';
import { buildDeviceTree } from '../firmware/dt/build.js';
import { writeDtb } from '../firmware/fdt/writer.js';
import { REGISTERS } from '../spec/smmuv3/registers.js';
import { UserInputError } from '../util/errors.js';
import { hex } from '../util/hex.js';
import { bootStub } from './boot-stub.js';
import type { InjectionSpec } from '../smmu/device/inject.js';
import type { KernelRelease } from './debian.js';
import { ensureGuestArtifacts, moduleLoadOrder, type GuestArtifacts } from './guest-artifacts.js';
import type { GuestInterrupts } from './guest-interrupts.js';
import { QtestInterrupts } from './guest-interrupts.js';
import { defaultRunScript, diskName, initScript, MARK, planDisk, xorshift32, type DiskPlan } from './guest-script.js';
import { HostedMachine, type DeviceFactory } from './hosted-machine.js';
import { buildInitramfs } from './initramfs.js';
import type { BootProfile } from './profile.js';
import { hostedQemuArgs } from './qemu-args.js';
import { QEMU, startQemu, type QemuProcess } from './qemu.js';
import { QtestClient } from './qtest.js';
import { sharedFileMemory } from './shared-ram.js';
import { FileWindow } from './window-bridge.js';

/** Where the loaders put the kernel Image and the initramfs, relative to the start of RAM (the DTB is at +0). */
export const KERNEL_OFFSET = 0x20_0000;
export const INITRD_OFFSET = 0x800_0000;
/** Poll backoff: after this long without activity, sleep this long after each poll. */
const IDLE_AFTER_MS = 50;
const IDLE_SLEEP_MS = 0.2;
/** Size of the scratch disk created when no --disk is given. */
export const SCRATCH_DISK_BYTES = 64 << 20;

/** One virtio device to attach, in slot order. */
export type DeviceRequest = { readonly kind: 'blk'; readonly path: string; readonly scratch: boolean } | { readonly kind: 'rng' };

/** Builds the device model of one request (the virtio subsystem supplies it). */
export type DeviceBuilder = (req: DeviceRequest) => DeviceFactory;

export interface BootRequest {
  /** Platform description file, or a preset name (default qemu-hosted). */
  readonly platformFile?: string | undefined;
  readonly preset?: string | undefined;
  readonly kernel?: string | undefined;
  /** Which Debian kernel series to fetch when no --kernel is given (default 6.1). */
  readonly kernelRelease?: KernelRelease | undefined;
  readonly initrd?: string | undefined;
  readonly disks: readonly string[];
  /** Attach a virtio-rng device after the disks. */
  readonly rng: boolean;
  readonly profile: BootProfile;
  /** Fault injections into the SMMU. */
  readonly injections?: readonly InjectionSpec[] | undefined;
  readonly append?: string | undefined;
  /** Guest shell commands; undefined = the default checks. */
  readonly run?: string | undefined;
  readonly interactive: boolean;
  readonly dump?: string | undefined;
  readonly timeoutS: number;
  readonly gdbPort?: number | undefined;
  /** Receives console output as it arrives (null: captured only). */
  readonly consoleOut: ((chunk: string) => void) | null;
  readonly devices: DeviceBuilder;
  /** Called with the machine before the guest starts (fault injection, extra wiring). */
  readonly prepare?: ((m: HostedMachine) => void) | undefined;
  /** Supplies the Debian kernel, its modules and busybox (default: bookworm's, fetched and cached). */
  readonly guest?: (() => GuestArtifacts) | undefined;
  /** Seed of the random offsets and scratch contents (default: random). */
  readonly seed?: number | undefined;
}

export interface BootOutcome {
  readonly desc: PlatformDescription;
  readonly machine: HostedMachine;
  readonly console: string;
  readonly qemuExit: { code: number | null; signal: NodeJS.Signals | null } | null;
  /** Why the run ended. */
  readonly ended: 'poweroff' | 'timeout' | 'interrupted' | 'qemu-failed';
  readonly kernel: { readonly path: string; readonly version: string | null };
  readonly runCommand: string;
  readonly plans: readonly DiskPlan[];
  readonly disks: readonly { readonly dev: string; readonly path: string; readonly scratch: boolean }[];
  /** Seconds from QEMU start to the guest's /init, or null if it never ran. */
  readonly bootSeconds: number | null;
  readonly wallSeconds: number;
  readonly polls: number;
  readonly pollSeconds: number;
  /** Per CMD_SYNC-consuming poll: microseconds from the previous poll's start to this poll's end. */
  readonly syncLatencyUs: readonly number[];
  readonly interruptErrors: readonly string[];
  readonly qemuStderr: string;
  readonly dumpDir: string | null;
  /** The model's state when the run ended (before the guest shut its drivers down), or null. */
  readonly atRunEnd: { readonly rings: ReturnType<typeof ringsJson>; readonly registers: Record<string, string> } | null;
  /** Files left for the caller to read before cleanup() (disk files live until then). */
  cleanup(): void;
}

function qemuUsable(): boolean {
  const r = spawnSync(QEMU, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  return r.error === undefined && r.status === 0;
}

/** A kernel Image; a gzip'd one (vmlinuz of some distributions) is unpacked into `dir`. */
function rawKernel(path: string, dir: string): string {
  const head = Buffer.alloc(2);
  const fd = openSync(path, 'r');
  try {
    if (statSync(path).size < 64) throw new UserInputError('too small to be a kernel Image', `--kernel ${path}`);
    readSync(fd, head, 0, 2, 0);
  } finally {
    closeSync(fd);
  }
  if (head[0] !== 0x1f || head[1] !== 0x8b) return path;
  const out = join(dir, 'Image');
  try {
    writeFileSync(out, gunzipSync(readFileSync(path)));
  } catch (e) {
    throw new UserInputError(`cannot unpack the gzip'd kernel (${(e as Error).message})`, `--kernel ${path}`);
  }
  return out;
}


/** The release in an Image's "Linux version X" banner (what `uname -r` will say), or null. */
export function imageVersion(path: string): string | null {
  const bytes = readFileSync(path);
  const at = bytes.indexOf('Linux version ');
  if (at < 0) return null;
  const m = /^Linux version (\S+)/.exec(bytes.subarray(at, at + 200).toString('latin1'));
  return m ? m[1]! : null;
}

/** The description with exactly `count` virtio-mmio slots and the profile's SMMU interrupt choice. */
function hostedDescription(req: BootRequest, count: number, bootargs: string): PlatformDescription {
  const src = req.platformFile !== undefined ? { config: req.platformFile } : { preset: req.preset ?? 'qemu-hosted' };
  const d = loadPlatform(src);
  const where = req.platformFile ?? `--preset ${req.preset ?? 'qemu-hosted'}`;
  const s = d.smmus[0];
  if (!s) throw new UserInputError('the platform has no SMMU to host', where);
  const inWindow = (base: number, size: number): boolean => base >= HOSTED_WINDOW.base && base + size <= HOSTED_WINDOW.base + HOSTED_WINDOW.size;
  if (!inWindow(s.base, 0x2_0000)) throw new UserInputError(`SMMU '${s.name}' at ${hex(s.base)} is outside the register window ${hex(HOSTED_WINDOW.base)}..${hex(HOSTED_WINDOW.base + HOSTED_WINDOW.size - 1)}`, where);
  const slots = d.virtioMmio.filter((v) => v.smmu === s.name);
  if (slots.length < count) throw new UserInputError(`${count} virtio devices requested but the platform has ${slots.length} virtio-mmio slots behind '${s.name}'`, where);
  for (const v of slots.slice(0, count)) {
    if (!inWindow(v.base, v.size)) throw new UserInputError(`virtio-mmio '${v.name}' at ${hex(v.base)} is outside the register window`, where);
  }
  if (d.rootComplexes.length > 0) throw new UserInputError('a hosted platform cannot have PCIe root complexes (config space cannot live in a polled window)', where);
  if (req.profile.smmuIrqs === 'msi' && !(d.gic.msi === 'its' && d.gic.its)) throw new UserInputError(`profile '${req.profile.name}' signals SMMU interrupts by MSI and needs an ITS`, where);
  if (req.profile.smmuIrqs === 'msi' && !req.profile.features.msi) throw new RangeError(`profile ${req.profile.name}: MSI interrupts without IDR0.MSI`);
  return {
    ...d,
    smmus: [{ ...s, msi: req.profile.smmuIrqs === 'msi', msiDeviceId: 0 }],
    virtioMmio: slots.slice(0, count),
    bootargs,
  };
}

/** /dev/shm when it exists and has `bytes` free (plus a margin), else `fallback`. */
function sharedFileDir(bytes: number, fallback: string): string {
  try {
    const st = statfsSync('/dev/shm');
    if (st.bavail * st.bsize >= bytes + (64 << 20)) return '/dev/shm';
  } catch {
    /* no /dev/shm */
  }
  return fallback;
}

/** Fills a scratch disk with contents derived from `seed` (known to the host, checked after). */
function writeScratchDisk(path: string, bytes: number, seed: number): void {
  const rnd = xorshift32(seed);
  const words = new Uint32Array(bytes / 4);
  for (let i = 0; i < words.length; i++) words[i] = rnd();
  writeFileSync(path, new Uint8Array(words.buffer));
}

const sleepImmediate = (): Promise<void> => new Promise((r) => setImmediate(r));

export async function runBoot(req: BootRequest): Promise<BootOutcome> {
  if (!qemuUsable()) throw new UserInputError(`cannot run ${QEMU} (install qemu-system-arm, or set VSMMU_QEMU)`);
  if (req.kernel !== undefined && !existsSync(req.kernel)) throw new UserInputError('no such file', `--kernel ${req.kernel}`);
  if (req.initrd !== undefined && !existsSync(req.initrd)) throw new UserInputError('no such file', `--initrd ${req.initrd}`);
  if (req.initrd !== undefined && req.run !== undefined) throw new UserInputError('--run needs the built-in initramfs (it runs the commands); drop --initrd', '--run');
  for (const d of req.disks) {
    if (!existsSync(d) || !statSync(d).isFile()) throw new UserInputError('no such regular file', `--disk ${d}`);
    if (statSync(d).size < 512) throw new UserInputError('a disk must be at least 512 bytes', `--disk ${d}`);
  }
  const seed = req.seed ?? randomBytes(4).readUInt32LE();
  const cleanups: (() => void)[] = [];
  const cleanup = (): void => {
    for (const c of cleanups.splice(0).reverse()) {
      try {
        c();
      } catch {
        /* best effort: keep removing the rest */
      }
    }
  };
  let proc: QemuProcess | null = null;
  const onSignal = (): void => {
    interrupted = true;
  };
  let interrupted = false;
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  cleanups.push(() => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  });
  try {
    const dir = mkdtempSync(join(tmpdir(), 'vsmmu-boot-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const tag = `vsmmu-${process.pid}-${randomBytes(4).toString('hex')}`;

    // Guest pieces.
    const needDebian = req.kernel === undefined || req.initrd === undefined;
    const guest: GuestArtifacts | null = needDebian ? (req.guest ?? (() => ensureGuestArtifacts(req.kernelRelease ?? '6.1')))() : null;
    const kernelPath = rawKernel(req.kernel ?? guest!.kernel, dir);
    const kernelVersion = req.kernel === undefined ? guest!.kernelVersion : imageVersion(kernelPath);
    // The guest's modules fit a kernel of the same version only (a user's kernel may have them built in).
    const modulesFit = guest !== null && kernelVersion === guest.kernelVersion;

    // Devices: disks (given, or one scratch disk), then rng.
    const disks: { dev: string; path: string; scratch: boolean }[] = [];
    if (req.disks.length === 0 && req.initrd === undefined) {
      const p = join(dir, 'scratch.img');
      writeScratchDisk(p, SCRATCH_DISK_BYTES, seed);
      disks.push({ dev: diskName(0), path: p, scratch: true });
    } else req.disks.forEach((p, i) => disks.push({ dev: diskName(i), path: p, scratch: false }));
    const requests: DeviceRequest[] = disks.map((d) => ({ kind: 'blk', path: d.path, scratch: d.scratch }));
    if (req.rng) requests.push({ kind: 'rng' });

    const plans = disks.map((d, i) => planDisk(d.dev, statSync(d.path).size, d.scratch, (seed + i * 0x9e37_79b9) >>> 0));
    const runCommand = req.run ?? defaultRunScript(plans);

    const bootargs = ['console=ttyAMA0', 'panic=-1', ...req.profile.kernelArgs, ...(req.append ? [req.append] : [])].join(' ');
    const desc = hostedDescription(req, requests.length, bootargs);
    const ram = desc.memory[0]!;

    // Initramfs: ours (busybox, virtio modules, the init script and the run), or the user's.
    let initrdPath = req.initrd;
    if (initrdPath === undefined) {
      const wanted = ['virtio_mmio', 'virtio_blk', ...(req.rng ? ['virtio_rng'] : [])];
      const modules = modulesFit ? moduleLoadOrder(guest!.modulesDir, wanted) : [];
      const init = initScript({ modules, disks: disks.map((d) => d.dev), mode: req.interactive ? 'interactive' : 'run', waitForDump: req.dump !== undefined });
      const cpio = buildInitramfs({ busybox: guest!.busybox, modules, init, extra: [{ path: 'run.sh', kind: 'file', mode: 0o755, data: runCommand }] });
      initrdPath = join(dir, 'initramfs.cpio.gz');
      writeFileSync(initrdPath, cpio);
    }
    const initrdSize = statSync(initrdPath).size;
    if (INITRD_OFFSET + initrdSize > ram.size) throw new UserInputError('the initramfs does not fit in guest RAM', `--initrd ${initrdPath}`);

    const dtb = writeDtb(buildDeviceTree(desc, deriveIdMaps(desc), { initrd: { start: ram.base + INITRD_OFFSET, end: ram.base + INITRD_OFFSET + initrdSize } }));
    const dtbPath = join(dir, 'platform.dtb');
    writeFileSync(dtbPath, dtb);
    const stubPath = join(dir, 'stub.bin');
    writeFileSync(stubPath, bootStub(ram.base, ram.base + KERNEL_OFFSET));

    // Shared files: RAM and the register window, in /dev/shm when it has room (a container's may not).
    const shmDir = sharedFileDir(ram.size + HOSTED_WINDOW.size, dir);
    const ramPath = join(shmDir, `${tag}.ram`);
    const winPath = join(shmDir, `${tag}.win`);
    cleanups.push(() => rmSync(ramPath, { force: true }));
    cleanups.push(() => rmSync(winPath, { force: true }));
    const fd = openSync(ramPath, 'w+');
    ftruncateSync(fd, ram.size);
    closeSync(fd);
    const { memory, backing } = sharedFileMemory(ramPath, ram.base, ram.size);
    cleanups.push(() => backing.close());
    const window = new FileWindow(winPath, HOSTED_WINDOW.size);
    cleanups.push(() => window.close());

    // Interrupts go to QEMU once its qtest connection is up (the guest cannot run before).
    let target: GuestInterrupts | null = null;
    let lostInterrupts = 0;
    const interrupts: GuestInterrupts = {
      pendSpi: (intid) => (target ? target.pendSpi(intid) : lostInterrupts++),
      msi: (a, d) => (target ? target.msi(a, d) : lostInterrupts++),
    };
    const machine = new HostedMachine({
      desc,
      memory,
      window,
      windowBase: HOSTED_WINDOW.base,
      features: req.profile.features,
      smmuIrqs: req.profile.smmuIrqs,
      interrupts,
      devices: requests.map((r) => req.devices(r)),
      ...(req.injections !== undefined ? { injections: req.injections } : {}),
    });
    req.prepare?.(machine);
    machine.bridge.start();

    const qtestPath = join(dir, 'qtest.sock');
    const listener = QtestClient.listen(qtestPath);
    cleanups.push(() => listener.server.close());
    const args = hostedQemuArgs({
      ramPath,
      ramBytes: ram.size,
      windowPath: winPath,
      windowBase: HOSTED_WINDOW.base,
      windowBytes: HOSTED_WINDOW.size,
      stubPath,
      dtbPath,
      kernelPath,
      kernelAddress: ram.base + KERNEL_OFFSET,
      initrdPath,
      initrdAddress: ram.base + INITRD_OFFSET,
      qtestSocket: qtestPath,
      gdbPort: req.gdbPort,
    });
    const t0 = performance.now();
    let initAt: number | null = null;
    let dumpRequested = false;
    let runEnded = false;
    let consoleTail = '';
    proc = startQemu(args, {
      timeoutMs: req.timeoutS * 1000 + 5000,
      stdin: true,
      onOutput: (s) => {
        req.consoleOut?.(s);
        consoleTail = (consoleTail + s).slice(-4096);
        if (initAt === null && consoleTail.includes(MARK.init)) initAt = performance.now();
        if (!dumpRequested && req.dump !== undefined && consoleTail.includes(MARK.dumpReady)) dumpRequested = true;
        if (!runEnded && consoleTail.includes(MARK.runEnd)) runEnded = true;
      },
    });
    const p = proc;
    cleanups.push(() => {
      if (p.child.exitCode === null && p.child.signalCode === null && p.child.pid !== undefined) {
        try {
          process.kill(p.child.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    });
    const st: { exited: { code: number | null; signal: NodeJS.Signals | null } | null } = { exited: null };
    void p.exited.then((e) => {
      st.exited = e;
    });
    const qtest = await listener.accepted(15_000).catch((e: unknown) => {
      throw new Error(`QEMU did not start: ${(e as Error).message}\n${p.stderr().slice(-2000)}`);
    });
    cleanups.push(() => qtest.close());
    const qi = new QtestInterrupts(qtest, desc.gic.distributor.base);
    target = qi;

    // Interactive: the terminal's keys go to the guest's console; Ctrl-] ends the session.
    let userQuit = false;
    if (req.interactive) {
      const stdin = process.stdin;
      if (stdin.isTTY) stdin.setRawMode(true);
      const onKey = (b: Buffer): void => {
        if (b.includes(0x1d)) userQuit = true;
        else p.child.stdin?.write(b);
      };
      stdin.on('data', onKey);
      stdin.resume();
      cleanups.push(() => {
        stdin.off('data', onKey);
        if (stdin.isTTY) stdin.setRawMode(false);
        stdin.pause();
      });
    }

    // The poll loop: busy polling in slices, yielding to the event loop between slices so the
    // console, qtest replies and signals are handled. After a stretch with no activity (no guest
    // store, no value written back, no interrupt) each poll is followed by a short sleep, so an
    // idle guest does not take a core from QEMU; the first store ends the backoff.
    const idleCell = new Int32Array(new SharedArrayBuffer(4));
    const bs = machine.bridge.stats;
    let lastActivity = performance.now();
    let activity = -1;
    const deadline = t0 + req.timeoutS * 1000;
    const syncLatencyUs: number[] = [];
    let polls = 0;
    let lastStart = performance.now();
    let syncs = machine.smmu.cmdq.stats.syncs;
    const pollT0 = performance.now();
    let ended: BootOutcome['ended'] = 'poweroff';
    let dumped = false;
    let snapshot: BootOutcome['atRunEnd'] = null;
    for (;;) {
      // Ctrl-C in a terminal reaches QEMU too (same process group): report it as an interruption.
      if (interrupted || userQuit) {
        ended = 'interrupted';
        break;
      }
      if (st.exited !== null) break;
      if (performance.now() > deadline) {
        ended = 'timeout';
        break;
      }
      machine.injector?.tick();
      const sliceEnd = performance.now() + 4;
      let now = performance.now();
      while (now < sliceEnd) {
        const start = now;
        machine.bridge.poll();
        polls++;
        now = performance.now();
        const s = machine.smmu.cmdq.stats.syncs;
        if (s !== syncs) {
          syncLatencyUs.push(Math.round((now - lastStart) * 1000));
          syncs = s;
        }
        lastStart = start;
        const a = bs.guestWrites + bs.writeBacks + bs.delivered;
        if (a !== activity) {
          activity = a;
          lastActivity = now;
        } else if (now - lastActivity > IDLE_AFTER_MS) Atomics.wait(idleCell, 0, 0, IDLE_SLEEP_MS);
      }
      if (runEnded && snapshot === null) snapshot = { rings: ringsJson(machine), registers: registerDump(machine) };
      if (dumpRequested && !dumped) {
        dumped = true;
        writeDump(req.dump!, ramPath, machine, dtb);
        p.child.stdin?.write('\n');
      }
      await sleepImmediate();
    }
    const pollSeconds = (performance.now() - pollT0) / 1000;
    const killed = st.exited === null;
    if (killed) await p.kill();
    const wallSeconds = (performance.now() - t0) / 1000;
    const qemuExit: BootOutcome['qemuExit'] = killed ? null : st.exited;
    if (qemuExit !== null && ended === 'poweroff' && initAt === null && qemuExit.code !== 0) ended = 'qemu-failed';
    const errs = [...qi.errors, ...(lostInterrupts > 0 ? [`${lostInterrupts} interrupts raised before QEMU connected`] : [])];
    return {
      desc,
      machine,
      console: p.stdout(),
      qemuExit,
      ended,
      kernel: { path: req.kernel ?? guest!.kernel, version: kernelVersion },
      runCommand,
      plans: req.run === undefined && !req.interactive ? plans : [],
      disks,
      bootSeconds: initAt === null ? null : (initAt - t0) / 1000,
      wallSeconds,
      polls,
      pollSeconds,
      syncLatencyUs,
      interruptErrors: errs,
      qemuStderr: p.stderr(),
      dumpDir: dumped ? req.dump! : null,
      atRunEnd: snapshot,
      cleanup,
    };
  } catch (e) {
    if (proc) await proc.kill();
    cleanup();
    throw e;
  }
}

/** The SMMU's registers by spec name (REGS.json of `vsmmu inspect`), 64-bit values as hex. */
export function registerDump(machine: HostedMachine): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of REGISTERS) out[r.name] = hex(machine.smmu.register(r.name));
  return out;
}

/** Writes RAM, REGS.json and the DTB so that `vsmmu inspect --ram DIR/ram.bin@BASE --regs DIR/REGS.json` reads this state. */
function writeDump(dir: string, ramPath: string, machine: HostedMachine, dtb: Uint8Array): void {
  mkdirSync(dir, { recursive: true });
  copyFileSync(ramPath, join(dir, 'ram.bin'));
  writeFileSync(join(dir, 'REGS.json'), JSON.stringify(registerDump(machine), null, 2) + '\n');
  writeFileSync(join(dir, 'platform.dtb'), dtb);
  writeFileSync(join(dir, 'devices.json'), JSON.stringify(ringsJson(machine), null, 2) + '\n');
}

/** Each device's virtqueue IOVAs and where the live SMMU translates them (hex strings). */
export function ringsJson(machine: HostedMachine): { name: string; streamId: number; rings: Record<string, { iova: string; pa: string | null }>[] }[] {
  const place = (p: { iova: number; pa: number | null }): { iova: string; pa: string | null } => ({ iova: hex(p.iova), pa: p.pa === null ? null : hex(p.pa) });
  return machine.rings().map((d) => ({ name: d.name, streamId: d.streamId, rings: d.rings.map((r) => ({ desc: place(r.desc), driver: place(r.driver), device: place(r.device) })) }));
}
