// Circular-queue index arithmetic shared by the command, event and PRI queues (IHI 0070 §3.5:
// PROD/CONS hold an index of LOG2SIZE bits with the wrap flag immediately above it). The queue
// base registers are decoded by queueLog2/queueBaseAddr in src/spec/smmuv3/registers.ts.

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
