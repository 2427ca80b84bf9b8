// MSI-X capability model (PCIe Base r5.0 §7.7.2, §6.1.4): the capability registers in
// configuration space, and the vector table and Pending Bit Array that live in a memory BAR.
// A vector that fires while masked (its entry's mask bit or the function mask) sets its pending bit; when it becomes unmasked with MSI-X enabled the message is
// sent and the bit cleared (§6.1.4.3, §6.1.4.5). Table entries reset masked (§7.7.2.8).
import {
  CAP_ID,
  MSIX_CAP,
  MSIX_CONTROL,
  MSIX_ENTRY,
  MSIX_LOCATION,
  MSIX_MAX_VECTORS,
  MSIX_VECTOR_CONTROL,
} from '../spec/pcie/capabilities.js';
import type { ConfigSpace, ConfigWriteObserver } from './config-space.js';
import { fieldMask32, get32, set32, sizeMask } from '../spec/bits.js';
import type { MsiSender, SignalOutcome } from './types.js';

export interface MsixOptions {
  /** Table entries, 1..2048. */
  readonly vectors: number;
  /** BAR holding the table, its offset (8-byte aligned). */
  readonly tableBar: number;
  readonly tableOffset: number;
  /** BAR holding the PBA (default: the table's BAR), its offset (8-byte aligned). */
  readonly pbaBar?: number;
  readonly pbaOffset: number;
}

const MASK_BIT = fieldMask32(MSIX_VECTOR_CONTROL.MASK);

export class MsixCapability implements ConfigWriteObserver {
  readonly start: number;
  readonly end: number;
  readonly vectors: number;
  readonly tableBar: number;
  readonly tableOffset: number;
  readonly pbaBar: number;
  readonly pbaOffset: number;
  /** Table entries as dwords: [addrLo, addrHi, data, vectorControl] per vector. */
  private readonly table: Uint32Array;
  /** Pending bits, 32 per element (the PBA in memory order). */
  private readonly pba: Uint32Array;

  constructor(
    private readonly cfg: ConfigSpace,
    opts: MsixOptions,
    private readonly sender: MsiSender,
  ) {
    const n = opts.vectors;
    if (!(Number.isInteger(n) && n >= 1 && n <= MSIX_MAX_VECTORS)) throw new RangeError(`MSI-X vector count ${n} not in 1..2048`);
    if (opts.tableOffset % 8 !== 0 || opts.pbaOffset % 8 !== 0) throw new RangeError('MSI-X table and PBA offsets must be 8-byte aligned');
    this.vectors = n;
    this.tableBar = opts.tableBar;
    this.tableOffset = opts.tableOffset;
    this.pbaBar = opts.pbaBar ?? opts.tableBar;
    this.pbaOffset = opts.pbaOffset;
    this.table = new Uint32Array(n * 4);
    this.pba = new Uint32Array(Math.ceil(n / 64) * 2);
    if (this.tableBar === this.pbaBar) {
      const tEnd = this.tableOffset + this.tableBytes;
      const pEnd = this.pbaOffset + this.pbaBytes;
      if (this.tableOffset < pEnd && this.pbaOffset < tEnd) throw new RangeError('MSI-X table and PBA overlap');
    }
    this.start = cfg.addCapability(CAP_ID.MSIX, MSIX_CAP.LENGTH);
    this.end = this.start + MSIX_CAP.LENGTH;
    cfg.set(this.start + MSIX_CAP.MESSAGE_CONTROL, 2, set32(0, MSIX_CONTROL.TABLE_SIZE, n - 1));
    cfg.setWriteMask(this.start + MSIX_CAP.MESSAGE_CONTROL, 2, fieldMask32(MSIX_CONTROL.ENABLE) | fieldMask32(MSIX_CONTROL.FUNCTION_MASK));
    cfg.set(this.start + MSIX_CAP.TABLE, 4, set32(set32(0, MSIX_LOCATION.BIR, this.tableBar), MSIX_LOCATION.OFFSET, this.tableOffset >>> 3));
    cfg.set(this.start + MSIX_CAP.PBA, 4, set32(set32(0, MSIX_LOCATION.BIR, this.pbaBar), MSIX_LOCATION.OFFSET, this.pbaOffset >>> 3));
    cfg.observe(this);
    this.reset();
  }

  get tableBytes(): number {
    return this.vectors * MSIX_ENTRY.BYTES;
  }

  get pbaBytes(): number {
    return this.pba.length * 4;
  }

  private control(): number {
    return this.cfg.get(this.start + MSIX_CAP.MESSAGE_CONTROL, 2);
  }

  get enabled(): boolean {
    return get32(this.control(), MSIX_CONTROL.ENABLE) !== 0;
  }

  get functionMasked(): boolean {
    return get32(this.control(), MSIX_CONTROL.FUNCTION_MASK) !== 0;
  }

  entryMasked(v: number): boolean {
    return (this.table[v * 4 + 3]! & MASK_BIT) !== 0;
  }

