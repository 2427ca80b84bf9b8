// Platform description -> device tree (the tree; writeDtb/toDts serialise it). Bindings followed
// (Linux Documentation/devicetree/bindings): arm,gic-v3 (+ arm,gic-v3-its child with
// msi-controller and #msi-cells = <1>), arm,cortex-a15-gic (+ arm,gic-v2m-frame child),
// arm,smmu-v3 (reg, interrupts + interrupt-names, #iommu-cells = <1>, dma-coherent, msi-parent),
// pci-host-ecam-generic (bus-range, linux,pci-domain, ranges, msi-map / msi-parent, iommu-map:
// pci-iommu.txt / pci-msi.txt: `<rid-base &target output-base length>`), arm,psci, arm,armv8-timer,
// arm,pl011 with a fixed apb-pclk clock, virtio,mmio (reg, interrupts, dma-coherent, iommus =
// <&smmu stream-id>), /chosen stdout-path, bootargs and linux,initrd-start/-end. Node layout follows QEMU 7.2's virt
// so the qemu-virt preset's DTB can replace QEMU's own (-dtb).
//
// Phandles (the original's scheme, OpenVMM): GIC 1, apb-pclk 2, v2m 3, ITS 4,
// SMMU instance N = 5 + N.

import type { PlatformDescription, PpiInterrupt, RootComplexDesc, SmmuDesc, SpiInterrupt, Trigger, VirtioMmioDesc } from '../../platform/description.js';
import { deriveIdMaps, smmuUsesMsi, type IdMaps } from '../../platform/derive-ids.js';
import {
  GIC_PPI,
  GIC_SPI,
  IRQ_TYPE_EDGE_RISING,
  IRQ_TYPE_LEVEL_HIGH,
  PCI_SPACE_IO,
  PCI_SPACE_MEM32,
  PCI_SPACE_MEM64,
  PSCI_0_2_FN,
} from '../../spec/fdt/format.js';
import { EMPTY, cells, node, strings, u64Cells, type Fdt, type FdtNode } from '../fdt/tree.js';
import { cpuMpidr } from '../acpi/index.js';

export const PHANDLE = Object.freeze({ gic: 1, clock: 2, v2m: 3, its: 4, smmuBase: 5 });

const unit = (addr: number): string => addr.toString(16);
const flags = (t: Trigger): number => (t === 'edge' ? IRQ_TYPE_EDGE_RISING : IRQ_TYPE_LEVEL_HIGH);
const reg = (base: number, size: number): number[] => [...u64Cells(base), ...u64Cells(size)];

function spiCells(i: SpiInterrupt): number[] {
  return [GIC_SPI, i.spi, flags(i.trigger)];
}

/** PPI specifier; GICv2 adds the CPU mask in bits [15:8] (arm,gic binding). */
function ppiCells(d: PlatformDescription, i: PpiInterrupt): number[] {
  const mask = d.gic.version === 2 ? ((1 << Math.min(d.cpus.count, 8)) - 1) << 8 : 0;
  return [GIC_PPI, i.ppi, flags(i.trigger) | mask];
}

export function smmuPhandle(d: PlatformDescription, s: SmmuDesc): number {
  return PHANDLE.smmuBase + d.smmus.indexOf(s);
}

function gicNode(d: PlatformDescription): FdtNode {
  const g = d.gic;
  const kids: FdtNode[] = [];
  if (g.msi === 'its' && g.its) {
    kids.push(
      node(`its@${unit(g.its.base)}`, [
        ['phandle', cells(PHANDLE.its)],
        ['reg', cells(...reg(g.its.base, 0x2_0000))],
        ['#msi-cells', cells(1)],
        ['msi-controller', EMPTY],
        ['compatible', strings('arm,gic-v3-its')],
      ]),
    );
  }
  if (g.msi === 'v2m' && g.v2m) {
    kids.push(
      node(`v2m@${unit(g.v2m.base)}`, [
        ['phandle', cells(PHANDLE.v2m)],
        ['reg', cells(...reg(g.v2m.base, 0x1000))],
        ['arm,msi-base-spi', cells(g.v2m.spiBase + 32)],
        ['arm,msi-num-spis', cells(g.v2m.spiCount)],
        ['msi-controller', EMPTY],
        ['compatible', strings('arm,gic-v2m-frame')],
      ]),
    );
  }
  const regs =
    g.version === 3
      ? [...reg(g.distributor.base, g.distributor.size), ...g.redistributors.flatMap((r) => reg(r.base, r.size))]
      : [...reg(g.distributor.base, g.distributor.size), ...(g.cpuInterface ? reg(g.cpuInterface.base, g.cpuInterface.size) : [])];
  const props: [string, Uint8Array][] = [
    ['phandle', cells(PHANDLE.gic)],
    ['reg', cells(...regs)],
  ];
  if (g.version === 3) props.push(['#redistributor-regions', cells(g.redistributors.length)]);
  props.push(
    ['compatible', strings(g.version === 3 ? 'arm,gic-v3' : 'arm,cortex-a15-gic')],
    ['ranges', EMPTY],
    ['#size-cells', cells(2)],
    ['#address-cells', cells(2)],
    ['interrupt-controller', EMPTY],
    ['#interrupt-cells', cells(3)],
  );
  return node(`intc@${unit(g.distributor.base)}`, props, kids);
}

