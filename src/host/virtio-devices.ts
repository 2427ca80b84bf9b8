// The virtio devices `vsmmu boot` hosts: a virtio-blk over a disk file (what the guest writes
// lands in the file) or a virtio-rng, each on a virtio-mmio transport in polled-window mode, its
// DMA through the SMMU stream of its slot. Also the window layout of a virtio-mmio transport:
// which registers the bridge watches and in which order it applies a poll's stores.
import { FileBlockBackend } from '../virtio/block-backend.js';
import { VirtioBlk } from '../virtio/blk.js';
import { VirtioMmioTransport } from '../virtio/mmio-transport.js';
import { VirtioRng } from '../virtio/rng.js';
import { VIRTIO_MMIO, VIRTIO_MMIO_CONFIG } from '../spec/virtio/mmio.js';
import type { VirtioDevice } from '../virtio/device.js';
import type { DeviceRequest } from './boot.js';
import type { DeviceFactory, HostedDevice } from './hosted-machine.js';
import { words } from './window-bridge.js';

/** Selectors go first: the register they select is written after them. */
export const VIRTIO_MMIO_SELECTORS: readonly number[] = [VIRTIO_MMIO.DeviceFeaturesSel, VIRTIO_MMIO.DriverFeaturesSel, VIRTIO_MMIO.QueueSel];
/** Written last by a driver, after the registers they commit (queue addresses, features). */
export const VIRTIO_MMIO_DOORBELLS: readonly number[] = [VIRTIO_MMIO.QueueReady, VIRTIO_MMIO.InterruptACK, VIRTIO_MMIO.Status, VIRTIO_MMIO.QueueNotify];

/** A transport around `device`, laid out for the bridge. */
export function hostedVirtio(device: VirtioDevice, stats: () => { requests: number; bytes: number; faults: number }): DeviceFactory {
  return (slot, dma, irq): HostedDevice => {
    const t = new VirtioMmioTransport(device, { dma, irq, polledWindow: true, name: slot.name });
    const cfgEnd = VIRTIO_MMIO_CONFIG + Math.ceil(device.configSize / 4) * 4;
    return {
      kind: device.kind,
      mmio: t,
      registers: words(0, cfgEnd),
      applyFirst: VIRTIO_MMIO_SELECTORS,
      applyLast: VIRTIO_MMIO_DOORBELLS,
      stats,
      rings: () => t.queues.filter((q) => q.ready).map((q) => ({ desc: q.descHi * 2 ** 32 + q.descLo, driver: q.driverHi * 2 ** 32 + q.driverLo, device: q.deviceHi * 2 ** 32 + q.deviceLo })),
    };
  };
}

/** The device model for one `vsmmu boot` device request. */
export function bootDevice(req: DeviceRequest): DeviceFactory {
  if (req.kind === 'rng') {
    const rng = new VirtioRng();
    return hostedVirtio(rng, () => ({ requests: rng.stats.requests, bytes: rng.stats.bytes, faults: rng.stats.faults }));
  }
  const blk = new VirtioBlk(FileBlockBackend.open(req.path));
  return hostedVirtio(blk, () => ({ requests: blk.stats.requests, bytes: blk.stats.bytesRead + blk.stats.bytesWritten, faults: blk.stats.faults }));
}
