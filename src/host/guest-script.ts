// The guest side of `vsmmu boot`: the /init script (mount, load the virtio modules, wait for the
// disks, run the commands with kernel messages kept off the console, report their status between
// markers, print the kernel log, power off) and the default run
// that proves the DMA path: each disk's IOMMU group and its type, O_DIRECT reads at random offsets
// with checksums the host compares with the disk file, O_DIRECT writes whose checksums the host
// compares with what landed in the file, and timed transfers for the throughput figures. On a
// user's disk the writes put back the bytes just read there, so its contents stay the same.
import { insmodLines } from './initramfs.js';

export const MARK = Object.freeze({
  init: 'VSMMU-INIT',
  runBegin: 'VSMMU-RUN-BEGIN',
  runEnd: 'VSMMU-RUN-END',
  dumpReady: 'VSMMU-DUMP-READY',
  dmesgBegin: 'VSMMU-DMESG-BEGIN',
  dmesgEnd: 'VSMMU-DMESG-END',
  shell: 'VSMMU-SHELL',
});

export interface Region {
  readonly offset: number;
  readonly length: number;
}

export interface DiskPlan {
  /** Block device name in the guest (vda, vdb...). */
  readonly dev: string;
  /** Fill the write regions with fresh random bytes (scratch disk), or rewrite what is there. */
  readonly fresh: boolean;
  readonly reads: readonly Region[];
  readonly writes: readonly Region[];
}

export interface InitScriptOptions {
  readonly modules: readonly string[];
  /** Block devices to wait for before running. */
  readonly disks: readonly string[];
  readonly mode: 'run' | 'interactive';
  /** Stop after the run until the host has written its dump (a line on the console continues). */
  readonly waitForDump: boolean;
}

const UNIT = 0x1_0000; // dd block size of the checks

export function initScript(o: InitScriptOptions): string {
  const wait =
    o.disks.length === 0
      ? ''
      : `i=0
while [ $i -lt 200 ]; do
  n=0
  for d in ${o.disks.join(' ')}; do [ -b /dev/$d ] && n=$((n+1)); done
  [ $n -eq ${o.disks.length} ] && break
  sleep 0.1; i=$((i+1))
done
`;
  // During the run only kernel errors (console loglevel 4: e.g. a CMD_SYNC timeout) interleave with
  // the run's output, so a run that never ends still shows them; the whole log follows the run.
  const body =
    o.mode === 'interactive'
      ? `echo ${MARK.shell}
setsid cttyhack sh
`
      : `dmesg -n 4
echo ${MARK.runBegin}
sh /run.sh 2>&1
echo "${MARK.runEnd} $?"
echo ${MARK.dmesgBegin}
dmesg
echo ${MARK.dmesgEnd}
${o.waitForDump ? `echo ${MARK.dumpReady}\nread -r _\n` : ''}`;
  return `#!/bin/busybox sh
/bin/busybox mkdir -p /bin /proc /sys /dev /tmp
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
echo ${MARK.init}
${insmodLines(o.modules)}
${wait}${body}poweroff -f
`;
}

/**
 * The default run: IOMMU groups, checksummed O_DIRECT I/O and timed transfers on every disk. The
 * disks are exercised at the same time (one background job each), so several devices with
 * different stream IDs do DMA through the SMMU concurrently.
 */
