// Preset `openvmm`: the original's aarch64 layout (OpenVMM): GICv3 distributor
// 0xFFFF0000, redistributors 0xEFFEE000, ITS 0xEFFC0000, GICv2m frame 0xEFFE8000, PL011
// 0xEFFEC000, virtual timer INTID 20, 992 GIC interrupts, `--gic-msi auto` (ITS on GICv3), and the
// topology of its SMMU test (two segments s0rc0/s1rc0, four hot-pluggable root ports each), with
// no SMMU unless `--smmu RC` asks for one.
//
// SPIs are allocated top-down over INTIDs [64, 991] in the original's fixed order: the v2m block
// (64 SPIs) when v2m is the MSI controller, then per SMMU instance (in --smmu order) evtq, gerror.
// MMIO32 is packed top-down below the reserved zone 0xEF000000 in the original's request order:
// ECAMs, per-RC MMIO, then one 128 KiB window per SMMU.
// Not fixed by the original (our choices, marked here): RAM (1 GiB at 0), the ECAM and
// MMIO window sizes, the 64-bit MMIO windows, the UART SPI and the non-virtual timer PPIs.

import type { PlatformDescription, SmmuDesc } from '../description.js';
import type { PlatformInput } from '../schema.js';

const RESERVED_ZONE = 0xef00_0000;
const ECAM_SIZE = 0x1000_0000; // 256 buses (our choice)
const MMIO32_SIZE = 0x400_0000; // 64 MiB per root complex (our choice)
const SMMU_SIZE = 0x2_0000;
const MAX_INTID = 991; // min(nr_irqs - 1, 1019) with 992 interrupts
const V2M_SPIS = 64;
const RC_NAMES = ['s0rc0', 's1rc0'] as const;

/** Top-down packing below the reserved zone: ECAMs, then per-RC MMIO32, then SMMU windows. */
function alignDown(v: number, a: number): number {
  return Math.floor(v / a) * a;
}
const ecamBases: number[] = [];
const mmio32Bases: number[] = [];
let cursor = RESERVED_ZONE;
for (let i = 0; i < RC_NAMES.length; i++) {
  cursor = alignDown(cursor - ECAM_SIZE, ECAM_SIZE);
  ecamBases.push(cursor);
}
for (let i = 0; i < RC_NAMES.length; i++) {
  cursor = alignDown(cursor - MMIO32_SIZE, MMIO32_SIZE);
  mmio32Bases.push(cursor);
}
const SMMU_TOP = cursor;

export const OPENVMM_INPUT: PlatformInput = {
  model: 'openvmm',
  compatible: ['linux,dummy-virt'],
  memory: [{ base: 0, size: 0x4000_0000 }],
  cpus: { count: 2, compatible: 'arm,cortex-a57' },
  psci: { method: 'hvc' },
  timer: {
    secure: { ppi: 13, trigger: 'level' },
    nonSecure: { ppi: 14, trigger: 'level' },
    virtual: { ppi: 4, trigger: 'level' }, // INTID 20
    hypervisor: { ppi: 10, trigger: 'level' },
  },
  gic: {
    version: 3,
    distributor: { base: 0xffff_0000, size: 0x1_0000 },
    redistributors: [{ base: 0xeffe_e000, size: 2 * 0x2_0000 }],
    maintenance: { ppi: 9, trigger: 'level' },
    its: { name: 'its0', base: 0xeffc_0000, id: 0 },
    v2m: { name: 'v2m0', base: 0xeffe_8000, spiBase: MAX_INTID + 1 - V2M_SPIS - 32, spiCount: V2M_SPIS, id: 0 },
    msi: 'auto',
  },
  uart: { base: 0xeffe_c000, size: 0x1000, interrupt: { spi: 1, trigger: 'level' }, clockHz: 24_000_000 },
  smmus: [],
  rootComplexes: RC_NAMES.map((name, i) => ({
    name,
    segment: i,
    ecam: { base: ecamBases[i] as number, size: ECAM_SIZE },
    buses: { start: 0, end: 255 },
    mmio32: { base: mmio32Bases[i] as number, size: MMIO32_SIZE },
    mmio64: { base: 0x10_0000_0000 * (i + 1), size: 0x10_0000_0000 },
    io: null,
    dmaCoherent: true,
    intx: null,
    ports: [0, 1, 2, 3].map((p) => ({ name: `${name}rp${p}`, device: p, hotplug: true, child: null })),
    endpoints: [],
  })),
  bootargs: null,
};

/**
 * The original's placement of SMMU instance `index` (0-based, in --smmu order) covering `rc`:
 * 128 KiB MMIO32 window below the RCs' windows, SPIs evtq then gerror allocated top-down after
 * the v2m block (when v2m is the MSI controller); level-triggered wired interrupts, no MSIs.
 */
export function openvmmSmmu(desc: PlatformDescription, rc: string, index: number): SmmuDesc {
  const top = desc.gic.msi === 'v2m' ? MAX_INTID - V2M_SPIS : MAX_INTID;
  const evtq = top - 2 * index;
  // The SMMU's own MSI device ID (used by IORT's DeviceID mapping index, since only eventq and
  // gerror are wired): one per SMMU just above every root complex's device IDs. The original used
  // 0, which is also the device ID of root port 0 on segment 0.
  const ownDeviceId = desc.rootComplexes.reduce((m, r) => Math.max(m, r.deviceIdBase + ((r.buses.end + 1) << 8)), 0) + index;
  return {
    name: `smmu${index}`,
    base: SMMU_TOP - (index + 1) * SMMU_SIZE,
    rootComplexes: [rc],
    interrupts: { eventq: { spi: evtq - 32, trigger: 'level' }, priq: null, cmdqSync: null, gerror: { spi: evtq - 1 - 32, trigger: 'level' } },
    features: 'default',
    coherent: true,
    msi: false,
    msiDeviceId: ownDeviceId,
    proximityDomain: null,
  };
}
