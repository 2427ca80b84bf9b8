// End to end with the real devices: a PCIe endpoint's DMA and MSI-X through the real SmmuV3
// (Linux-style S1 domain with the ITS doorbell page mapped at IOVA 0x0800_0000) to the real GICv3
// ITS, ending as a pending LPI in the redistributor's pending table; the same to a real GICv2m
// frame ending as a pending SPI; and guest bus renumbering followed with the new stream/device IDs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GicV2m } from '../../src/intc/gicv2m.js';
import { SpiRecorder } from '../../src/intc/sinks.js';
import type { MsiSink } from '../../src/memory/types.js';
import type { IdMapping } from '../../src/pcie/id-map.js';
import { PcieDevice, RootComplex } from '../../src/pcie/index.js';
import { MsiRouter } from '../../src/platform/runtime/msi-router.js';
import { SmmuV3 } from '../../src/smmu/device/smmu-v3.js';
import { encodeCommand } from '../../src/spec/smmuv3/commands.js';
import { REG } from '../../src/spec/smmuv3/registers.js';
import { initIts, initRedistributors, makeRig, pendingBit, post, setLpiConfig, type Rig } from '../support/its-kit.js';
import { DomainBuilder } from '../smmu/linux-domain.js';
import { EcamGuest, findCap } from '../support/pcie-fakes.js';

const ITS_BASE = 0x0808_0000;
const V2M_BASE = 0x0802_0000;
const SW_MSI = 0x0800_0000;
const BAR = 0x1010_0000;
const DMA_BUF = 0x4300_0000;
const toSmmu: IdMapping[] = [{ inputBase: 0, count: 0x1_0000, outputBase: 0, target: 'smmu0' }];
const toMsi: IdMapping[] = [{ inputBase: 0, count: 0x1_0000, outputBase: 0, target: 'its0' }];

const MAPC0: bigint[][] = [[0x9n, 0n, 0x8000_0000_0000_0000n, 0n], [0x5n, 0n, 0n, 0n]];
const mapd = (devid: number, itt: number): bigint[] => [(BigInt(devid) << 32n) | 0x08n, 4n, (1n << 63n) | BigInt(itt), 0n];
const mapti = (devid: number, event: number, lpi: number): bigint[] => [(BigInt(devid) << 32n) | 0x0an, (BigInt(lpi) << 32n) | BigInt(event), 0n, 0n];
const inv = (devid: number, event: number): bigint[] => [(BigInt(devid) << 32n) | 0x0cn, BigInt(event), 0n, 0n];
const SYNC0: bigint[] = [0x5n, 0n, 0n, 0n];

interface World {
  rig: Rig;
  smmu: SmmuV3;
  b: DomainBuilder;
  strtab: number;
  cmdq: number;
  prod: number;
  rc: RootComplex;
  g: EcamGuest;
  dev: PcieDevice;
}

function world(msiSink: (rig: Rig) => MsiSink, maps: { toSmmu: IdMapping[]; toMsi: IdMapping[] }): World {
  const rig = makeRig();
  initIts(rig);
  initRedistributors(rig);
  post(rig, ...MAPC0);
  const smmu = new SmmuV3(rig.mem, { name: 'smmu0' });
  const b = new DomainBuilder(rig.mem, 0x4200_0000, 0x80_0000);
  const st = b.linearStreamTable(12);
  smmu.write64(REG.STRTAB_BASE, Number(st.strtabBase & 0xffff_ffffn), Number(st.strtabBase >> 32n));
  smmu.write(REG.STRTAB_BASE_CFG, 4, st.strtabBaseCfg);
  const cmdq = b.alloc(16 * 16, 256);
  smmu.write64(REG.CMDQ_BASE, cmdq | 4, 0); // 16 entries
  smmu.write(REG.CR0, 4, 0b1001); // SMMUEN | CMDQEN
  assert.equal(smmu.read(REG.CR0ACK, 4), 0b1001);
  const rc = new RootComplex({ name: 'pcie0', segment: 0, buses: { start: 0, end: 0xff }, memory: rig.mem, ids: maps });
  rc.attachIommu('smmu0', smmu);
  rc.connectMsi(msiSink(rig));
  const rp = rc.addRootPort('rp0', 1);
  const dev = new PcieDevice('dma-engine', [
    { vendorId: 0x1b36, pciDeviceId: 0x0005, classCode: 0xff0000, bars: [{ index: 0, size: 0x1000 }], msix: { vectors: 2, tableBar: 0, tableOffset: 0x800, pbaOffset: 0xc00 } },
  ]);
  rp.plug(dev, 'cold');
  const g = new EcamGuest(rc.ecam, 0);
  g.enumerate();
  // Linux: assign the BAR and the root port's window, enable memory + bus mastering on the path.
  g.write(1, 0, 0x10, 4, BAR);
  g.write(1, 0, 0x14, 4, 0);
  g.write(0, 8, 0x20, 2, BAR >>> 16);
  g.write(0, 8, 0x22, 2, BAR >>> 16);
  g.enable(0, 8);
  g.enable(1, 0);
  return { rig, smmu, b, strtab: st.base, cmdq, prod: 0, rc, g, dev };
}

