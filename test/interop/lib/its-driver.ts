// A minimal GICv3 ITS + redistributor LPI driver for the differential tests, written against the
// `Machine` interface (IHI 0069: §5.1 LPI configuration and pending tables via GICR_PROPBASER /
// GICR_PENDBASER, §12.19 GITS_* registers, chapter 6 ITS commands). Layouts come from
// src/spec/gic/. The device, collection and interrupt translation tables are IMPLEMENTATION
// DEFINED in format, so they are only allocated here, never compared; what is compared is the
// architected result: LPI pending bits in the guest's pending tables, and GITS_CREADR.
import { encodeFields } from '../../../src/spec/bits.js';
import { LPI_INTID_BASE, LPI_CONFIG } from '../../../src/spec/gic/gic-common.js';
import { encodeItsCommand, ITS_COMMAND_BYTES, ITS_OPCODE } from '../../../src/spec/gic/its-commands.js';
import { GITS, GITS_BASER, GITS_CBASER, GITS_CTLR, ITS_L1_ENTRY } from '../../../src/spec/gic/its-registers.js';
import { GICR, GICR_CTLR, GICR_FRAME_STRIDE, GICR_PENDBASER, GICR_PROPBASER } from '../../../src/spec/gic/redistributor-registers.js';
import { VIRT, type Machine } from './machine.js';

/** Guest-RAM layout of the ITS structures (clear of ./smmu-driver.ts LAYOUT). */
export const ITS_LAYOUT = Object.freeze({
  cmdq: VIRT.ramBase + 0x90_0000,
  deviceTable: VIRT.ramBase + 0x91_0000,
  collectionTable: VIRT.ramBase + 0x92_0000,
  itts: VIRT.ramBase + 0x93_0000,
  propTable: VIRT.ramBase + 0xa0_0000,
  /** Pending table of PE n: 64 KiB aligned, 64 KiB apart. */
  pendTables: VIRT.ramBase + 0xb0_0000,
});
/** 16 INTID bits: LPIs 8192..65535. */
export const LPI_ID_BITS = 16;
const CMDQ_ENTRIES = 0x1000 / ITS_COMMAND_BYTES;
/** LPI configuration byte the tests use: priority 0xa0, Group-1 RES1 bit, enabled. */
const LPI_CFG = Number(encodeFields({ P: LPI_CONFIG.Priority, R: LPI_CONFIG.Res1, E: LPI_CONFIG.Enable }, { P: 0xa0 >> 2, R: 1, E: 1 }, 1)[0]);

const its = (off: number): number => VIRT.itsBase + off;
const gicr = (pe: number, off: number): number => VIRT.gicrBase + pe * GICR_FRAME_STRIDE + off;

export class ItsDriver {
  private cwriter = 0;

  constructor(
    readonly m: Machine,
    readonly cpus = 1,
  ) {}

