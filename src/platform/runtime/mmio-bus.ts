// The platform's physical address space as the vCPUs see it: RAM (GuestMemory) plus every
// MmioDevice window (SMMU, ITS, GICD/GICR, GICv2m, ECAM, PCI memory windows) dispatched by address.
// Accesses nothing claims read as zero / are ignored and are counted (a real bus would raise an
// external abort to the vCPU; the VMM decides what to do with `unassigned`).
import type { GuestMemory } from '../../memory/guest-memory.js';
import type { MmioDevice, U64 } from '../../memory/types.js';
import type { CpuBus } from '../../guest/cpu-bus.js';

export interface MmioMapping {
  readonly base: number;
  readonly size: number;
  readonly device: MmioDevice;
}

export class MmioBus implements CpuBus {
  private maps: MmioMapping[] = [];
  private last: MmioMapping | null = null;
  /** Accesses that hit neither RAM nor a device. */
  readonly unassigned = { reads: 0, writes: 0, lastAddress: -1 };

  constructor(readonly memory: GuestMemory) {}

  /** Maps `device` at `base` (size defaults to the device's window). Overlaps are a host bug. */
  map(base: number, device: MmioDevice, size = device.mmioSize): void {
    if (!(Number.isSafeInteger(base) && base >= 0 && size > 0)) throw new RangeError(`bad MMIO window for ${device.name}`);
    for (const m of this.maps) {
      if (base < m.base + m.size && m.base < base + size) throw new RangeError(`MMIO window of ${device.name} overlaps ${m.device.name}`);
    }
    if (this.memory.contains(base, 1) || this.memory.contains(base + size - 1, 1)) throw new RangeError(`MMIO window of ${device.name} overlaps RAM`);
    this.maps.push({ base, size, device });
    this.maps.sort((a, b) => a.base - b.base);
  }

  get mappings(): readonly MmioMapping[] {
    return this.maps;
  }

  /** The mapping holding `addr`, or null. */
  find(addr: number): MmioMapping | null {
    const l = this.last;
    if (l !== null && addr >= l.base && addr < l.base + l.size) return l;
    const ms = this.maps;
    let lo = 0;
    let hi = ms.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const m = ms[mid]!;
      if (addr < m.base) hi = mid - 1;
      else if (addr >= m.base + m.size) lo = mid + 1;
      else {
        this.last = m;
        return m;
      }
    }
    return null;
  }

  read(addr: number, size: 1 | 2 | 4): number {
    const m = this.find(addr);
    if (m !== null) return m.device.read(addr - m.base, size);
    const mem = this.memory;
    const v = size === 1 ? mem.read8(addr) : size === 2 ? mem.read16(addr) : mem.read32(addr);
    if (v >= 0) return v;
    this.unassigned.reads++;
    this.unassigned.lastAddress = addr;
    return 0;
  }

  write(addr: number, size: 1 | 2 | 4, value: number): void {
    const m = this.find(addr);
    if (m !== null) {
      m.device.write(addr - m.base, size, value);
      return;
    }
    const mem = this.memory;
    const ok = size === 1 ? mem.write8(addr, value & 0xff) : size === 2 ? mem.write16(addr, value & 0xffff) : mem.write32(addr, value >>> 0);
    if (!ok) {
      this.unassigned.writes++;
      this.unassigned.lastAddress = addr;
    }
  }

  read64(addr: number, out: U64): void {
    const m = this.find(addr);
    if (m !== null) {
      m.device.read64(addr - m.base, out);
      return;
    }
    if (!this.memory.read64(addr, out)) {
      out.lo = 0;
      out.hi = 0;
      this.unassigned.reads++;
      this.unassigned.lastAddress = addr;
    }
  }

  write64(addr: number, lo: number, hi: number): void {
    const m = this.find(addr);
    if (m !== null) {
      m.device.write64(addr - m.base, lo, hi);
      return;
    }
    if (!this.memory.write64(addr, lo >>> 0, hi >>> 0)) {
      this.unassigned.writes++;
      this.unassigned.lastAddress = addr;
    }
  }
}
