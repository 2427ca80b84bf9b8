// An MSI whose address is no interrupt controller's doorbell is an ordinary 32-bit write to RAM
// (the SMMU's CMD_SYNC completion write, a driver polling a memory word): the one definition,
// used by the platform's MSI router and by an SMMU that has no router in front of it.
import type { MsiSink, PhysMemory } from './types.js';

/** An MsiSink that stores the 32-bit MSI payload in guest memory ('aborted' when no RAM is there). */
export function memoryMsiSink(mem: PhysMemory): MsiSink {
  return { msiWrite: (address, data) => (mem.write32(address, data >>> 0) ? 'memory' : 'aborted') };
}
