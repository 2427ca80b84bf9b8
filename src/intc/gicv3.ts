// A GICv3's LPI-capable core as the ITS sees it: the distributor subset, one redistributor per PE
// and the redistributor region (RD_base + SGI_base per PE, GICR_TYPER.Last on the final one).
// IHI 0069 §12.9-12.11, §9.11 (redistributor regions). The VMM maps `distributor` and
// `redistributorRegion` into guest physical space (or forwards the LPI registers from its own
// GIC model) and connects an LpiSink.

import { UserInputError } from '../util/errors.js';
import { LPI_INTID_BASE } from '../spec/gic/gic-common.js';
import type { MmioDevice, PhysMemory, Serviceable, U64 } from '../memory/types.js';
import { GicDistributor } from './distributor.js';
import { GicRedistributor, LPI_SLICE, REDISTRIBUTOR_STRIDE } from './redistributor.js';
import { NO_LPI_SINK, type LpiSink } from './sinks.js';
import { checkObject, checkU32, type GicV3State } from './state.js';

export interface GicV3Options {
  /** Number of PEs (one redistributor each), 1..4096. */
  readonly peCount: number;
  /** INTID bits (GICD_TYPER.IDbits + 1), 14..24; Linux 6.1 uses at most 16. Default 16. */
  readonly idBits?: number;
  /** Physical LPIs (GICD_TYPER.LPIS, GICR_TYPER.PLPIS). Default true. */
  readonly lpis?: boolean;
  /** GICR_TYPER.DirectLPI: GICR_SETLPIR/CLRLPIR/INVLPIR/INVALLR/SYNCR. Default false (as QEMU). */
  readonly directLpi?: boolean;
  /** SPIs implemented (GICD_TYPER.ITLinesNumber), 0..988. Default 256. */
  readonly spiCount?: number;
  /** Guest-physical base of the redistributor region; needed to resolve PTA = 1 RDbase addresses. */
  readonly redistributorBase?: number;
  /** MPIDR affinity (Aff3.Aff2.Aff1.Aff0 packed as GICR_TYPER[63:32]) per PE. Default: Aff0 = pe % 16, Aff1 = pe / 16 (QEMU virt). */
  readonly affinities?: readonly number[];
  readonly iidr?: number;
  readonly lpiSink?: LpiSink;
}

/** QEMU-style identification: PIDR0..PIDR4 for GICD and GICR (ArchRev 3 in PIDR2). */
const GICD_PIDR: readonly [number, number, number, number, number] = [0x92, 0xb4, 0x3b, 0x00, 0x44];
const GICR_PIDR: readonly [number, number, number, number, number] = [0x93, 0xb4, 0x3b, 0x00, 0x44];

export function defaultAffinity(pe: number): number {
  return ((Math.floor(pe / 16) & 0xff) << 8) | (pe % 16);
}

function intOption(v: number | undefined, dflt: number, min: number, max: number, where: string): number {
  const x = v ?? dflt;
  if (!Number.isInteger(x) || x < min || x > max) throw new UserInputError(`must be an integer in ${min}..${max}, got ${String(x)}`, where);
  return x;
}

export class GicV3 implements Serviceable {
  readonly distributor: GicDistributor;
  readonly redistributors: readonly GicRedistributor[];
  /** MmioDevice covering every PE's redistributor frames (peCount × 128 KiB). */
  readonly redistributorRegion: MmioDevice;
  readonly redistributorBase: number | null;
  readonly idBits: number;
  readonly lpis: boolean;

  constructor(
    readonly memory: PhysMemory,
    opts: GicV3Options,
  ) {
    const peCount = intOption(opts.peCount, 1, 1, 4096, 'gic.peCount');
    this.idBits = intOption(opts.idBits, 16, 14, 24, 'gic.idBits');
    const spiCount = intOption(opts.spiCount, 256, 0, 988, 'gic.spiCount');
    this.lpis = opts.lpis ?? true;
    const base = opts.redistributorBase;
    if (base !== undefined && (!Number.isSafeInteger(base) || base < 0 || base % 0x1_0000 !== 0)) {
      throw new UserInputError('must be a 64 KiB aligned address', 'gic.redistributorBase');
    }
    this.redistributorBase = base ?? null;
    if (opts.affinities && opts.affinities.length !== peCount) {
      throw new UserInputError(`needs one entry per PE (${peCount})`, 'gic.affinities');
    }
    const iidr = opts.iidr ?? 0x43b;
    const sink = opts.lpiSink ?? NO_LPI_SINK;
    const rss = (opts.affinities ?? []).some((a) => (a & 0xff) > 15);
    this.distributor = new GicDistributor({ peCount, idBits: this.idBits, lpis: this.lpis, spiCount, iidr, pidr: GICD_PIDR, rss });
    const rds: GicRedistributor[] = [];
    const work = this.work;
    for (let pe = 0; pe < peCount; pe++) {
      const affinity = opts.affinities?.[pe] ?? defaultAffinity(pe);
      rds.push(
        new GicRedistributor(
          {
            pe,
            affinity: affinity >>> 0,
            last: pe === peCount - 1,
            lpis: this.lpis,
            directLpi: opts.directLpi ?? false,
            lpiIdBits: this.idBits,
            iidr,
            pidr: GICR_PIDR,
          },
          memory,
          sink,
          work,
        ),
      );
    }
    this.redistributors = rds;
    this.redistributorRegion = new RedistributorRegion(rds);
  }

