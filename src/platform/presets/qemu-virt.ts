// Preset `qemu-virt`: QEMU 7.2's `virt` machine with iommu=smmuv3, gic-version=3, its=on,
// -cpu cortex-a57, one CPU, 512 MiB (QEMU 7.2's memory map and SPIs, device tree
// as QEMU's own `dumpdtb` shows it). Only what the DTB/IORT/MADT need is described; flash, RTC,
// fw_cfg, GPIO and virtio-mmio transports are not.

import type { PlatformInput } from '../schema.js';

/**
 * What QEMU 7.2's `virt` machine itself supplies with gic-version=3, its=on, -cpu cortex-a57, one
 * CPU and 512 MiB: RAM, CPU, PSCI, timer, GICv3 + ITS and the PL011. The presets add their SMMUs,
 * root complexes and transports.
 */
export const QEMU_VIRT_MACHINE = {
  model: 'linux,dummy-virt',
  compatible: ['linux,dummy-virt'],
  memory: [{ base: 0x4000_0000, size: 0x2000_0000 }],
  cpus: { count: 1, compatible: 'arm,cortex-a57' },
  psci: { method: 'hvc' },
  timer: {
    secure: { ppi: 13, trigger: 'level' },
    nonSecure: { ppi: 14, trigger: 'level' },
    virtual: { ppi: 11, trigger: 'level' },
    hypervisor: { ppi: 10, trigger: 'level' },
  },
  gic: {
    version: 3,
    distributor: { base: 0x0800_0000, size: 0x1_0000 },
    redistributors: [{ base: 0x080a_0000, size: 0xf6_0000 }],
    maintenance: { ppi: 9, trigger: 'level' },
    its: { name: 'its0', base: 0x0808_0000, id: 0 },
    // QEMU creates its GICv2m frame (0x08020000, SPIs 48..111) only with gic-version=2.
    v2m: null,
    msi: 'its',
  },
  uart: { base: 0x0900_0000, size: 0x1000, interrupt: { spi: 1, trigger: 'level' }, clockHz: 24_000_000 },
} as const satisfies Partial<PlatformInput>;

export const QEMU_VIRT_INPUT: PlatformInput = {
  ...QEMU_VIRT_MACHINE,
  smmus: [
    {
      name: 'smmu0',
      base: 0x0905_0000,
      rootComplexes: ['pcie0'],
      interrupts: {
        eventq: { spi: 74, trigger: 'edge' },
        priq: { spi: 75, trigger: 'edge' },
        cmdqSync: { spi: 76, trigger: 'edge' },
        gerror: { spi: 77, trigger: 'edge' },
      },
      features: 'qemu-7.2',
      coherent: true,
      msi: false,
    },
  ],
  rootComplexes: [
    {
      name: 'pcie0',
      segment: 0,
      ecam: { base: 0x40_1000_0000, size: 0x1000_0000 },
      buses: { start: 0, end: 255 },
      mmio32: { base: 0x1000_0000, size: 0x2eff_0000 },
      mmio64: { base: 0x80_0000_0000, size: 0x80_0000_0000 },
      io: { base: 0x3eff_0000, size: 0x1_0000 },
      intx: { spis: [3, 4, 5, 6] },
      dmaCoherent: true,
      // gpex-root: the host bridge function QEMU always puts at 00:00.0.
      endpoints: [{ kind: 'endpoint', name: 'host-bridge', device: 0, functions: 1 }],
      ports: [],
    },
  ],
  bootargs: null,
};