function smmuNode(d: PlatformDescription, s: SmmuDesc): FdtNode {
  const irqs: number[] = [];
  const names: string[] = [];
  const order = [
    ['eventq', s.interrupts.eventq],
    ['priq', s.interrupts.priq],
    ['cmdq-sync', s.interrupts.cmdqSync],
    ['gerror', s.interrupts.gerror],
  ] as const;
  for (const [n, i] of order) {
    if (!i) continue;
    irqs.push(...spiCells(i));
    names.push(n);
  }
  const props: [string, Uint8Array][] = [['phandle', cells(smmuPhandle(d, s))]];
  if (smmuUsesMsi(d, s)) props.push(['msi-parent', cells(PHANDLE.its, s.msiDeviceId)]);
  if (s.coherent) props.push(['dma-coherent', EMPTY]);
  props.push(['#iommu-cells', cells(1)]);
  if (names.length > 0) props.push(['interrupt-names', strings(...names)], ['interrupts', cells(...irqs)]);
  props.push(['reg', cells(...reg(s.base, 0x2_0000))], ['compatible', strings('arm,smmu-v3')]);
  return node(`smmuv3@${unit(s.base)}`, props);
}

function pcieNode(d: PlatformDescription, rc: RootComplexDesc, maps: IdMaps): FdtNode {
  const m = maps.rootComplexes.find((r) => r.rootComplex === rc.name);
  const props: [string, Uint8Array][] = [];
  if (m && m.toSmmu.length > 0) {
    const s = d.smmus.find((x) => x.name === m.smmu) as SmmuDesc;
    props.push(['iommu-map', cells(...m.toSmmu.flatMap((x) => [x.inputBase, smmuPhandle(d, s), x.outputBase, x.count]))]);
  }
  if (rc.intx) {
    // Standard INTx swizzle: slot s, pin p (1..4) -> SPI intx[(s + p - 1) % 4], as QEMU's virt.
    const map: number[] = [];
    for (let slot = 0; slot < 4; slot++) {
      for (let pin = 1; pin <= 4; pin++) {
        const spi = rc.intx.spis[(slot + pin - 1) % 4] as number;
        map.push(slot << 11, 0, 0, pin, PHANDLE.gic, 0, 0, GIC_SPI, spi, IRQ_TYPE_LEVEL_HIGH);
      }
    }
    props.push(['interrupt-map-mask', cells(0x1800, 0, 0, 7)], ['interrupt-map', cells(...map)], ['#interrupt-cells', cells(1)]);
  }
  const ranges: number[] = [];
  if (rc.io) ranges.push(PCI_SPACE_IO, 0, 0, ...u64Cells(rc.io.base), ...u64Cells(rc.io.size));
  if (rc.mmio32) ranges.push(PCI_SPACE_MEM32, ...u64Cells(rc.mmio32.base), ...u64Cells(rc.mmio32.base), ...u64Cells(rc.mmio32.size));
  if (rc.mmio64) ranges.push(PCI_SPACE_MEM64, ...u64Cells(rc.mmio64.base), ...u64Cells(rc.mmio64.base), ...u64Cells(rc.mmio64.size));
  if (ranges.length > 0) props.push(['ranges', cells(...ranges)]);
  props.push(['reg', cells(...reg(rc.ecam.base, rc.ecam.size))]);
  if (m && m.toMsi.length > 0) props.push(['msi-map', cells(...m.toMsi.flatMap((x) => [x.inputBase, PHANDLE.its, x.outputBase, x.count]))]);
  else if (d.gic.msi === 'v2m' && d.gic.v2m) props.push(['msi-parent', cells(PHANDLE.v2m)]);
  if (rc.dmaCoherent) props.push(['dma-coherent', EMPTY]);
  props.push(
    ['bus-range', cells(rc.buses.start, rc.buses.end)],
    ['linux,pci-domain', cells(rc.segment)],
    ['#size-cells', cells(2)],
    ['#address-cells', cells(3)],
    ['device_type', strings('pci')],
    ['compatible', strings('pci-host-ecam-generic')],
  );
  return node(`pcie@${unit(rc.ecam.base)}`, props);
}

