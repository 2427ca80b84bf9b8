// The reference guest's GICv3 ITS + redistributor LPI driver, as Linux 6.1's irq-gic-v3-its does
// it (Linux 6.1): PIDR2 check, quiesce, GITS_BASER page-size probing and device table
// (indirect when it would exceed two pages) + flat collection table, GITS_CBASER (64 KiB queue,
// RaWaWb, inner shareable), CWRITER = 0, enable; per redistributor PROPBASER (filled with 0xA2)
// and PENDBASER, EnableLPIs, MAPC + SYNC, INVALL; per device MAPD (ITT >= 256 bytes), per vector
// MAPTI + SYNC, property byte 0xA3 + INV + SYNC. LPIs are handed out from 8192.
// Register layouts: src/spec/gic/its-registers.ts, redistributor-registers.ts, its-commands.ts
// (IHI 0069 §12.19, §12.11, §6.3).
import type { PhysMemory } from '../memory/types.js';
import { encodeFields, getBig } from '../spec/bits.js';
import { ID_REGS, LPI_CONFIG, LPI_INTID_BASE, PIDR2, SHAREABILITY } from '../spec/gic/gic-common.js';
import { encodeItsCommand, ITS_COMMAND_BYTES, ITS_OPCODE } from '../spec/gic/its-commands.js';
import { BASER_PAGE_BYTES, BASER_PAGE_SIZE, BASER_TYPE, GITS, GITS_BASER, GITS_CBASER, GITS_CTLR, GITS_TYPER, ITS_L1_ENTRY, ITS_L1_ENTRY_BYTES } from '../spec/gic/its-registers.js';
import { GICR, GICR_CTLR, GICR_FRAME_STRIDE, GICR_PENDBASER, GICR_PROPBASER, GICR_TYPER } from '../spec/gic/redistributor-registers.js';
import type { PageAllocator } from './allocator.js';
import { readQ, writeQ, writeWords, type CpuBus } from './cpu-bus.js';
import { POLL_LIMIT } from './smmu-cmdq.js';

/** Read-allocate, write-allocate, write-back (GIC_BASER_CACHE_RaWaWb). */
const RAWAWB = 7;
const ITS_CMDQ_BYTES = 0x1_0000;
/** LPI property byte: priority 0xa0, Group1 (RES1), enabled / masked. */
const LPI_PRIO = 0xa0;
export const LPI_PROP_ENABLED = Number(encodeFields(LPI_CONFIG, { Priority: LPI_PRIO >> 2, Res1: 1, Enable: 1 }, 1)[0]!);
export const LPI_PROP_MASKED = Number(encodeFields(LPI_CONFIG, { Priority: LPI_PRIO >> 2, Res1: 1, Enable: 0 }, 1)[0]!);

export class ItsProbeError extends Error {
  override readonly name = 'ItsProbeError';
}

export interface ItsDriverOptions {
  readonly base: number;
  /** GICR region base and number of PEs (one redistributor each). */
  readonly redistributorBase: number;
  readonly peCount: number;
}

export interface ItsDevice {
  readonly deviceId: number;
  readonly itt: number;
  readonly nvecs: number;
  /** LPI INTID of each EventID. */
  readonly lpis: number[];
  readonly collection: number;
}

export class GuestItsDriver {
  private cmdq = 0;
  private widx = 0;
  private devbits = 16;
  private ittEntrySize = 8;
  private pta = false;
  private propBase = 0;
  private lpiIdBits = 16;
  private nextLpi = LPI_INTID_BASE;
  private deviceTable: { base: number; indirect: boolean; pageBytes: number; esz: number; l1Entries: number } | null = null;
  private readonly devices = new Map<number, ItsDevice>();
  readonly messages: string[] = [];
  commandsIssued = 0;

  constructor(
    private readonly bus: CpuBus,
    private readonly mem: PhysMemory,
    private readonly alloc: PageAllocator,
    readonly opts: ItsDriverOptions,
  ) {}

  private log(m: string): void {
    this.messages.push(`ITS@0x${this.opts.base.toString(16)}: ${m}`);
  }

  private r32(off: number): number {
    return this.bus.read(this.opts.base + off, 4) >>> 0;
  }

  private w32(off: number, v: number): void {
    this.bus.write(this.opts.base + off, 4, v >>> 0);
  }