/** Linux's iommu-dma: an S1 domain for `sid` with a DMA page and the MSI doorbell page. */
function attachDomain(w: World, sid: number, asid: number, doorbellPa: number): void {
  const pgd = w.b.newPgd();
  w.b.map4k(pgd, 0x1000, DMA_BUF);
  w.b.map4k(pgd, SW_MSI, doorbellPa);
  w.b.attachS1(w.strtab, sid, asid, pgd);
}

/** CFGI_STE + CMD_SYNC, as Linux issues after rewriting an STE; waits for CMDQ_CONS. */
function cfgiSte(w: World, sid: number): void {
  for (const c of [encodeCommand('CFGI_STE', { SID: sid, LEAF: 1 }), encodeCommand('SYNC', {})]) {
    w.b.writeWords(w.cmdq + (w.prod % 16) * 16, c);
    w.prod = (w.prod + 1) % 32;
  }
  w.smmu.write(REG.CMDQ_PROD, 4, w.prod);
  assert.equal(w.smmu.read(REG.CMDQ_CONS, 4), w.prod, 'commands consumed without error');
}

/** pci_msix: program entry `v` through the BAR and enable MSI-X. */
function programMsix(w: World, v: number, address: number, data: number): void {
  w.rc.mmioWrite(BAR + 0x800 + v * 16, 4, address);
  w.rc.mmioWrite(BAR + 0x800 + v * 16 + 4, 4, 0);
  w.rc.mmioWrite(BAR + 0x800 + v * 16 + 8, 4, data);
  w.rc.mmioWrite(BAR + 0x800 + v * 16 + 12, 4, 0);
  const p = findCap(w.g, w.dev.functions[0]!.requesterId() >> 8, 0, 0x11);
  w.g.write(w.dev.functions[0]!.requesterId() >> 8, 0, p + 2, 2, 0x8000);
}

test('real SMMU + ITS: DMA translated by stage 1; MSI-X via the doorbell IOVA ends as a pending LPI; renumbering is followed', () => {
  const w = world((rig) => {
    const router = new MsiRouter(rig.mem);
    router.addTarget('its', rig.its.msiSink(ITS_BASE));
    return router;
  }, { toSmmu, toMsi });
  const f = w.dev.functions[0]!;
  assert.equal(f.requesterId(), 0x100);
  attachDomain(w, 0x100, 1, ITS_BASE + 0x1_0000);
  // ITS: device 0x100, event 0 -> LPI 8192 on CPU 0, enabled.
  setLpiConfig(w.rig, 8192, 0xa3);
  post(w.rig, mapd(0x100, 0x4100_0000), mapti(0x100, 0, 8192), inv(0x100, 0), SYNC0);

  assert.equal(f.dma.write(0x1008, Uint8Array.of(0xde, 0xad)), null);
  assert.equal(w.rig.mem.read16(DMA_BUF + 8), 0xadde);
  programMsix(w, 0, SW_MSI + 0x40, 0);
  assert.equal(f.signal(0), 'delivered');
  assert.equal(pendingBit(w.rig, 0, 8192), true, 'LPI 8192 pending in CPU 0 pending table');
  assert.deepEqual(w.rig.sink.pendingOn(0), [8192]);

  // An unmapped IOVA faults in the real SMMU (event recorded there), reported to the device.
  const fault = f.dma.read(0x5000, new Uint8Array(4));
  assert.ok(fault !== null && fault.reason.length > 0);

  // The guest renumbers the root port's secondary bus to 4: SID/DeviceID 0x400 from now on.
  w.g.write(0, 8, 0x18, 4, 0x00040400);
  assert.equal(f.requesterId(), 0x400);
  assert.notEqual(f.dma.write(0x1008, Uint8Array.of(1)), null, 'STE 0x400 is still abort');
  attachDomain(w, 0x400, 2, ITS_BASE + 0x1_0000);
  cfgiSte(w, 0x400);
  setLpiConfig(w.rig, 8193, 0xa3);
  post(w.rig, mapd(0x400, 0x4100_1000), mapti(0x400, 0, 8193), inv(0x400, 0), SYNC0);
  assert.equal(f.dma.write(0x1010, Uint8Array.of(0x77)), null);
  assert.equal(w.rig.mem.read8(DMA_BUF + 0x10), 0x77);
  assert.equal(f.signal(0), 'delivered');
  assert.deepEqual(w.rig.sink.pendingOn(0), [8192, 8193]);
});

test('real SMMU + GICv2m: MSI via the doorbell IOVA mapped to the v2m frame raises the SPI', () => {
  const spis = new SpiRecorder();
  const v2m = new GicV2m({ baseSpi: 80, spiCount: 64, spiSink: spis });
  const w = world(() => v2m.msiSink(V2M_BASE), { toSmmu, toMsi: [] });
  attachDomain(w, 0x100, 1, V2M_BASE);
  programMsix(w, 1, SW_MSI + 0x40, 85);
  assert.equal(w.dev.functions[0]!.signal(1), 'delivered');
  assert.deepEqual(spis.spis, [85]);
  // Bus mastering off: nothing reaches the SMMU or the frame.
  w.g.write(1, 0, 0x04, 2, 0x0002);
  assert.equal(w.dev.functions[0]!.signal(1), 'dropped');
  assert.deepEqual(spis.spis, [85]);
});
