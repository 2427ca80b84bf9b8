// What the reference guest's test-device drivers need from the machine: CPU loads and stores
// (device registers in BARs), RAM (rings and buffers) and a way to let the VMM run the device
// until it goes quiet (a real guest would poll or sleep until the interrupt).
import type { CpuBus } from './cpu-bus.js';

export interface DeviceDriverContext {
  readonly bus: Pick<CpuBus, 'read' | 'write'>;
  readonly memory: { readBytes(addr: number, dst: Uint8Array): boolean; writeBytes(addr: number, src: Uint8Array): boolean };
  /** Lets the VMM service devices until nothing is pending. */
  settle(): void;
}
