// GICv3 distributor, the subset the LPI/ITS path needs: GICD_CTLR (DS = 1, ARE), GICD_TYPER
// (LPIS, IDbits, ITLinesNumber, MBIS = 0), GICD_IIDR, GICD_TYPER2 and the identification
// registers. IHI 0069 §12.9. Everything else in the 64 KiB frame is RAZ/WI here: SPI/PPI/SGI
// configuration belongs to the VMM's own distributor, which can forward these registers to us.

import { readIdRegister } from './id-registers.js';
import { GICD, GICD_CTLR, GICD_FRAME_SIZE, GICD_TYPER } from '../spec/gic/distributor-registers.js';
import type { MmioDevice, U64 } from '../memory/types.js';
import { read64As32, write64As32 } from '../memory/mmio-split.js';

export interface DistributorParams {
  readonly peCount: number;
  /** Implemented INTID bits (GICD_TYPER.IDbits + 1), >= 14 when LPIs are supported. */
  readonly idBits: number;
  readonly lpis: boolean;
  /** SPIs implemented: INTIDs 32 .. 32 + spiCount - 1 (rounded up to a multiple of 32 in ITLinesNumber). */
  readonly spiCount: number;
  readonly iidr: number;
  readonly pidr: readonly [number, number, number, number, number];
  /** GICD_TYPER.RSS: some PE has an Aff0 above 15 (targeted SGIs need Aff0 0..255). Default false. */
  readonly rss?: boolean;
}

/** GICD_CTLR bits stored as written (DS = 1 view). */
const CTLR_WRITABLE =
  (1 << GICD_CTLR.EnableGrp0.lsb) | (1 << GICD_CTLR.EnableGrp1.lsb) | (1 << GICD_CTLR.ARE.lsb) | (1 << GICD_CTLR.E1NWF.lsb);

export class GicDistributor implements MmioDevice {
  readonly name = 'gicd';
  readonly mmioSize = GICD_FRAME_SIZE;
  private ctlr = 0;

  constructor(readonly params: DistributorParams) {}

  reset(): void {
    this.ctlr = 0;
  }

  get ctlrValue(): number {
    return this.ctlr;
  }

  restoreCtlr(value: number): void {
    this.ctlr = (value & CTLR_WRITABLE) >>> 0;
  }

  typer(): number {
    const p = this.params;
    const itLines = Math.min(31, Math.ceil((p.spiCount + 32) / 32) - 1);
    let v = itLines << GICD_TYPER.ITLinesNumber.lsb;
    v |= (Math.min(p.peCount, 8) - 1) << GICD_TYPER.CPUNumber.lsb;
    if (p.lpis) v |= 1 << GICD_TYPER.LPIS.lsb;
    v |= (p.idBits - 1) << GICD_TYPER.IDbits.lsb;
    // IHI 0069 §12.9.38 RSS: 0 means targeted SGIs reach Aff0 0..15 only, so a PE with a larger
    // Aff0 needs RSS = 1 (Linux: "can't SGI CPU" otherwise).
    if (p.rss === true) v |= 1 << GICD_TYPER.RSS.lsb;
    return v >>> 0;
  }

  read(offset: number, size: 1 | 2 | 4): number {
    if (size !== 4 || (offset & 3) !== 0) return 0;
    switch (offset) {
      case GICD.CTLR:
        // DS reads as one: a single security state. RWP is always 0 (writes take effect at once).
        return (this.ctlr | (1 << GICD_CTLR.DS.lsb)) >>> 0;
      case GICD.TYPER:
        return this.typer();
      case GICD.IIDR:
        return this.params.iidr >>> 0;
      default: {
        const id = readIdRegister(offset, this.params.pidr);
        return id >= 0 ? id : 0;
      }
    }
  }

  write(offset: number, size: 1 | 2 | 4, value: number): void {
    if (size !== 4 || offset !== GICD.CTLR) return;
    this.ctlr = (value & CTLR_WRITABLE) >>> 0;
  }

  read64(offset: number, out: U64): void {
    read64As32(this, offset, out);
  }

  write64(offset: number, lo: number, hi: number): void {
    write64As32(this, offset, lo, hi);
  }
}
