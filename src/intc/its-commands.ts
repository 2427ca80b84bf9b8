// ITS command execution: MAPD, MAPC, MAPTI, MAPI, INT, CLEAR, DISCARD, INV, INVALL, MOVI, MOVALL,
// SYNC on the tables in guest memory. IHI 0069 §6.3 (command semantics and the errors each command
// detects, §6.3.2). GITS_TYPER.SEIS = 0: a command error is recorded for the host and the command
// is skipped or stalls the queue (ItsConfig.commandErrorPolicy); a memory error on a table always
// stalls (docs/intc.md). Every command does a bounded amount of work: INVALL and MOVALL only
// schedule the redistributor's sliced work, and a MOVALL or SYNC that needs a redistributor whose
// earlier work is unfinished waits (CMD_WAIT: the queue stays on it until a later slice).

import { addrOf, rd } from '../spec/bits.js';
import { LPI_INTID_BASE } from '../spec/gic/gic-common.js';
import { ITS_CMD, ITS_ERROR_REASON as R, ITS_OPCODE as OP } from '../spec/gic/its-commands.js';
import type { GicV3 } from './gicv3.js';
import type { GicRedistributor } from './redistributor.js';
import type { ItsConfig } from './its-config.js';
import { TABLE_ABORT, TABLE_NO_ENTRY, TABLE_OK, type ItsTables } from './its-tables.js';

/** Outcome of one command. */
export const CMD_DONE = 0;
/** A command error (reason recorded in `lastReason`). */
export const CMD_ERROR = 1;
/** An external abort on a table access: the queue stalls. */
export const CMD_ABORT = 2;
/** The command needs a redistributor's unfinished work to complete first: retry it later. */
export const CMD_WAIT = 3;
export type CommandStatus = typeof CMD_DONE | typeof CMD_ERROR | typeof CMD_ABORT | typeof CMD_WAIT;

export class ItsCommandProcessor {
  /** Reason code (ITS_ERROR_REASON) of the last CMD_ERROR. */
  lastReason = 0;
  /**
   * Redistributor work units (LPI_SLICE units) the current slice may still spend inline on INVALL,
   * MOVALL and SYNC; the ITS sets it before each slice. Work beyond it is left to service().
   */
  workBudget = 0;

  constructor(
    private readonly cfg: ItsConfig,
    private readonly tables: ItsTables,
    private readonly gic: GicV3,
  ) {}

  /** Advances `r`'s deferred work within the slice's budget; true while it is still busy. */
  private drive(r: GicRedistributor): boolean {
    if (r.busy && this.workBudget > 0) {
      r.step(this.workBudget);
      this.workBudget -= r.lastSliceWork;
    }
    return r.busy;
  }

  private err(reason: number): CommandStatus {
    this.lastReason = reason;
    return CMD_ERROR;
  }

  private collectionInRange(icid: number): boolean {
    return icid < 2 ** this.cfg.collectionIdBits;
  }

  /** Executes the command in `w` (four doublewords as lo/hi halves). */
  execute(w: Uint32Array): CommandStatus {
    const op = rd(w, ITS_CMD.Opcode);
    switch (op) {
      case OP.MAPD:
        return this.mapd(w);
      case OP.MAPC:
        return this.mapc(w);
      case OP.MAPTI:
        return this.mapti(w, rd(w, ITS_CMD.pINTID));
      case OP.MAPI:
        return this.mapti(w, rd(w, ITS_CMD.EventID));
      case OP.INT:
      case OP.CLEAR:
      case OP.DISCARD:
      case OP.INV:
        return this.onEvent(w, op);
      case OP.MOVI:
        return this.movi(w);
      case OP.INVALL:
        return this.invall(w);
      case OP.MOVALL:
        return this.movall(w);
      case OP.SYNC: {
        // Effects of earlier commands are visible once the target's INVALL/MOVALL work is done.
        const r = this.gic.redistributorFor(rd(w, ITS_CMD.RDbase), this.cfg.pta);
        return r !== null && this.drive(r) ? CMD_WAIT : CMD_DONE;
      }
      default:
        return this.err(R.UNSUPPORTED);
    }
  }

  private mapd(w: Uint32Array): CommandStatus {
    const dev = rd(w, ITS_CMD.DeviceID);
    const valid = rd(w, ITS_CMD.V) === 1;
    const size = rd(w, ITS_CMD.Size);
    if (dev >= 2 ** this.cfg.deviceIdBits) return this.err(R.DEVICE_OOR);
    if (valid && size + 1 > this.cfg.eventIdBits) return this.err(R.SIZE_OR_PROCNUM_OOR);
    const st = this.tables.writeDte(dev, valid, size, addrOf(w[4]!, w[5]!, ITS_CMD.ITT_addr));
    if (st === TABLE_NO_ENTRY) return this.err(R.DEVICE_OOR);
    return st === TABLE_ABORT ? CMD_ABORT : CMD_DONE;
  }

  private mapc(w: Uint32Array): CommandStatus {
    const icid = rd(w, ITS_CMD.ICID);
    const valid = rd(w, ITS_CMD.V) === 1;
    if (!this.collectionInRange(icid)) return this.err(R.COLLECTION_OOR);
    let pe = 0;
    if (valid) {
      const target = this.gic.redistributorFor(rd(w, ITS_CMD.RDbase), this.cfg.pta);
      if (target === null) return this.err(R.SIZE_OR_PROCNUM_OOR);
      pe = target.pe;
    }
    const st = this.tables.writeCte(icid, valid, pe);
    if (st === TABLE_NO_ENTRY) return this.err(R.COLLECTION_OOR);
    return st === TABLE_ABORT ? CMD_ABORT : CMD_DONE;
  }