  /** its_probe_one + its_alloc_tables + its_cpu_init_lpis + its_cpu_init_collections. */
  init(): void {
    const archRev = Number(getBig([BigInt(this.r32(ID_REGS.PIDR2))], PIDR2.ArchRev));
    if (archRev !== 3 && archRev !== 4) throw new ItsProbeError('No ITS detected, giving up');
    // Force quiescence.
    const ctlr = this.r32(GITS.CTLR);
    if (ctlr & (1 << GITS_CTLR.Enabled.lsb) || !(ctlr & (1 << GITS_CTLR.Quiescent.lsb))) {
      this.w32(GITS.CTLR, ctlr & ~((1 << GITS_CTLR.Enabled.lsb) | (1 << GITS_CTLR.ImDe.lsb)));
      let ok = false;
      for (let i = 0; i < POLL_LIMIT && !ok; i++) ok = (this.r32(GITS.CTLR) & (1 << GITS_CTLR.Quiescent.lsb)) !== 0;
      if (!ok) throw new ItsProbeError('Failed to quiesce, giving up');
    }
    const typer = readQ(this.bus, this.opts.base + GITS.TYPER);
    this.ittEntrySize = Number(getBig([typer], GITS_TYPER.ITT_entry_size)) + 1;
    this.devbits = Number(getBig([typer], GITS_TYPER.Devbits)) + 1;
    this.pta = getBig([typer], GITS_TYPER.PTA) === 1n;
    this.allocTables();
    // Command queue: 64 KiB, CBASER Size = pages - 1.
    this.cmdq = this.alloc.alloc(ITS_CMDQ_BYTES, ITS_CMDQ_BYTES);
    const cbaser =
      encodeFields(GITS_CBASER, { Valid: 1, InnerCache: RAWAWB, Shareability: SHAREABILITY.InnerShareable, Size: ITS_CMDQ_BYTES / 0x1000 - 1 }, 1)[0]! |
      BigInt(this.cmdq);
    writeQ(this.bus, this.opts.base + GITS.CBASER, cbaser);
    writeQ(this.bus, this.opts.base + GITS.CWRITER, 0n);
    this.widx = 0;
    this.w32(GITS.CTLR, this.r32(GITS.CTLR) | (1 << GITS_CTLR.Enabled.lsb));
    this.initLpis();
    for (let pe = 0; pe < this.opts.peCount; pe++) {
      this.send([encodeItsCommand(ITS_OPCODE.MAPC, { ICID: pe, RDbase: this.rdbase(pe), V: 1 })], pe);
      this.send([encodeItsCommand(ITS_OPCODE.INVALL, { ICID: pe })], null);
    }
  }

  private rdFrame(pe: number): number {
    return this.opts.redistributorBase + pe * GICR_FRAME_STRIDE;
  }

  /** RDbase field: the GICR frame address >> 16 with PTA, else GICR_TYPER.Processor_Number. */
  private rdbase(pe: number): number {
    if (this.pta) return Math.floor(this.rdFrame(pe) / 0x1_0000);
    return Number(getBig([readQ(this.bus, this.rdFrame(pe) + GICR.TYPER)], GICR_TYPER.Processor_Number));
  }

