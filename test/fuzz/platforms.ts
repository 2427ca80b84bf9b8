// Platforms the fuzzers use besides the presets: a GICv2 + GICv2m machine with an SMMU (qemu-7.2
// profile) in front of a DMA engine.
import type { PlatformInput } from '../../src/platform/schema.js';

export const V2M_PLATFORM: PlatformInput = {
  memory: [{ base: 0x4000_0000, size: 0x2000_0000 }],
  cpus: { count: 1 },
  gic: { version: 2, distributor: { base: 0x0800_0000, size: 0x1_0000 }, cpuInterface: { base: 0x0801_0000, size: 0x1_0000 }, v2m: { base: 0x0802_0000, spiBase: 80, spiCount: 64 } },
  smmus: [{ name: 'smmu0', base: 0x0905_0000, rootComplexes: ['pcie0'], features: 'qemu-7.2', interrupts: { eventq: { spi: 74, trigger: 'edge' }, gerror: { spi: 77, trigger: 'edge' } } }],
  rootComplexes: [{ name: 'pcie0', ecam: { base: 0x40_1000_0000 }, mmio32: { base: 0x1000_0000, size: 0x1000_0000 }, ports: [{ name: 'rp0', device: 1, child: { kind: 'endpoint', name: 'dma0' } }] }],
};