  pending(v: number): boolean {
    return ((this.pba[v >>> 5]! >>> (v & 31)) & 1) !== 0;
  }

  entryAddress(v: number): number {
    return this.table[v * 4 + 1]! * 0x1_0000_0000 + this.table[v * 4]!;
  }

  entryData(v: number): number {
    return this.table[v * 4 + 2]!;
  }

  /** Signals vector `v` (callers check `enabled` and the range first). */
  notify(v: number): SignalOutcome {
    if (this.functionMasked || this.entryMasked(v)) {
      this.pba[v >>> 5] = (this.pba[v >>> 5]! | (1 << (v & 31))) >>> 0;
      return 'pending';
    }
    return this.sender.sendMsi(this.entryAddress(v), this.entryData(v));
  }

  // ------------------------------------------------------------ BAR side

  /** True when BAR `bar` offset `off` falls in the table or the PBA. */
  claims(bar: number, off: number): boolean {
    return (bar === this.tableBar && off >= this.tableOffset && off < this.tableOffset + this.tableBytes) || (bar === this.pbaBar && off >= this.pbaOffset && off < this.pbaOffset + this.pbaBytes);
  }

  /** Read of 1, 2 or 4 bytes within the table or the PBA (little-endian). */
  read(bar: number, off: number, size: 1 | 2 | 4): number {
    let v = 0;
    for (let i = 0; i < size; i++) v |= this.readByte(bar, off + i) << (8 * i);
    return (v & sizeMask(size)) >>> 0;
  }

  private readByte(bar: number, off: number): number {
    if (bar === this.tableBar && off >= this.tableOffset && off < this.tableOffset + this.tableBytes) {
      const o = off - this.tableOffset;
      return (this.table[o >>> 2]! >>> ((o & 3) * 8)) & 0xff;
    }
    if (bar === this.pbaBar && off >= this.pbaOffset && off < this.pbaOffset + this.pbaBytes) {
      const o = off - this.pbaOffset;
      return (this.pba[o >>> 2]! >>> ((o & 3) * 8)) & 0xff;
    }
    return 0;
  }

  /** Write of 1, 2 or 4 bytes: table entries are writable (address low bits and reserved vector
   * control bits read as zero); the PBA is read-only. */
  write(bar: number, off: number, size: 1 | 2 | 4, value: number): void {
    if (!(bar === this.tableBar && off >= this.tableOffset)) return;
    for (let i = 0; i < size; i++) {
      const o = off + i - this.tableOffset;
      if (o >= this.tableBytes) break;
      const idx = o >>> 2;
      const sh = (o & 3) * 8;
      const word = idx & 3;
      const wmask = word === 0 ? 0xffff_fffc : word === 3 ? MASK_BIT : 0xffff_ffff;
      const m = ((0xff << sh) & wmask) >>> 0;
      this.table[idx] = ((this.table[idx]! & ~m) | ((((value >>> (8 * i)) & 0xff) << sh) & m)) >>> 0;
    }
    this.deliverPending();
  }

  // ------------------------------------------------------------ config side

  afterWrite(): void {
    this.deliverPending();
  }

  /** Sends every pending vector that is no longer masked (bounded by the table size). */
  private deliverPending(): void {
    if (!this.enabled || this.functionMasked) return;
    const pba = this.pba;
    for (let w = 0; w < pba.length; w++) {
      let bits = pba[w]!;
      if (bits === 0) continue;
      for (let b = 0; b < 32 && bits !== 0; b++) {
        if (((bits >>> b) & 1) === 0) continue;
        const v = w * 32 + b;
        if (v >= this.vectors || this.entryMasked(v)) continue;
        bits = (bits & ~(1 << b)) >>> 0;
        pba[w] = bits;
        this.sender.sendMsi(this.entryAddress(v), this.entryData(v));
      }
    }
  }

  /** Table and PBA contents (host-side save). */
  snapshot(): { table: number[]; pba: number[] } {
    return { table: [...this.table], pba: [...this.pba] };
  }

  /** Restores a {@link snapshot}; throws RangeError on a malformed one. No message is sent. */
  load(s: { table: unknown; pba: unknown }): void {
    if (!this.fits(s)) throw new RangeError('MSI-X state: table or PBA has the wrong shape');
    this.table.set(s.table as number[]);
    this.pba.set(s.pba as number[]);
  }

  /** True when `s` has this capability's table and PBA shape (a valid {@link snapshot}). */
  fits(s: { table: unknown; pba: unknown }): boolean {
    const ok = (a: unknown, n: number): boolean => Array.isArray(a) && a.length === n && a.every((v) => Number.isInteger(v) && v >= 0 && v <= 0xffff_ffff);
    return ok(s.table, this.table.length) && ok(s.pba, this.pba.length);
  }

  reset(): void {
    this.table.fill(0);
    for (let v = 0; v < this.vectors; v++) this.table[v * 4 + 3] = MASK_BIT;
    this.pba.fill(0);
  }
}