  /**
   * Reads the DTE of the command's DeviceID and checks the EventID against it. Returns CMD_DONE
   * with tables.dteItt valid, or the failure.
   */
  private device(w: Uint32Array): CommandStatus {
    const dev = rd(w, ITS_CMD.DeviceID);
    if (dev >= 2 ** this.cfg.deviceIdBits) return this.err(R.DEVICE_OOR);
    const st = this.tables.readDte(dev);
    if (st === TABLE_ABORT) return CMD_ABORT;
    if (st === TABLE_NO_ENTRY || !this.tables.dteValid) return this.err(R.UNMAPPED_DEVICE);
    if (rd(w, ITS_CMD.EventID) >= 2 ** (this.tables.dteSize + 1)) return this.err(R.ID_OOR);
    return CMD_DONE;
  }

  private mapti(w: Uint32Array, intid: number): CommandStatus {
    const d = this.device(w);
    if (d !== CMD_DONE) return d;
    const icid = rd(w, ITS_CMD.ICID);
    if (intid < LPI_INTID_BASE || intid >= this.gic.lpiLimit) return this.err(R.PHYSICALID_OOR);
    if (!this.collectionInRange(icid)) return this.err(R.COLLECTION_OOR);
    const st = this.tables.writeIte(this.tables.dteItt, rd(w, ITS_CMD.EventID), true, intid, icid);
    return st === TABLE_OK ? CMD_DONE : CMD_ABORT;
  }

  /** Reads the ITE of (DeviceID, EventID): CMD_DONE with tables.ite* valid and physical. */
  private interrupt(w: Uint32Array): CommandStatus {
    const d = this.device(w);
    if (d !== CMD_DONE) return d;
    const st = this.tables.readIte(this.tables.dteItt, rd(w, ITS_CMD.EventID));
    if (st !== TABLE_OK) return CMD_ABORT;
    if (!this.tables.iteValid || !this.tables.itePhysical) return this.err(R.UNMAPPED_INTERRUPT);
    return CMD_DONE;
  }

  /** The redistributor of collection `icid`, or a status when unmapped / out of range / aborted. */
  private target(icid: number): GicRedistributor | CommandStatus {
    if (!this.collectionInRange(icid)) return this.err(R.COLLECTION_OOR);
    const st = this.tables.readCte(icid);
    if (st === TABLE_ABORT) return CMD_ABORT;
    if (st === TABLE_NO_ENTRY || !this.tables.cteValid) return this.err(R.UNMAPPED_COLLECTION);
    return this.gic.redistributors[this.tables.ctePe] ?? this.err(R.UNMAPPED_COLLECTION);
  }

  private onEvent(w: Uint32Array, op: number): CommandStatus {
    const i = this.interrupt(w);
    if (i !== CMD_DONE) return i;
    const intid = this.tables.iteIntid;
    const rdist = this.target(this.tables.iteIcid);
    // An unmapped collection is an error for all four, DISCARD included (the mapping stays; KVM
    // and QEMU behave the same way).
    if (typeof rdist === 'number') return rdist;
    if (op === OP.DISCARD) {
      rdist.clearPending(intid);
      const st = this.tables.writeIte(this.tables.dteItt, rd(w, ITS_CMD.EventID), false, 0, 0);
      return st === TABLE_OK ? CMD_DONE : CMD_ABORT;
    }
    if (op === OP.INT) rdist.setPending(intid);
    else if (op === OP.CLEAR) rdist.clearPending(intid);
    else rdist.invalidate(intid);
    return CMD_DONE;
  }

  private movi(w: Uint32Array): CommandStatus {
    const i = this.interrupt(w);
    if (i !== CMD_DONE) return i;
    const intid = this.tables.iteIntid;
    const from = this.target(this.tables.iteIcid);
    if (typeof from === 'number') return from;
    const icid = rd(w, ITS_CMD.ICID);
    const to = this.target(icid);
    if (typeof to === 'number') return to;
    const st = this.tables.writeIte(this.tables.dteItt, rd(w, ITS_CMD.EventID), true, intid, icid);
    if (st !== TABLE_OK) return CMD_ABORT;
    if (from !== to && from.clearPending(intid)) to.setPending(intid);
    return CMD_DONE;
  }

  private invall(w: Uint32Array): CommandStatus {
    const rdist = this.target(rd(w, ITS_CMD.ICID));
    if (typeof rdist === 'number') return rdist;
    rdist.scheduleInvalidateAll();
    this.drive(rdist);
    return CMD_DONE;
  }

  private movall(w: Uint32Array): CommandStatus {
    const from = this.gic.redistributorFor(rd(w, ITS_CMD.RDbase), this.cfg.pta);
    const to = this.gic.redistributorFor(rd(w, ITS_CMD.RDbase2), this.cfg.pta);
    if (from === null || to === null) return this.err(R.DEVICE_OOR);
    if (from !== to) {
      if (this.drive(from) || this.drive(to)) return CMD_WAIT;
      from.moveAllTo(to);
      this.drive(from);
    }
    return CMD_DONE;
  }
}
