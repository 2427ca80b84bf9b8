// GICv2m MSI frame: MSI_TYPER (base SPI and count), MSI_SETSPI_NS (a write of an SPI INTID sets
// it pending), MSI_IIDR and the identification registers, in one 4 KiB frame. Layout:
// src/spec/gic/gicv2m-registers.ts; reference behaviour: QEMU arm-gicv2m (QEMU 7.2).
// Writes of INTIDs outside the frame's range are ignored; reads of unknown offsets are RAZ.

import { get32 } from '../spec/bits.js';
import { SPI_INTID_BASE, SPI_INTID_LIMIT } from '../spec/gic/gic-common.js';
import { V2M, V2M_FRAME_SIZE, V2M_MSI_TYPER, V2M_SETSPI } from '../spec/gic/gicv2m-registers.js';
import { UserInputError } from '../util/errors.js';
import type { DoorbellSink, MmioDevice, MsiOutcome, U64 } from '../memory/types.js';
import { read64As32 } from '../memory/mmio-split.js';
import { NO_SPI_SINK, type SpiSink } from './sinks.js';

export interface GicV2mOptions {
  /** First SPI INTID of the frame (>= 32). */
  readonly baseSpi: number;
  /** Number of SPIs, 1..1023; base + count <= 1020. */
  readonly spiCount: number;
  /** MSI_IIDR. Default 0x05100000 (QEMU's value). */
  readonly iidr?: number;
  /** PIDR2 (0xfe8). Default 0 (QEMU reads the identification block as 0). */
  readonly pidr2?: number;
  readonly spiSink?: SpiSink;
  readonly name?: string;
}

export class GicV2m implements MmioDevice {
  readonly name: string;
  readonly mmioSize = V2M_FRAME_SIZE;
  readonly baseSpi: number;
  readonly spiCount: number;
  private readonly iidr: number;
  private readonly pidr2: number;
  private readonly sink: SpiSink;
  /** Number of MSI writes ignored because the INTID was outside the frame's range. */
  rejected = 0;

  constructor(opts: GicV2mOptions) {
    const { baseSpi, spiCount } = opts;
    if (!Number.isInteger(baseSpi) || baseSpi < SPI_INTID_BASE || baseSpi >= SPI_INTID_LIMIT) {
      throw new UserInputError(`must be an SPI INTID in ${SPI_INTID_BASE}..${SPI_INTID_LIMIT - 1}, got ${String(baseSpi)}`, 'v2m.baseSpi');
    }
    if (!Number.isInteger(spiCount) || spiCount < 1 || baseSpi + spiCount > SPI_INTID_LIMIT) {
      throw new UserInputError(`must be 1..${SPI_INTID_LIMIT - baseSpi} so the range ends below INTID ${SPI_INTID_LIMIT}`, 'v2m.spiCount');
    }
    this.baseSpi = baseSpi;
    this.spiCount = spiCount;
    this.iidr = (opts.iidr ?? 0x0510_0000) >>> 0;
    this.pidr2 = (opts.pidr2 ?? 0) >>> 0;
    this.sink = opts.spiSink ?? NO_SPI_SINK;
    this.name = opts.name ?? 'v2m';
  }

  get typer(): number {
    return ((this.baseSpi << V2M_MSI_TYPER.BaseSPI.lsb) | (this.spiCount << V2M_MSI_TYPER.NumberSPIs.lsb)) >>> 0;
  }

  /** Sets SPI `value` (MSI_SETSPI_NS[9:0]) pending if it is in the frame's range. */
  setSpi(value: number): MsiOutcome {
    const intid = get32(value >>> 0, V2M_SETSPI.SPI);
    if (intid < this.baseSpi || intid >= this.baseSpi + this.spiCount) {
      this.rejected++;
      return 'dropped';
    }
    this.sink.spiPending(intid);
    return 'delivered';
  }

  /** This frame's MSI input when it is at `base`: the doorbell is MSI_SETSPI_NS (DeviceID ignored). */
  msiSink(base: number): DoorbellSink {
    const doorbell = base + V2M.MSI_SETSPI_NS;
    return {
      doorbell,
      msiWrite: (address: number, data: number): MsiOutcome => (address === doorbell ? this.setSpi(data) : 'dropped'),
    };
  }

  read(offset: number, size: 1 | 2 | 4): number {
    if (size !== 4) return 0;
    switch (offset) {
      case V2M.MSI_TYPER:
        return this.typer;
      case V2M.MSI_IIDR:
        return this.iidr;
      case V2M.PIDR2:
        return this.pidr2;
      default:
        return 0;
    }
  }

  write(offset: number, size: 1 | 2 | 4, value: number): void {
    if (offset !== V2M.MSI_SETSPI_NS || size === 1) return;
    this.setSpi(size === 2 ? value & 0xffff : value);
  }

  read64(offset: number, out: U64): void {
    read64As32(this, offset, out);
  }

  /** Only MSI_SETSPI_NS is writable; a 64-bit write to it acts once, with the low word. */
  write64(offset: number, lo: number): void {
    this.write(offset, 4, lo);
  }
}