  /**
   * LPIs on every redistributor, device and collection tables (4 KiB pages; the device table flat,
   * or two-level with `indirectDevices`: one level-1 page whose entry 0 points at a level-2 page,
   * IHI 0069 §12.19.1 Indirect), command queue, ITS enabled.
   */
  async enable(indirectDevices = false): Promise<void> {
    const m = this.m;
    const nLpis = 2 ** LPI_ID_BITS - LPI_INTID_BASE;
    await m.writeBytes(ITS_LAYOUT.propTable, new Uint8Array(nLpis).fill(LPI_CFG));
    for (let pe = 0; pe < this.cpus; pe++) {
      await m.writeBytes(this.pendTable(pe), new Uint8Array(2 ** LPI_ID_BITS / 8));
      await m.write64(gicr(pe, GICR.PROPBASER), encodeFields(GICR_PROPBASER, { IDbits: LPI_ID_BITS - 1, PhysicalAddress: BigInt(ITS_LAYOUT.propTable) >> 12n }, 1)[0]!);
      await m.write64(gicr(pe, GICR.PENDBASER), encodeFields(GICR_PENDBASER, { PhysicalAddress: BigInt(this.pendTable(pe)) >> 16n }, 1)[0]!);
      await m.write32(gicr(pe, GICR.CTLR), 1 << GICR_CTLR.EnableLPIs.lsb);
    }
    const baser = (addr: number, pages: number, indirect = false): bigint =>
      encodeFields(GITS_BASER, { Valid: 1, Indirect: indirect ? 1 : 0, PhysicalAddress: BigInt(addr) >> 12n, Page_Size: 0, Size: pages - 1 }, 1)[0]!;
    if (indirectDevices) {
      const l2 = ITS_LAYOUT.deviceTable + 0x1000;
      await m.writeBytes(ITS_LAYOUT.deviceTable, new Uint8Array(0x2000));
      await m.write64(ITS_LAYOUT.deviceTable, encodeFields(ITS_L1_ENTRY, { Valid: 1, PhysicalAddress: BigInt(l2) >> 12n }, 1)[0]!);
      await m.write64(its(GITS.BASER0), baser(ITS_LAYOUT.deviceTable, 1, true));
    } else {
      await m.write64(its(GITS.BASER0), baser(ITS_LAYOUT.deviceTable, 16)); // Device table (Type is read-only)
    }
    await m.write64(its(GITS.BASER0 + 8), baser(ITS_LAYOUT.collectionTable, 1)); // Collection table
    await m.write64(its(GITS.CBASER), encodeFields(GITS_CBASER, { Valid: 1, PhysicalAddress: BigInt(ITS_LAYOUT.cmdq) >> 12n, Size: 0 }, 1)[0]!);
    await m.write64(its(GITS.CWRITER), 0n);
    await m.write32(its(GITS.CTLR), 1 << GITS_CTLR.Enabled.lsb);
    this.cwriter = 0;
  }

  pendTable(pe: number): number {
    return ITS_LAYOUT.pendTables + pe * 0x1_0000;
  }

  /** The ITT of a device: 4 KiB each, from ITS_LAYOUT.itts. */
  itt(deviceId: number): number {
    return ITS_LAYOUT.itts + (deviceId & 0xff) * 0x1000;
  }

  /** Queues commands and writes GITS_CWRITER once (the ITS processes them synchronously); returns GITS_CREADR. */
  async commands(cmds: ReadonlyArray<readonly [keyof typeof ITS_OPCODE, Parameters<typeof encodeItsCommand>[1]?]>): Promise<bigint> {
    for (const [name, fields] of cmds) {
      const words = encodeItsCommand(ITS_OPCODE[name], fields ?? {});
      const b = Buffer.alloc(ITS_COMMAND_BYTES);
      words.forEach((w, i) => b.writeBigUInt64LE(BigInt.asUintN(64, w), i * 8));
      await this.m.writeBytes(ITS_LAYOUT.cmdq + this.cwriter * ITS_COMMAND_BYTES, b);
      this.cwriter = (this.cwriter + 1) % CMDQ_ENTRIES;
    }
    await this.m.write64(its(GITS.CWRITER), BigInt(this.cwriter * ITS_COMMAND_BYTES));
    return this.m.read64(its(GITS.CREADR));
  }

  async mapDevice(deviceId: number, eventIdBits = 5): Promise<bigint> {
    return this.commands([['MAPD', { DeviceID: deviceId, Size: eventIdBits - 1, ITT_addr: BigInt(this.itt(deviceId)) >> 8n, V: 1 }]]);
  }

  /** The pending LPIs among [8192, 8192 + count) on PE `pe`, from its pending table in guest RAM. */
  async pendingLpis(pe: number, count = 256): Promise<number[]> {
    const bytes = await this.m.readBytes(this.pendTable(pe) + LPI_INTID_BASE / 8, count / 8);
    const out: number[] = [];
    bytes.forEach((b, i) => {
      for (let bit = 0; bit < 8; bit++) if (b & (1 << bit)) out.push(LPI_INTID_BASE + i * 8 + bit);
    });
    return out;
  }
}
