// The reference guest's view of the physical address space: what its CPU loads and stores reach
// (device registers through the platform's MMIO bus, RAM through guest memory). The guest driver
// touches devices only through this, as a real kernel does.
import type { U64 } from '../memory/types.js';

export interface CpuBus {
  read(addr: number, size: 1 | 2 | 4): number;
  write(addr: number, size: 1 | 2 | 4, value: number): void;
  read64(addr: number, out: U64): void;
  write64(addr: number, lo: number, hi: number): void;
}

/** 64-bit value helpers for driver code (codec side: bigint is fine here). */
export function readQ(bus: CpuBus, addr: number): bigint {
  const u = { lo: 0, hi: 0 };
  bus.read64(addr, u);
  return (BigInt(u.hi >>> 0) << 32n) | BigInt(u.lo >>> 0);
}

export function writeQ(bus: CpuBus, addr: number, v: bigint): void {
  bus.write64(addr, Number(v & 0xffff_ffffn), Number((v >> 32n) & 0xffff_ffffn));
}

/** Writes 64-bit little-endian doublewords into memory through the bus (RAM). */
export function writeWords(mem: { write64(addr: number, lo: number, hi: number): boolean }, addr: number, words: readonly bigint[]): boolean {
  let ok = true;
  words.forEach((w, i) => {
    ok = mem.write64(addr + 8 * i, Number(w & 0xffff_ffffn), Number((w >> 32n) & 0xffff_ffffn)) && ok;
  });
  return ok;
}

export function readWord(mem: { read64(addr: number, out: U64): boolean }, addr: number): bigint | null {
  const u = { lo: 0, hi: 0 };
  if (!mem.read64(addr, u)) return null;
  return (BigInt(u.hi >>> 0) << 32n) | BigInt(u.lo >>> 0);
}
