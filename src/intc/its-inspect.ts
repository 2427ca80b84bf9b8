// Read-only views of an ITS for tools (`vsmmu inspect`-style dumps, scenario reports, tests):
// decoded registers, the mappings of one device, and bounded scans of the device and collection
// tables. Reads guest memory through the same table walker as the model (IHI 0069 §5.3.4 formats
// in src/spec/gic/its-tables.ts); never throws on guest data, and every scan takes an explicit
// limit. Not on any per-access path.

import { decodeFields, getBig } from '../spec/bits.js';
import { BASER_PAGE_BYTES, GITS, GITS_BASER, GITS_CBASER, GITS_CREADR, GITS_TYPER } from '../spec/gic/its-registers.js';
import { TABLE_ABORT, TABLE_OK } from './its-tables.js';
import type { GicIts } from './its.js';

export interface ItsBaserView {
  readonly index: number;
  readonly type: 'devices' | 'collections' | 'vpes' | 'unimplemented' | 'other';
  readonly valid: boolean;
  readonly indirect: boolean;
  readonly address: number;
  readonly pageBytes: number;
  readonly pages: number;
  readonly entryBytes: number;
}

export interface ItsRegisterView {
  readonly enabled: boolean;
  readonly typer: bigint;
  readonly deviceIdBits: number;
  readonly eventIdBits: number;
  readonly ittEntryBytes: number;
  readonly pta: boolean;
  readonly cbaser: { readonly valid: boolean; readonly address: number; readonly bytes: number };
  readonly cwriter: number;
  readonly creadr: number;
  readonly stalled: boolean;
  readonly basers: readonly ItsBaserView[];
}

function reg64(its: GicIts, off: number): bigint {
  const u = { lo: 0, hi: 0 };
  its.read64(off, u);
  return (BigInt(u.hi) << 32n) | BigInt(u.lo);
}

const BASER_TYPES: Record<number, ItsBaserView['type']> = { 0: 'unimplemented', 1: 'devices', 2: 'vpes', 4: 'collections' };

export function itsRegisters(its: GicIts): ItsRegisterView {
  const typer = reg64(its, GITS.TYPER);
  const t = decodeFields(GITS_TYPER, [typer]);
  const cb = reg64(its, GITS.CBASER);
  const creadr = reg64(its, GITS.CREADR);
  const basers: ItsBaserView[] = [];
  for (let n = 0; n < GITS.BASER_COUNT; n++) {
    const v = reg64(its, GITS.BASER0 + 8 * n);
    const b = decodeFields(GITS_BASER, [v]);
    const pageBytes = BASER_PAGE_BYTES[Number(b.Page_Size)]!;
    let address = Number(b.PhysicalAddress) * 0x1000;
    if (pageBytes === 0x1_0000) address = Number(b.PhysicalAddress >> 4n) * 0x1_0000 + Number(b.PhysicalAddress_51_48) * 2 ** 48;
    basers.push({
      index: n,
      type: BASER_TYPES[Number(b.Type)] ?? 'other',
      valid: b.Valid === 1n,
      indirect: b.Indirect === 1n,
      address,
      pageBytes,
      pages: Number(b.Size) + 1,
      entryBytes: Number(b.Entry_Size) + 1,
    });
  }
  return {
    enabled: its.isEnabled,
    typer,
    deviceIdBits: Number(t.Devbits) + 1,
    eventIdBits: Number(t.IDbits) + 1,
    ittEntryBytes: Number(t.ITT_entry_size) + 1,
    pta: t.PTA === 1n,
    cbaser: {
      valid: getBig([cb], GITS_CBASER.Valid) === 1n,
      address: Number(getBig([cb], GITS_CBASER.PhysicalAddress)) * 0x1000,
      bytes: (Number(getBig([cb], GITS_CBASER.Size)) + 1) * 0x1000,
    },
    cwriter: Number(reg64(its, GITS.CWRITER)),
    creadr: Number(getBig([creadr], GITS_CREADR.Offset)) * 32,
    stalled: getBig([creadr], GITS_CREADR.Stalled) === 1n,
    basers,
  };
}

export interface ItsEventView {
  readonly eventId: number;
  readonly intid: number;
  readonly icid: number;
  /** Target PE, or null when the collection is unmapped. */
  readonly pe: number | null;
}

export interface ItsDeviceView {
  readonly deviceId: number;
  readonly eventIdBits: number;
  readonly itt: number;
  readonly events: readonly ItsEventView[];
  /** True when the ITT walk stopped at `maxEvents` or on an abort. */
  readonly truncated: boolean;
}

/**
 * The mappings of one device: null when the DeviceID has no valid DTE (or the table aborts).
 * Reads at most `maxEvents` ITEs.
 */
export function itsDevice(its: GicIts, deviceId: number, maxEvents = 4096): ItsDeviceView | null {
  const t = its.tables;
  if (!(deviceId >= 0 && deviceId < 2 ** its.config.deviceIdBits)) return null;
  if (t.readDte(deviceId) !== TABLE_OK || !t.dteValid) return null;
  const itt = t.dteItt;
  const eventIdBits = t.dteSize + 1;
  const n = Math.min(2 ** eventIdBits, maxEvents);
  const events: ItsEventView[] = [];
  let truncated = 2 ** eventIdBits > maxEvents;
  for (let e = 0; e < n; e++) {
    if (t.readIte(itt, e) !== TABLE_OK) {
      truncated = true;
      break;
    }
    if (!t.iteValid || !t.itePhysical) continue;
    const intid = t.iteIntid;
    const icid = t.iteIcid;
    const pe = t.readCte(icid) === TABLE_OK && t.cteValid ? t.ctePe : null;
    events.push({ eventId: e, intid, icid, pe });
  }
  return { deviceId, eventIdBits, itt, events, truncated };
}

/** DeviceIDs below `limit` (and 2^Devbits) with a valid DTE. Stops at the first table abort. */
export function itsMappedDevices(its: GicIts, limit = 65536): number[] {
  const t = its.tables;
  const out: number[] = [];
  const n = Math.min(limit, 2 ** its.config.deviceIdBits);
  for (let d = 0; d < n; d++) {
    const st = t.readDte(d);
    if (st === TABLE_ABORT) break;
    if (st === TABLE_OK && t.dteValid) out.push(d);
  }
  return out;
}

/** Mapped collections below `limit`: ICID -> PE. */
export function itsCollections(its: GicIts, limit = 65536): Map<number, number> {
  const t = its.tables;
  const out = new Map<number, number>();
  const n = Math.min(limit, 2 ** its.config.collectionIdBits);
  for (let c = 0; c < n; c++) {
    const st = t.readCte(c);
    if (st === TABLE_ABORT) break;
    if (st === TABLE_OK && t.cteValid) out.set(c, t.ctePe);
  }
  return out;
}