export function defaultRunScript(disks: readonly DiskPlan[]): string {
  const lines: string[] = [
    // Centiseconds since boot (/proc/uptime has two decimals; busybox date has no sub-second format).
    'cs() { read u _ < /proc/uptime; echo "${u%.*}${u#*.}"; }',
    'echo "arm-smmu-v3 lines: $(dmesg | grep -c arm-smmu-v3)"',
  ];
  for (const d of disks) {
    const dev = `/dev/${d.dev}`;
    const r0 = `/tmp/r-${d.dev}`;
    const w0 = `/tmp/w-${d.dev}`;
    lines.push(
      '(',
      `g=$(readlink -f /sys/block/${d.dev}/device/../iommu_group)`,
      `echo "VSMMU-GROUP ${d.dev} \${g##*/} $(cat $g/type 2>/dev/null || echo none)"`,
    );
    for (const r of d.reads) {
      lines.push(
        't0=$(cs)',
        `dd if=${dev} of=${r0} bs=${UNIT} skip=${r.offset / UNIT} count=${r.length / UNIT} iflag=direct 2>/dev/null`,
        't1=$(cs)',
        `s=$(sha256sum < ${r0})`,
        `echo "VSMMU-READ ${d.dev} ${r.offset} ${r.length} \${s%% *} $(((t1 - t0) * 10000000))"`,
      );
    }
    for (const r of d.writes) {
      const src = d.fresh
        ? `dd if=/dev/urandom of=${w0} bs=${UNIT} count=${r.length / UNIT} 2>/dev/null`
        : `dd if=${dev} of=${w0} bs=${UNIT} skip=${r.offset / UNIT} count=${r.length / UNIT} iflag=direct 2>/dev/null`;
      lines.push(
        src,
        `a=$(sha256sum < ${w0})`,
        't0=$(cs)',
        `dd if=${w0} of=${dev} bs=${UNIT} seek=${r.offset / UNIT} oflag=direct conv=notrunc 2>/dev/null; st=$?`,
        't1=$(cs)',
        `b=$(dd if=${dev} bs=${UNIT} skip=${r.offset / UNIT} count=${r.length / UNIT} iflag=direct 2>/dev/null | sha256sum)`,
        `echo "VSMMU-WRITE ${d.dev} ${r.offset} ${r.length} \${a%% *} \${b%% *} $st $(((t1 - t0) * 10000000))"`,
      );
    }
    lines.push(`rm -f ${r0} ${w0}`, ') &');
  }
  lines.push('wait', 'sync');
  return lines.join('\n') + '\n';
}

/** A small deterministic generator (xorshift32) for offsets and scratch contents. */
export function xorshift32(seed: number): () => number {
  let x = seed >>> 0 || 0x9e37_79b9;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

/**
 * Non-overlapping regions for the checks on a disk of `size` bytes: the disk is cut into one
 * stripe per region and each region sits at a random 64 KiB-aligned offset inside its stripe
 * (stripes shuffled). Regions that do not fit are shrunk; a disk too small for any gets none.
 */
export function planDisk(dev: string, size: number, fresh: boolean, seed: number): DiskPlan {
  const want = [
    ...[4, 4, 4, 4].map((n) => ({ kind: 'r' as const, len: n * UNIT * 2 })), // 4 x 512 KiB reads
    { kind: 'r' as const, len: 4 << 20 }, // a 4 MiB read (throughput)
    ...[4, 4, 4, 4].map((n) => ({ kind: 'w' as const, len: n * UNIT })), // 4 x 256 KiB writes
    { kind: 'w' as const, len: 2 << 20 }, // a 2 MiB write (throughput)
  ];
  const rnd = xorshift32(seed);
  const units = Math.floor(size / UNIT);
  const stripe = Math.floor(units / want.length);
  const reads: Region[] = [];
  const writes: Region[] = [];
  if (stripe >= 1) {
    const order = want.map((_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = rnd() % (i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    want.forEach((w, i) => {
      const lenUnits = Math.min(w.len / UNIT, stripe);
      const slot = order[i]!;
      const offUnits = slot * stripe + (rnd() % (stripe - lenUnits + 1));
      const r = { offset: offUnits * UNIT, length: lenUnits * UNIT };
      (w.kind === 'r' ? reads : writes).push(r);
    });
  }
  return { dev, fresh, reads, writes };
}

/** Guest block device name of the n-th virtio disk (vda, vdb, ..., vdz, vdaa...). */
export function diskName(n: number): string {
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  let s = '';
  let i = n;
  do {
    s = letters[i % 26]! + s;
    i = Math.floor(i / 26) - 1;
  } while (i >= 0);
  return `vd${s}`;
}
