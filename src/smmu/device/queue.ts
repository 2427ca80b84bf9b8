// Circular-queue index arithmetic shared by the command, event and PRI queues (IHI 0070 §3.5:
// PROD/CONS hold an index of LOG2SIZE bits with the wrap flag immediately above it), and the
// effective queue base (§6.3.26: base aligned to the larger of the queue size or 32 bytes).
import { bitsInPlace, get32 } from '../../spec/bits.js';
import { QUEUE_BASE } from '../../spec/smmuv3/registers.js';

/** Effective LOG2SIZE: the register value capped at the advertised maximum (§6.3.26). */
export function queueLog2(baseLo: number, maxLog2: number): number {
  const l = get32(baseLo, QUEUE_BASE.LOG2SIZE);
  return l > maxLog2 ? maxLog2 : l;
}

/** Effective queue base address: ADDR (bits above a 52-bit PA not stored) aligned down to max(32, entries * entryBytes). */
export function queueBaseAddr(baseLo: number, baseHi: number, log2: number, entryBytes: number): number {
  const sizeLog2 = Math.max(5, log2 + Math.log2(entryBytes));
  return bitsInPlace(baseLo, baseHi, 51, sizeLog2);
}

/** Mask of index + wrap bit. */
export function ptrMask(log2: number): number {
  return (2 ** (log2 + 1) - 1) >>> 0;
}

export function ptrIndex(ptr: number, log2: number): number {
  return (ptr & (2 ** log2 - 1)) >>> 0;
}

export function ptrWrap(ptr: number, log2: number): number {
  return (ptr >>> log2) & 1;
}

/** PROD/CONS pointer after one more entry, wrapping index and toggling the wrap flag. */
export function ptrInc(ptr: number, log2: number): number {
  return ((ptr & ptrMask(log2)) + 1) & ptrMask(log2);
}

export function queueEmpty(prod: number, cons: number, log2: number): boolean {
  return ((prod ^ cons) & ptrMask(log2)) === 0;
}

export function queueFull(prod: number, cons: number, log2: number): boolean {
  return ((prod ^ cons) & ptrMask(log2)) === 2 ** log2;
}
