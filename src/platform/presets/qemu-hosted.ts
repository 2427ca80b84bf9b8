// Preset `qemu-hosted`: the layout `vsmmu boot` runs. QEMU 7.2's `virt` machine (gic-version=3,
// its=on, no iommu, -cpu cortex-a57, one CPU, 512 MiB) supplies the CPU, RAM, GICv3 + ITS, PSCI and
// the PL011 at virt's addresses; vsmmu's own SMMUv3 and virtio-mmio transports live in a 2 MiB
// register window that QEMU maps as cold-plugged memory at 0x8000_0000 (the first 1 GiB boundary
// above RAM) and this process polls. The window is not described as memory, so the guest maps it
// as device memory. The SMMU's interrupts are wired SPIs by default (QEMU's GICD pends them); with
// `msi`, the SMMU's own MSIs use ITS DeviceID 0 (what a write from outside any device carries).
// Stream IDs: transport i has stream ID 8 + i.
import type { PlatformInput } from '../schema.js';
import { QEMU_VIRT_MACHINE } from './qemu-virt.js';

/** Guest-physical base and size of the polled register window. */
export const HOSTED_WINDOW = Object.freeze({ base: 0x8000_0000, size: 0x20_0000 });
/** First virtio-mmio transport, and the spacing of the others. */
export const HOSTED_VIRTIO = Object.freeze({ base: 0x8010_0000, stride: 0x200, count: 8, firstSpi: 80, firstStreamId: 8 });

export const QEMU_HOSTED_INPUT: PlatformInput = {
  ...QEMU_VIRT_MACHINE,
  smmus: [
    {
      name: 'smmu0',
      base: HOSTED_WINDOW.base,
      interrupts: {
        eventq: { spi: 74, trigger: 'edge' },
        priq: null,
        cmdqSync: null,
        gerror: { spi: 77, trigger: 'edge' },
      },
      features: 'default',
      coherent: true,
      msi: false,
      msiDeviceId: 0,
    },
  ],
  rootComplexes: [],
  virtioMmio: Array.from({ length: HOSTED_VIRTIO.count }, (_, i) => ({
    name: `virtio${i}`,
    base: HOSTED_VIRTIO.base + i * HOSTED_VIRTIO.stride,
    size: HOSTED_VIRTIO.stride,
    interrupt: { spi: HOSTED_VIRTIO.firstSpi + i, trigger: 'edge' as const },
    smmu: 'smmu0',
    streamId: HOSTED_VIRTIO.firstStreamId + i,
  })),
  bootargs: null,
};