  /** Redistributors with deferred LPI work (INVALL, MOVALL, table import, disable). */
  private readonly work = new Set<GicRedistributor>();

  /**
   * One bounded slice of the redistributors' deferred LPI work (see GicRedistributor.step).
   * Returns true while work remains; call after each vCPU exit or on a timer until it returns false.
   */
  service(): boolean {
    let budget = LPI_SLICE;
    for (const r of this.work) {
      r.step(budget);
      budget -= r.lastSliceWork;
      if (budget <= 0) break;
    }
    return this.work.size > 0;
  }

  get peCount(): number {
    return this.redistributors.length;
  }

  /** First INTID beyond the implemented LPI space. */
  get lpiLimit(): number {
    return this.lpis ? 2 ** this.idBits : LPI_INTID_BASE;
  }

  /**
   * The redistributor an ITS RDbase designates: with PTA = 0 the processor number, with PTA = 1
   * the physical address of its RD_base frame (`raw` is the command field, address >> 16).
   */
  redistributorFor(raw: number, pta: boolean): GicRedistributor | null {
    if (!pta) return this.redistributors[raw] ?? null;
    if (this.redistributorBase === null) return null;
    const off = raw * 0x1_0000 - this.redistributorBase;
    if (off < 0 || off % REDISTRIBUTOR_STRIDE !== 0) return null;
    return this.redistributors[off / REDISTRIBUTOR_STRIDE] ?? null;
  }

  reset(): void {
    this.distributor.reset();
    for (const r of this.redistributors) r.reset();
  }

  saveState(): GicV3State {
    return { version: 1, gicdCtlr: this.distributor.ctlrValue, redistributors: this.redistributors.map((r) => r.saveState()) };
  }

  /** Restores a snapshot taken with the same PE count (UserInputError otherwise). */
  restoreState(state: unknown): void {
    const o = checkObject(state, 'gic state');
    const rds = o.redistributors;
    if (!Array.isArray(rds) || rds.length !== this.redistributors.length) {
      throw new UserInputError(`must list ${this.redistributors.length} redistributors`, 'gic state.redistributors');
    }
    const ctlr = checkU32(o.gicdCtlr, 'gic state.gicdCtlr');
    // Validate everything before changing anything.
    const scratch = this.redistributors.map((r) => r.saveState());
    try {
      rds.forEach((s, i) => this.redistributors[i]!.restoreState(s, `gic state.redistributors[${i}]`));
    } catch (e) {
      scratch.forEach((s, i) => this.redistributors[i]!.restoreState(s));
      throw e;
    }
    this.distributor.restoreCtlr(ctlr);
  }
}

/** The redistributor region: PE i's RD_base at i × 128 KiB, SGI_base 64 KiB above it. */
class RedistributorRegion implements MmioDevice {
  readonly name = 'gicr';
  readonly mmioSize: number;

  constructor(private readonly rds: readonly GicRedistributor[]) {
    this.mmioSize = rds.length * REDISTRIBUTOR_STRIDE;
  }

  read(offset: number, size: 1 | 2 | 4): number {
    const r = this.rds[Math.floor(offset / REDISTRIBUTOR_STRIDE)];
    if (!r || size !== 4 || (offset & 3) !== 0) return 0;
    return r.read32(offset % REDISTRIBUTOR_STRIDE);
  }

  write(offset: number, size: 1 | 2 | 4, value: number): void {
    const r = this.rds[Math.floor(offset / REDISTRIBUTOR_STRIDE)];
    if (!r || size !== 4 || (offset & 3) !== 0) return;
    r.write32(offset % REDISTRIBUTOR_STRIDE, value);
  }

  read64(offset: number, out: U64): void {
    const r = this.rds[Math.floor(offset / REDISTRIBUTOR_STRIDE)];
    if (!r || (offset & 7) !== 0) {
      out.lo = out.hi = 0;
      return;
    }
    r.read64(offset % REDISTRIBUTOR_STRIDE, out);
  }

  write64(offset: number, lo: number, hi: number): void {
    const r = this.rds[Math.floor(offset / REDISTRIBUTOR_STRIDE)];
    if (!r || (offset & 7) !== 0) return;
    r.write64(offset % REDISTRIBUTOR_STRIDE, lo, hi);
  }
}
