// Test kit for the intc tests: a guest RAM, a GICv3 with an ITS, and a tiny Linux-6.1-like driver
// that writes the ITS registers, the LPI tables and the command queue the way
// Linux 6.1 describes (CBASER 0xb80000004001040f, indirect device table
// 0xf907000040080600, PROPBASER 0x4010078f, PENDBASER 0x40200780 + 64 KiB per CPU).

import { GuestMemory } from '../../src/memory/guest-memory.js';
import { GicV3, type GicV3Options } from '../../src/intc/gicv3.js';
import { GicIts, type GicItsOptions } from '../../src/intc/its.js';
import { LpiRecorder } from '../../src/intc/sinks.js';
import { GITS } from '../../src/spec/gic/its-registers.js';
import { GICR, GICR_FRAME_STRIDE } from '../../src/spec/gic/redistributor-registers.js';
import type { U64 } from '../../src/memory/types.js';

export const RAM_BASE = 0x4000_0000;
export const RAM_SIZE = 0x0400_0000; // 64 MiB
export const CMDQ = 0x4001_0000;
export const DEV_L1 = 0x4008_0000;
export const COLL_TABLE = 0x4009_0000;
export const DEV_L2 = 0x400a_0000;
export const PROPBASE = 0x4010_0000;
export const PENDBASE = 0x4020_0000; // + cpu * 0x10000
export const ITT_BASE = 0x4100_0000; // + dev-index * 0x1000

export const CBASER_LINUX = 0xb800_0000_4001_040fn;
export const DEVICE_BASER_LINUX = 0xf907_0000_4008_0600n;
export const COLLECTION_BASER_LINUX = 0xbc07_0000_4009_0600n;
export const PROPBASER_LINUX = 0x0000_0000_4010_078fn;
export const PENDBASER_LINUX = 0x0000_0000_4020_0780n;

export interface Rig {
  mem: GuestMemory;
  gic: GicV3;
  its: GicIts;
  sink: LpiRecorder;
  /** Next free queue slot (command index). */
  widx: number;
}

export function read64(dev: { read64(o: number, out: U64): void }, off: number): bigint {
  const u = { lo: 0, hi: 0 };
  dev.read64(off, u);
  return (BigInt(u.hi) << 32n) | BigInt(u.lo);
}

export function write64(dev: { write64(o: number, lo: number, hi: number): void }, off: number, v: bigint): void {
  dev.write64(off, Number(v & 0xffff_ffffn), Number((v >> 32n) & 0xffff_ffffn));
}

export function makeRig(gicOpts: Partial<GicV3Options> = {}, itsOpts: GicItsOptions = {}): Rig {
  const mem = new GuestMemory();
  mem.addRam(RAM_BASE, RAM_SIZE);
  const sink = new LpiRecorder();
  const gic = new GicV3(mem, { peCount: 4, lpiSink: sink, ...gicOpts });
  const its = new GicIts(mem, gic, itsOpts);
  return { mem, gic, its, sink, widx: 0 };
}

/** Posts commands into the queue and writes GITS_CWRITER once, as Linux's its_send_single_command does. */
export function post(rig: Rig, ...cmds: bigint[][]): void {
  for (const c of cmds) {
    const at = CMDQ + rig.widx * 32;
    for (let i = 0; i < 4; i++) {
      const v = c[i] ?? 0n;
      rig.mem.write64(at + i * 8, Number(v & 0xffff_ffffn), Number(v >> 32n));
    }
    rig.widx = (rig.widx + 1) % 2048;
  }
  write64(rig.its, GITS.CWRITER, BigInt(rig.widx * 32));
}

/** GITS_CREADR offset in commands. */
export function creadr(rig: Rig): number {
  return Number(read64(rig.its, GITS.CREADR) >> 5n) & 0x7fff;
}

/** Linux-like ITS probe and enable: CBASER, BASER0 (indirect) + one L2 page, BASER1, CWRITER, CTLR. */
export function initIts(rig: Rig): void {
  const its = rig.its;
  write64(its, GITS.CBASER, CBASER_LINUX);
  write64(its, GITS.BASER0, DEVICE_BASER_LINUX);
  write64(its, GITS.BASER0 + 8, COLLECTION_BASER_LINUX);
  // One L2 device page (64 KiB / 8 = 8192 DeviceIDs per page) for DeviceIDs 0..8191.
  rig.mem.write64(DEV_L1, DEV_L2, 0x8000_0000);
  write64(its, GITS.CWRITER, 0n);
  its.write(GITS.CTLR, 4, its.read(GITS.CTLR, 4) | 1);
}

/** Linux-like redistributor LPI setup for every CPU: property table 0xa2, PROPBASER, PENDBASER, EnableLPIs. */
export function initRedistributors(rig: Rig): void {
  rig.mem.writeBytes(PROPBASE, new Uint8Array(0x1_0000).fill(0xa2));
  const region = rig.gic.redistributorRegion;
  for (let cpu = 0; cpu < rig.gic.peCount; cpu++) {
    const rd = cpu * GICR_FRAME_STRIDE;
    region.write(rd + GICR.WAKER, 4, 0);
    write64(region, rd + GICR.PROPBASER, PROPBASER_LINUX);
    write64(region, rd + GICR.PENDBASER, PENDBASER_LINUX + BigInt(cpu * 0x1_0000));
    region.write(rd + GICR.CTLR, 4, 1);
  }
}

/** ITT address used for the i-th device in tests. */
export function ittFor(i: number): number {
  return ITT_BASE + i * 0x1000;
}

/** Byte of the LPI pending table of `cpu` that holds `intid`. */
export function pendingBit(rig: Rig, cpu: number, intid: number): boolean {
  const b = rig.mem.read8(PENDBASE + cpu * 0x1_0000 + (intid >> 3));
  return (b & (1 << (intid & 7))) !== 0;
}

export function setLpiConfig(rig: Rig, intid: number, byte: number): void {
  rig.mem.write8(PROPBASE + intid - 8192, byte);
}
