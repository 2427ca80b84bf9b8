// The identification block every GIC frame carries at 0xFFD0-0xFFFC (IHI 0069 §12.1: PIDR0-7,
// CIDR0-3). The ITS, distributor and redistributors share this read behaviour.
import { GIC_CIDR, ID_REGS } from '../spec/gic/gic-common.js';

const PIDR_OFFSETS: readonly number[] = [ID_REGS.PIDR0, ID_REGS.PIDR1, ID_REGS.PIDR2, ID_REGS.PIDR3, ID_REGS.PIDR4];

/**
 * The value of the ID register at `offset`: PIDR0-4 from `pidr` (in that order), CIDR0-3 fixed;
 * -1 when `offset` is none of them (PIDR5-7 included: the frame then reads them as zero).
 */
export function readIdRegister(offset: number, pidr: readonly number[]): number {
  if (offset >= ID_REGS.CIDR0 && offset <= ID_REGS.CIDR3) return GIC_CIDR[(offset - ID_REGS.CIDR0) >> 2]!;
  const i = PIDR_OFFSETS.indexOf(offset);
  return i >= 0 ? pidr[i]! : -1;
}
