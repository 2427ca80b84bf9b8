// virtio-rng, the entropy device (virtio 1.2 §5.4): one request queue; the device fills the
// device-writable buffers of each chain with random bytes (at most 4 KiB per request; the used
// length says how many) and ignores device-readable ones.
import { randomFillSync } from 'node:crypto';
import { VIRTIO_ID } from '../spec/virtio/status.js';
import { BounceBuffer } from './bounce.js';
import type { VirtioDevice } from './device.js';
import type { DescriptorChain } from './virtqueue.js';

export interface VirtioRngOptions {
  /** Fills its argument with random bytes (default: node:crypto randomFillSync). */
  readonly random?: (dst: Uint8Array) => void;
  /** Queue size maximum (QueueNumMax), a power of two. Default 64. */
  readonly queueSize?: number;
}

export type VirtioRngStats = {
  requests: number;
  /** Random bytes delivered into guest buffers. */
  bytes: number;
  /** DMA faults on the guest's buffers. */
  faults: number;
};

const MAX_PER_REQUEST = 4096;

export class VirtioRng implements VirtioDevice {
  readonly deviceId = VIRTIO_ID.ENTROPY;
  readonly kind = 'rng';
  readonly features = { lo: 0, hi: 0 };
  readonly queueCount = 1;
  readonly queueMaxSize: number;
  readonly configSize = 0;
  readonly stats: VirtioRngStats = { requests: 0, bytes: 0, faults: 0 };
  private readonly random: (dst: Uint8Array) => void;
  private readonly bounce = new BounceBuffer(MAX_PER_REQUEST);

  constructor(opts: VirtioRngOptions = {}) {
    this.random = opts.random ?? ((dst) => void randomFillSync(dst));
    this.queueMaxSize = opts.queueSize ?? 64;
  }

  readConfig(): number {
    return 0;
  }

  reset(): void {}

  handle(_queue: number, chain: DescriptorChain): number {
    this.stats.requests++;
    const total = Math.min(chain.writableBytes, MAX_PER_REQUEST);
    let done = 0;
    while (done < total) {
      const n = Math.min(total - done, chain.contiguous(true, done));
      if (n <= 0) break; // unreachable: done < writableBytes
      const v = this.bounce.view(n);
      this.random(v);
      if (chain.write(done, v) !== null) {
        this.stats.faults++;
        break;
      }
      done += n;
    }
    this.stats.bytes += done;
    return done;
  }
}
