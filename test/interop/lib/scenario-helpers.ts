// Steps the differential scenarios share: a recognisable pattern in edu's buffer (loaded while the
// SMMU is still disabled, i.e. bypassing), and "device writes / reads, then record what happened".
import { EDU_DMA_LIMIT, VIRT, type Machine } from './machine.js';
import type { Recorder } from './observe.js';
import { LAYOUT, type SmmuDriver } from './smmu-driver.js';

/** Where the pattern the device buffer is loaded from lives (outside every DMA target). */
export const PATTERN_PA = LAYOUT.data + 0xf0_0000;

export function pattern(len: number, seed = 0x5a): Uint8Array {
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = (i * 7 + seed + (i >> 8)) & 0xff || 1;
  return b;
}

/** Loads edu's whole buffer with `pattern()` by a device read with SMMUEN = 0 (bypass, IHI 0070 §6.3.9.1 / GBPA). */
export async function primeDevice(m: Machine): Promise<void> {
  await m.writeBytes(PATTERN_PA, pattern(EDU_DMA_LIMIT));
  await m.eduDma('from-ram', BigInt(PATTERN_PA), EDU_DMA_LIMIT, 0);
}

/**
 * Device write of `len` bytes from buffer offset `bufOff` to `iova`; records the events it caused
 * and the memory at `pa` (the physical range where the data should, or must not, land).
 */
export async function deviceWrite(
  d: SmmuDriver,
  rec: Recorder,
  label: string,
  iova: bigint,
  pa: number,
  len = 64,
  bufOff = 0,
): Promise<void> {
  await d.m.eduDma('to-ram', iova, len, bufOff);
  rec.events(`${label}: events`, await d.events());
  rec.mem(`${label}: memory at PA 0x${pa.toString(16)}`, await d.m.readBytes(pa, len));
}

/** Device read of `len` bytes at `iova` into buffer offset `bufOff`; records the events. */
export async function deviceRead(d: SmmuDriver, rec: Recorder, label: string, iova: bigint, len = 64, bufOff = 0x800): Promise<void> {
  await d.m.eduDma('from-ram', iova, len, bufOff);
  rec.events(`${label}: events`, await d.events());
}

export const RAM_END = VIRT.ramBase + VIRT.ramSize;
