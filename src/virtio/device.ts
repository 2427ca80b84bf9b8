// What a virtio device model (virtio-blk, virtio-rng...) provides to a transport: identity,
// device-specific feature bits, queues, configuration space, and a handler for each chain the
// driver makes available. Transports (virtio-mmio here) own the status, feature negotiation,
// queues and interrupts; devices never see registers.
import type { DescriptorChain } from './virtqueue.js';

export interface VirtioDevice {
  /** Device ID (virtio 1.2 §5): 2 = block, 4 = entropy... */
  readonly deviceId: number;
  /** Short kind name for reports ("blk", "rng"). */
  readonly kind: string;
  /** Device-specific feature bits offered (lo = bits 31:0, hi = bits 63:32). */
  readonly features: { readonly lo: number; readonly hi: number };
  /** Number of virtqueues. */
  readonly queueCount: number;
  /** Largest size of each virtqueue (a power of two): what QueueNumMax reports. */
  readonly queueMaxSize: number;
  /** Bytes of device-specific configuration space. */
  readonly configSize: number;
  /** A naturally aligned read of the configuration space (offset + size <= configSize). */
  readConfig(offset: number, size: 1 | 2 | 4): number;
  /** A naturally aligned write of the configuration space; devices without writable fields omit it. */
  writeConfig?(offset: number, size: 1 | 2 | 4, value: number): void;
  /**
   * Serves one chain the driver made available on queue `queue`; returns the number of bytes the
   * device wrote into the chain's writable buffers (the used length). Never throws on guest input:
   * request-level problems are reported in the request's own status.
   */
  handle(queue: number, chain: DescriptorChain): number;
  /** Per-device counters (requests, bytes, faults...), a plain object for reports. */
  readonly stats: { readonly [counter: string]: number };
  /** Device reset (the transport resets queues and status itself). */
  reset(): void;
}
