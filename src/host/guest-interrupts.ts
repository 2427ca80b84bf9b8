// Interrupts into a QEMU guest from outside QEMU, over its qtest socket: a wired SPI is made
// pending by setting its bit in the distributor's GICD_ISPENDR<n> (IHI 0069 §12.9.20), and an MSI
// is a 32-bit write to its doorbell (GITS_TRANSLATER of QEMU's ITS). A qtest write carries no
// requester ID, so QEMU's ITS sees DeviceID 0. Requests are sent without waiting for the reply
// (a round trip costs milliseconds); failures are counted and kept for the report.
import { GICD } from '../spec/gic/distributor-registers.js';
import type { QtestClient } from './qtest.js';

export interface GuestInterrupts {
  /** Makes the SPI with this INTID pending. */
  pendSpi(intid: number): void;
  /** A 32-bit MSI write to a doorbell in the guest's physical address space. */
  msi(address: number, data: number): void;
}

export class QtestInterrupts implements GuestInterrupts {
  readonly counts = { spis: 0, msis: 0, failed: 0 };
  readonly errors: string[] = [];

  constructor(
    private readonly qtest: QtestClient,
    private readonly gicdBase: number,
  ) {}

  private send(line: string): void {
    this.qtest.cmd(line).catch((e: unknown) => {
      this.counts.failed++;
      if (this.errors.length < 10) this.errors.push(e instanceof Error ? e.message : String(e));
    });
  }

  pendSpi(intid: number): void {
    this.counts.spis++;
    const reg = this.gicdBase + GICD.ISPENDR0 + 4 * Math.floor(intid / 32);
    this.send(`writel 0x${reg.toString(16)} 0x${((1 << (intid % 32)) >>> 0).toString(16)}`);
  }

  msi(address: number, data: number): void {
    this.counts.msis++;
    this.send(`writel 0x${address.toString(16)} 0x${(data >>> 0).toString(16)}`);
  }
}