function virtioMmioNode(d: PlatformDescription, v: VirtioMmioDesc): FdtNode {
  const props: [string, Uint8Array][] = [];
  const s = v.smmu === null ? undefined : d.smmus.find((x) => x.name === v.smmu);
  if (s) props.push(['iommus', cells(smmuPhandle(d, s), v.streamId)]);
  if (v.dmaCoherent) props.push(['dma-coherent', EMPTY]);
  props.push(['interrupts', cells(...spiCells(v.interrupt))], ['reg', cells(...reg(v.base, v.size))], ['compatible', strings('virtio,mmio')]);
  return node(`virtio_mmio@${unit(v.base)}`, props);
}

/** Boot-time additions to /chosen that are not part of the platform (where the loader put the initrd). */
export interface DeviceTreeBootInfo {
  /** Physical [start, end) of the initramfs. */
  readonly initrd?: { readonly start: number; readonly end: number };
}

/** Builds the device tree of a platform. */
export function buildDeviceTree(d: PlatformDescription, maps: IdMaps = deriveIdMaps(d), boot: DeviceTreeBootInfo = {}): Fdt {
  const root: FdtNode = node('', [
    ['interrupt-parent', cells(PHANDLE.gic)],
    ['model', strings(d.model)],
    ['#size-cells', cells(2)],
    ['#address-cells', cells(2)],
    ['compatible', strings(...d.compatible)],
  ]);
  const add = (n: FdtNode): void => {
    root.children.push(n);
  };
  add(
    node('psci', [
      ['migrate', cells(PSCI_0_2_FN.migrate)],
      ['cpu_on', cells(PSCI_0_2_FN.cpuOn)],
      ['cpu_off', cells(PSCI_0_2_FN.cpuOff)],
      ['cpu_suspend', cells(PSCI_0_2_FN.cpuSuspend)],
      ['method', strings(d.psci.method)],
      ['compatible', strings('arm,psci-1.0', 'arm,psci-0.2', 'arm,psci')],
    ]),
  );
  for (const m of d.memory) {
    add(
      node(`memory@${unit(m.base)}`, [
        ['reg', cells(...reg(m.base, m.size))],
        ['device_type', strings('memory')],
      ]),
    );
  }
  for (const s of d.smmus) add(smmuNode(d, s));
  for (const rc of d.rootComplexes) add(pcieNode(d, rc, maps));
  for (const v of d.virtioMmio) add(virtioMmioNode(d, v));
  if (d.uart) {
    add(
      node(`pl011@${unit(d.uart.base)}`, [
        ['clock-names', strings('uartclk', 'apb_pclk')],
        ['clocks', cells(PHANDLE.clock, PHANDLE.clock)],
        ['interrupts', cells(...spiCells(d.uart.interrupt))],
        ['reg', cells(...reg(d.uart.base, d.uart.size))],
        ['compatible', strings('arm,pl011', 'arm,primecell')],
      ]),
    );
  }
  add(gicNode(d));
  const cpus = node('cpus', [
    ['#size-cells', cells(0)],
    ['#address-cells', cells(1)],
  ]);
  for (let i = 0; i < d.cpus.count; i++) {
    // MPIDR as the MADT GICC entries give it (one definition: firmware/acpi/madt-build.ts).
    const mpidr = cpuMpidr(i, d.gic.version);
    cpus.children.push(
      node(`cpu@${unit(mpidr)}`, [
        ['enable-method', strings('psci')],
        ['reg', cells(mpidr)],
        ['compatible', strings(d.cpus.compatible)],
        ['device_type', strings('cpu')],
      ]),
    );
  }
  add(cpus);
  add(
    node('timer', [
      ['interrupts', cells(...ppiCells(d, d.timer.secure), ...ppiCells(d, d.timer.nonSecure), ...ppiCells(d, d.timer.virtual), ...ppiCells(d, d.timer.hypervisor))],
      ['always-on', EMPTY],
      ['compatible', strings('arm,armv8-timer', 'arm,armv7-timer')],
    ]),
  );
  if (d.uart) {
    add(
      node('apb-pclk', [
        ['phandle', cells(PHANDLE.clock)],
        ['clock-output-names', strings('clk24mhz')],
        ['clock-frequency', cells(d.uart.clockHz)],
        ['#clock-cells', cells(0)],
        ['compatible', strings('fixed-clock')],
      ]),
    );
  }
  const chosen: [string, Uint8Array][] = [];
  if (d.uart) chosen.push(['stdout-path', strings(`/pl011@${unit(d.uart.base)}`)]);
  if (d.bootargs !== null) chosen.push(['bootargs', strings(d.bootargs)]);
  if (boot.initrd) chosen.push(['linux,initrd-start', cells(...u64Cells(boot.initrd.start))], ['linux,initrd-end', cells(...u64Cells(boot.initrd.end))]);
  add(node('chosen', chosen));
  return { root, reservations: [], bootCpuidPhys: 0 };
}
