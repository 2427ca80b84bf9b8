// GICv2m MSI frame layout (Arm "GICv2m Architecture Specification" as used by SBSA, and QEMU's
// arm-gicv2m): one 4 KiB frame per MSI range. Layout only; behaviour is src/intc/gicv2m.ts.

import { reg32Field } from '../bits.js';

export const V2M_FRAME_SIZE = 0x1000;

export const V2M = Object.freeze({
  MSI_TYPER: 0x008,
  MSI_SETSPI_NS: 0x040,
  MSI_IIDR: 0xfcc,
  /** Identification registers of the 4 KiB frame. */
  PIDR4: 0xfd0,
  PIDR0: 0xfe0,
  PIDR2: 0xfe8,
  CIDR0: 0xff0,
});

/** MSI_TYPER: first SPI INTID [25:16] and number of SPIs [9:0]. */
export const V2M_MSI_TYPER = Object.freeze({
  BaseSPI: reg32Field('BaseSPI', 25, 16),
  NumberSPIs: reg32Field('NumberSPIs', 9, 0),
});

/** MSI_SETSPI_NS: the SPI INTID to set pending [9:0]. */
export const V2M_SETSPI = Object.freeze({ SPI: reg32Field('SPI', 9, 0) });