  private allocTables(): void {
    for (let n = 0; n < GITS.BASER_COUNT; n++) {
      const off = GITS.BASER0 + 8 * n;
      const val = readQ(this.bus, this.opts.base + off);
      const type = Number(getBig([val], GITS_BASER.Type));
      if (type === BASER_TYPE.Unimplemented) continue;
      const esz = Number(getBig([val], GITS_BASER.Entry_Size)) + 1;
      // Page size probe: 64K, then 16K, then 4K; keep the first that reads back.
      let psz: number = BASER_PAGE_SIZE.SZ_64K;
      for (const p of [BASER_PAGE_SIZE.SZ_64K, BASER_PAGE_SIZE.SZ_16K, BASER_PAGE_SIZE.SZ_4K]) {
        writeQ(this.bus, this.opts.base + off, encodeFields(GITS_BASER, { Type: type, Entry_Size: esz - 1, Page_Size: p }, 1)[0]!);
        if (Number(getBig([readQ(this.bus, this.opts.base + off)], GITS_BASER.Page_Size)) === p) {
          psz = p;
          break;
        }
      }
      const pageBytes = BASER_PAGE_BYTES[psz]!;
      let indirect = false;
      let pages = 1;
      let l1Entries = 0;
      if (type === BASER_TYPE.Devices) {
        let ids = this.devbits;
        if (esz * 2 ** ids > 2 * pageBytes) {
          // Try a two-level table: keep INDIRECT only if it reads back.
          writeQ(this.bus, this.opts.base + off, encodeFields(GITS_BASER, { Type: type, Entry_Size: esz - 1, Page_Size: psz, Indirect: 1, InnerCache: RAWAWB, Shareability: SHAREABILITY.InnerShareable }, 1)[0]!);
          indirect = getBig([readQ(this.bus, this.opts.base + off)], GITS_BASER.Indirect) === 1n;
          if (indirect) ids = Math.max(0, ids - Math.log2(pageBytes / esz));
        }
        const entryBytes = indirect ? ITS_L1_ENTRY_BYTES : esz;
        l1Entries = 2 ** ids;
        pages = Math.min(256, Math.max(1, Math.ceil((entryBytes * l1Entries) / pageBytes)));
      } else if (type !== BASER_TYPE.Collections) {
        continue; // vPE tables: GICv4 only
      }
      const base = this.alloc.alloc(pages * pageBytes, pageBytes);
      const v =
        encodeFields(
          GITS_BASER,
          { Valid: 1, Indirect: indirect ? 1 : 0, InnerCache: RAWAWB, Type: type, Entry_Size: esz - 1, Shareability: SHAREABILITY.InnerShareable, Page_Size: psz, Size: pages - 1 },
          1,
        )[0]! | BigInt(base);
      writeQ(this.bus, this.opts.base + off, v);
      if (readQ(this.bus, this.opts.base + off) !== v) this.log(`${type === BASER_TYPE.Devices ? 'Devices' : 'Interrupt Collections'} doesn't stick`);
      if (type === BASER_TYPE.Devices) this.deviceTable = { base, indirect, pageBytes, esz, l1Entries };
    }
  }

  /** its_cpu_init_lpis: one PROPBASE table (0xA2 bytes) shared by all PEs, a PENDBASE per PE. */
  private initLpis(): void {
    const propBytes = Math.ceil(2 ** this.lpiIdBits / 0x1_0000) * 0x1_0000;
    this.propBase = this.alloc.alloc(propBytes, 0x1_0000);
    const fill = new Uint8Array(propBytes).fill(LPI_PROP_MASKED);
    this.mem.writeBytes(this.propBase, fill);
    for (let pe = 0; pe < this.opts.peCount; pe++) {
      const rd = this.rdFrame(pe);
      const enable = 1 << GICR_CTLR.EnableLPIs.lsb;
      let ctlr = this.bus.read(rd + GICR.CTLR, 4);
      if (ctlr & enable) {
        // Linux 6.1 (its_cpu_init_lpis): try to disable LPIs, wait for RWP, give up on this CPU
        // only if EnableLPIs stays set (GICv3 allows it to be write-once).
        this.bus.write(rd + GICR.CTLR, 4, ctlr & ~enable);
        for (let i = 0; i < 1000 && this.bus.read(rd + GICR.CTLR, 4) & (1 << GICR_CTLR.RWP.lsb); i++);
        ctlr = this.bus.read(rd + GICR.CTLR, 4);
        if (ctlr & enable) {
          this.log(`CPU${pe}: Failed to disable LPIs`);
          continue;
        }
      }
      const pendBytes = Math.ceil(2 ** this.lpiIdBits / 8 / 0x1_0000) * 0x1_0000;
      const pend = this.alloc.alloc(pendBytes, 0x1_0000);
      writeQ(this.bus, rd + GICR.PROPBASER, encodeFields(GICR_PROPBASER, { IDbits: this.lpiIdBits - 1, InnerCache: RAWAWB, Shareability: SHAREABILITY.InnerShareable }, 1)[0]! | BigInt(this.propBase));
      writeQ(this.bus, rd + GICR.PENDBASER, encodeFields(GICR_PENDBASER, { InnerCache: RAWAWB, Shareability: SHAREABILITY.InnerShareable }, 1)[0]! | BigInt(pend));
      this.bus.write(rd + GICR.CTLR, 4, ctlr | enable);
    }
  }

  /** Writes commands, then (with `syncPe` not null) SYNC targeting that PE, and waits for CREADR. */
  private send(cmds: bigint[][], syncPe: number | null): boolean {
    const all = syncPe === null ? cmds : [...cmds, encodeItsCommand(ITS_OPCODE.SYNC, { RDbase: this.rdbase(syncPe) })];
    const slots = ITS_CMDQ_BYTES / ITS_COMMAND_BYTES;
    for (const c of all) {
      writeWords(this.mem, this.cmdq + this.widx * ITS_COMMAND_BYTES, c);
      this.widx = (this.widx + 1) % slots;
      this.commandsIssued++;
    }
    const target = this.widx * ITS_COMMAND_BYTES;
    writeQ(this.bus, this.opts.base + GITS.CWRITER, BigInt(target));
    for (let i = 0; i < POLL_LIMIT; i++) {
      if ((Number(readQ(this.bus, this.opts.base + GITS.CREADR)) & ~0x1f) === target) return true;
    }
    this.log('ITS queue timeout');
    return false;
  }

