// The reference guest's driver for the DMA engine test device (src/platform/devices/dma-engine.ts):
// programs one transfer through the BAR registers, lets the device run, reads the outcome.
import { DMA_ENGINE_CMD_IRQ, DMA_ENGINE_OP, DMA_ENGINE_REG as R, DMA_ENGINE_STATUS } from '../platform/devices/dma-engine.js';
import type { DeviceDriverContext } from './device-driver.js';

export interface DmaTransfer {
  readonly op: 'copy' | 'fill';
  /** Source IOVA (copy only). */
  readonly from: number;
  readonly to: number;
  readonly length: number;
  readonly pattern: number;
}

export interface DmaTransferOutcome {
  readonly ok: boolean;
  /** Bytes the engine reports done. */
  readonly doneBytes: number;
  /** The faulting address the engine reports (null when the transfer completed). */
  readonly faultAddress: number | null;
}

/** Runs one transfer on the engine whose BAR 0 is at `bar`, with the completion interrupt requested. */
export function runDmaTransfer(ctx: Pick<DeviceDriverContext, 'bus' | 'settle'>, bar: number, t: DmaTransfer): DmaTransferOutcome {
  const bus = ctx.bus;
  const w = (o: number, v: number): void => bus.write(bar + o, 4, v >>> 0);
  w(R.SRC_LO, t.from);
  w(R.SRC_HI, Math.floor(t.from / 0x1_0000_0000));
  w(R.DST_LO, t.to);
  w(R.DST_HI, Math.floor(t.to / 0x1_0000_0000));
  w(R.LEN, t.length);
  w(R.PATTERN, t.pattern);
  w(R.CMD, (t.op === 'copy' ? DMA_ENGINE_OP.COPY : DMA_ENGINE_OP.FILL) | DMA_ENGINE_CMD_IRQ);
  ctx.settle(); // the transfer runs in slices: let it complete
  const status = bus.read(bar + R.STATUS, 4);
  const doneBytes = bus.read(bar + R.DONE, 4);
  const ok = status === DMA_ENGINE_STATUS.DONE;
  const faultAddress = ok ? null : bus.read(bar + R.FAULT_LO, 4) + bus.read(bar + R.FAULT_HI, 4) * 0x1_0000_0000;
  return { ok, doneBytes, faultAddress };
}
