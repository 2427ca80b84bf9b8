// Builds the tiny initramfs the Linux interop test boots: static busybox, the virtio-pci/blk
// modules (dependencies first), and an /init that loads them, does O_DIRECT disk I/O through the
// SMMU, prints what the test checks between VSMMU-* markers, then either powers off or (for the
// inspect test) waits for the host to stop the VM.
import { basename } from 'node:path';
import { buildInitramfs as buildGuestInitramfs } from '../../../src/host/initramfs.js';
import { moduleLoadOrder, type GuestArtifacts } from '../../../src/host/guest-artifacts.js';

/** Disk layout the init script and the host agree on (MiB offsets on /dev/vda). */
export const DISK = Object.freeze({
  sizeMiB: 16,
  /** The guest reads [0, readMiB) and prints its sha256. */
  readMiB: 4,
  /** The guest copies [0, readMiB) to [copyToMiB, copyToMiB + readMiB); the host checks it after. */
  copyToMiB: 8,
});

export interface InitOptions {
  /** After the I/O: 'poweroff' at once, or 'wait' (sleep, so the host can stop the VM over QMP). */
  readonly after: 'poweroff' | 'wait';
}

export function initScript(modules: readonly string[], opts: InitOptions): string {
  return `#!/bin/busybox sh
/bin/busybox mkdir -p /bin /proc /sys /dev /tmp
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
echo VSMMU-INIT
${modules.map((m) => `insmod /modules/${m} || echo "VSMMU-INSMOD-FAILED ${m}"`).join('\n')}
i=0
while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
if [ -b /dev/vda ]; then
  sum=$(dd if=/dev/vda bs=1M count=${DISK.readMiB} iflag=direct 2>/dev/null | sha256sum)
  echo "VSMMU-READ-SHA256 \${sum%% *}"
  dd if=/dev/vda of=/dev/vda bs=1M count=${DISK.readMiB} seek=${DISK.copyToMiB} iflag=direct oflag=direct conv=notrunc 2>/dev/null
  echo "VSMMU-WRITE-STATUS $?"
  sync
else
  echo VSMMU-NO-DISK
fi
echo VSMMU-GROUPS-BEGIN
for d in /sys/kernel/iommu_groups/*/devices/*; do [ -e "$d" ] && echo "group \${d#/sys/kernel/iommu_groups/}"; done
echo VSMMU-GROUPS-END
echo VSMMU-INTERRUPTS-BEGIN
cat /proc/interrupts
echo VSMMU-INTERRUPTS-END
echo VSMMU-IO-DONE
${opts.after === 'wait' ? 'while true; do sleep 1; done' : 'poweroff -f'}
`;
}

/** The gzip'd newc initramfs for `-initrd`. */
export function buildInitramfs(guest: GuestArtifacts, opts: InitOptions): Buffer {
  const modules = moduleLoadOrder(guest.modulesDir, ['virtio_pci', 'virtio_blk']);
  return buildGuestInitramfs({ busybox: guest.busybox, modules, init: initScript(modules.map((p) => basename(p, '.xz')), opts) });
}