  /** Makes sure the device table has a level-2 page for `deviceId` (its_alloc_device_table). */
  private ensureDeviceTable(deviceId: number): boolean {
    const t = this.deviceTable;
    if (t === null) return false;
    if (!t.indirect) return deviceId < t.l1Entries;
    const perPage = t.pageBytes / t.esz;
    const idx = Math.floor(deviceId / perPage);
    if (idx >= t.l1Entries) return false;
    const slot = t.base + idx * ITS_L1_ENTRY_BYTES;
    const cur = this.mem.read32(slot + 4);
    if (cur !== -1 && cur & 0x8000_0000) return true;
    const page = this.alloc.alloc(t.pageBytes, t.pageBytes);
    writeWords(this.mem, slot, [encodeFields(ITS_L1_ENTRY, { Valid: 1 }, 1)[0]! | BigInt(page)]);
    return true;
  }

  /**
   * its_msi_prepare + activate + unmask for `nvec` vectors of `deviceId`: MAPD (nvec rounded up to
   * a power of two, at least 2), MAPTI + SYNC per vector, property 0xA3 + INV + SYNC. Returns the
   * device's EventID -> LPI map, or null when the DeviceID does not fit the ITS.
   */
  allocDevice(deviceId: number, nvec: number, pe = 0): ItsDevice | null {
    const have = this.devices.get(deviceId);
    if (have) {
      this.log(`Reusing ITT for devID ${deviceId.toString(16)}`);
      return have;
    }
    if (deviceId >= 2 ** this.devbits || !this.ensureDeviceTable(deviceId)) {
      this.log(`DeviceID 0x${deviceId.toString(16)} beyond the device table`);
      return null;
    }
    const nr = Math.max(2, 2 ** Math.ceil(Math.log2(Math.max(1, nvec))));
    const ittBytes = Math.max(256, nr * this.ittEntrySize);
    const itt = this.alloc.alloc(ittBytes, 256);
    this.send([encodeItsCommand(ITS_OPCODE.MAPD, { DeviceID: deviceId, Size: Math.log2(nr) - 1, ITT_addr: BigInt(itt) >> 8n, V: 1 })], null);
    const lpis: number[] = [];
    for (let ev = 0; ev < nvec; ev++) {
      const lpi = this.nextLpi++;
      lpis.push(lpi);
      this.send([encodeItsCommand(ITS_OPCODE.MAPTI, { DeviceID: deviceId, EventID: ev, pINTID: lpi, ICID: pe })], pe);
      this.setLpiEnabled(deviceId, ev, lpi, true, pe);
    }
    const d: ItsDevice = { deviceId, itt, nvecs: nvec, lpis, collection: pe };
    this.devices.set(deviceId, d);
    return d;
  }

  /** Unmask/mask: property byte, then INV + SYNC. */
  setLpiEnabled(deviceId: number, eventId: number, lpi: number, on: boolean, pe = 0): void {
    this.mem.write8(this.propBase + lpi - LPI_INTID_BASE, on ? LPI_PROP_ENABLED : LPI_PROP_MASKED);
    this.send([encodeItsCommand(ITS_OPCODE.INV, { DeviceID: deviceId, EventID: eventId })], pe);
  }

  /** Frees the device: DISCARD every event + SYNC, then MAPD V=0. */
  freeDevice(deviceId: number): void {
    const d = this.devices.get(deviceId);
    if (!d) return;
    d.lpis.forEach((_, ev) => this.send([encodeItsCommand(ITS_OPCODE.DISCARD, { DeviceID: deviceId, EventID: ev })], d.collection));
    this.send([encodeItsCommand(ITS_OPCODE.MAPD, { DeviceID: deviceId, V: 0 })], null);
    this.devices.delete(deviceId);
  }

  device(deviceId: number): ItsDevice | null {
    return this.devices.get(deviceId) ?? null;
  }

  /** GITS_TRANSLATER's physical address (the doorbell devices write). */
  get doorbell(): number {
    return this.opts.base + GITS.TRANSLATER;
  }
}

