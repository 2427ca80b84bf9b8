// virtio-blk (virtio 1.2 §5.2): one request queue over a BlockBackend. Requests: IN (read), OUT
// (write), FLUSH, GET_ID; other types are answered UNSUPP. Every request ends with a status byte:
// a sector range beyond the capacity, a data length that is not a whole number of sectors or is
// larger than the device advertises (SIZE_MAX x SEG_MAX), a DMA fault on a data buffer or a host
// I/O error are IOERR. Data moves through one bounce buffer, in pieces, so nothing is sized by the
// request.
import { VIRTIO_BLK_CONFIG, VIRTIO_BLK_ID_BYTES, VIRTIO_BLK_REQ, VIRTIO_BLK_S, VIRTIO_BLK_SECTOR_SIZE, VIRTIO_BLK_T } from '../spec/virtio/blk.js';
import { VIRTIO_BLK_F, featureSet } from '../spec/virtio/features.js';
import { VIRTIO_ID } from '../spec/virtio/status.js';
import type { BlockBackend } from './block-backend.js';
import { BounceBuffer } from './bounce.js';
import type { VirtioDevice } from './device.js';
import type { DescriptorChain } from './virtqueue.js';

export interface VirtioBlkOptions {
  /** GET_ID answer (at most 20 bytes of ASCII; NUL-padded). Default "vsmmu-virtio-blk". */
  readonly serial?: string;
  /** Queue size maximum (QueueNumMax), a power of two. Default 128. */
  readonly queueSize?: number;
  /** Largest single data segment advertised (VIRTIO_BLK_F_SIZE_MAX), bytes. Default 256 KiB. */
  readonly sizeMax?: number;
  /** Most data segments per request advertised (VIRTIO_BLK_F_SEG_MAX). Default queueSize - 2. */
  readonly segMax?: number;
}

/** Per-device counters, a plain object for reports. */
export type VirtioBlkStats = {
  /** Chains served (every request, whatever its outcome). */
  requests: number;
  reads: number;
  writes: number;
  flushes: number;
  getIds: number;
  unsupported: number;
  /** Bytes read from the disk into guest buffers (completed IN requests). */
  bytesRead: number;
  /** Bytes written to the disk from guest buffers (completed OUT requests). */
  bytesWritten: number;
  /** Requests answered VIRTIO_BLK_S_IOERR. */
  ioErrors: number;
  /** DMA faults on request headers, data buffers or status bytes. */
  faults: number;
  /** Chains too short to hold a request header and a status byte (completed with length 0). */
  malformed: number;
};

const BOUNCE_BYTES = 64 * 1024;
const SECTOR = VIRTIO_BLK_SECTOR_SIZE;
const TWO32 = 0x1_0000_0000;

export class VirtioBlk implements VirtioDevice {
  readonly deviceId = VIRTIO_ID.BLOCK;
  readonly kind = 'blk';
  readonly features: { readonly lo: number; readonly hi: number };
  readonly queueCount = 1;
  readonly queueMaxSize: number;
  readonly configSize = VIRTIO_BLK_CONFIG.SIZE;
  /** Capacity in 512-byte sectors. */
  readonly capacity: number;
  /** Largest data payload of one request: SIZE_MAX x SEG_MAX. */
  readonly maxRequestBytes: number;
  readonly stats: VirtioBlkStats = {
    requests: 0,
    reads: 0,
    writes: 0,
    flushes: 0,
    getIds: 0,
    unsupported: 0,
    bytesRead: 0,
    bytesWritten: 0,
    ioErrors: 0,
    faults: 0,
    malformed: 0,
  };

  private readonly config = new Uint8Array(VIRTIO_BLK_CONFIG.SIZE);
  private readonly configView = new DataView(this.config.buffer);
  private readonly header = new Uint8Array(VIRTIO_BLK_REQ.HEADER_SIZE);
  private readonly headerView = new DataView(this.header.buffer);
  private readonly statusByte = new Uint8Array(1);
  private readonly id = new Uint8Array(VIRTIO_BLK_ID_BYTES);
  private readonly bounce = new BounceBuffer(BOUNCE_BYTES);
  /** Data bytes written into the current chain's writable buffers. */
  private written = 0;

  constructor(
    readonly backend: BlockBackend,
    opts: VirtioBlkOptions = {},
  ) {
    this.queueMaxSize = opts.queueSize ?? 128;
    const sizeMax = opts.sizeMax ?? 256 * 1024;
    const segMax = opts.segMax ?? Math.max(1, this.queueMaxSize - 2);
    if (!(Number.isInteger(sizeMax) && sizeMax >= SECTOR && sizeMax <= 0xffff_ffff)) throw new RangeError(`virtio-blk sizeMax ${sizeMax} out of range`);
    if (!(Number.isInteger(segMax) && segMax >= 1 && segMax <= 0xffff_ffff)) throw new RangeError(`virtio-blk segMax ${segMax} out of range`);
    this.maxRequestBytes = sizeMax * segMax;
    this.capacity = Math.floor(backend.size / SECTOR);
    const serial = new TextEncoder().encode(opts.serial ?? 'vsmmu-virtio-blk');
    if (serial.length > VIRTIO_BLK_ID_BYTES) throw new RangeError(`virtio-blk serial longer than ${VIRTIO_BLK_ID_BYTES} bytes`);
    this.id.set(serial);
    const bits: number[] = [VIRTIO_BLK_F.SIZE_MAX, VIRTIO_BLK_F.SEG_MAX, VIRTIO_BLK_F.BLK_SIZE, VIRTIO_BLK_F.FLUSH];
    if (backend.readOnly === true) bits.push(VIRTIO_BLK_F.RO);
    this.features = featureSet(...bits);
    const c = this.configView;
    const C = VIRTIO_BLK_CONFIG;
    c.setUint32(C.capacity, this.capacity >>> 0, true);
    c.setUint32(C.capacity + 4, Math.floor(this.capacity / TWO32), true);
    c.setUint32(C.size_max, sizeMax, true);
    c.setUint32(C.seg_max, segMax, true);
    c.setUint32(C.blk_size, SECTOR, true);
  }

  readConfig(offset: number, size: 1 | 2 | 4): number {
    const c = this.configView;
    return size === 1 ? c.getUint8(offset) : size === 2 ? c.getUint16(offset, true) : c.getUint32(offset, true);
  }

  reset(): void {
    this.written = 0;
  }

  handle(_queue: number, chain: DescriptorChain): number {
    const s = this.stats;
    s.requests++;
    const R = VIRTIO_BLK_REQ;
    if (chain.readableBytes < R.HEADER_SIZE || chain.writableBytes < R.STATUS_SIZE) {
      s.malformed++;
      return 0;
    }
    this.written = 0;
    const dataIn = chain.writableBytes - R.STATUS_SIZE;
    let status: number;
    if (chain.read(0, this.header) !== null) {
      s.faults++;
      status = VIRTIO_BLK_S.IOERR;
    } else {
      const h = this.headerView;
      const type = h.getUint32(R.TYPE, true);
      const sectorLo = h.getUint32(R.SECTOR, true);
      const sectorHi = h.getUint32(R.SECTOR + 4, true);
      switch (type) {
        case VIRTIO_BLK_T.IN:
          s.reads++;
          status = this.transfer(chain, sectorLo, sectorHi, dataIn, true);
          break;
        case VIRTIO_BLK_T.OUT:
          s.writes++;
          status = this.transfer(chain, sectorLo, sectorHi, chain.readableBytes - R.HEADER_SIZE, false);
          break;
        case VIRTIO_BLK_T.FLUSH:
          s.flushes++;
          status = this.flush();
          break;
        case VIRTIO_BLK_T.GET_ID:
          s.getIds++;
          status = this.getId(chain, dataIn);
          break;
        default:
          s.unsupported++;
          status = VIRTIO_BLK_S.UNSUPP;
      }
    }
    if (status === VIRTIO_BLK_S.IOERR) s.ioErrors++;
    this.statusByte[0] = status;
    // The status byte is the last device-writable byte (§5.2.6).
    if (chain.write(dataIn, this.statusByte) !== null) {
      s.faults++;
      return this.written;
    }
    return this.written + R.STATUS_SIZE;
  }

  /** IN (`toGuest`) or OUT of `len` data bytes at sector hi:lo, in bounce-sized pieces. */
  private transfer(chain: DescriptorChain, sectorLo: number, sectorHi: number, len: number, toGuest: boolean): number {
    if (len % SECTOR !== 0 || len > this.maxRequestBytes) return VIRTIO_BLK_S.IOERR;
    const sector = sectorHi * TWO32 + sectorLo;
    if (sector > this.capacity || len / SECTOR > this.capacity - sector) return VIRTIO_BLK_S.IOERR;
    if (!toGuest && this.backend.readOnly === true) return VIRTIO_BLK_S.IOERR;
    const pos = sector * SECTOR;
    const base = toGuest ? 0 : VIRTIO_BLK_REQ.HEADER_SIZE;
    let done = 0;
    while (done < len) {
      const room = chain.contiguous(toGuest, base + done);
      const n = Math.min(this.bounce.size, len - done, room);
      if (n <= 0) return VIRTIO_BLK_S.IOERR; // unreachable: offsets stay inside the chain
      const v = this.bounce.view(n);
      if (toGuest) {
        if (!this.backendIo(pos + done, v, false)) return VIRTIO_BLK_S.IOERR;
        if (chain.write(done, v) !== null) {
          this.stats.faults++;
          return VIRTIO_BLK_S.IOERR;
        }
        this.written = done + n;
      } else {
        if (chain.read(base + done, v) !== null) {
          this.stats.faults++;
          return VIRTIO_BLK_S.IOERR;
        }
        if (!this.backendIo(pos + done, v, true)) return VIRTIO_BLK_S.IOERR;
      }
      done += n;
    }
    if (toGuest) this.stats.bytesRead += len;
    else this.stats.bytesWritten += len;
    return VIRTIO_BLK_S.OK;
  }

  /** A backend access; a host I/O error (an exception from the backend) fails the request. */
  private backendIo(offset: number, buf: Uint8Array, write: boolean): boolean {
    try {
      if (write) this.backend.write(offset, buf);
      else this.backend.read(offset, buf);
      return true;
    } catch {
      return false;
    }
  }

  private flush(): number {
    try {
      this.backend.flush?.();
      return VIRTIO_BLK_S.OK;
    } catch {
      return VIRTIO_BLK_S.IOERR;
    }
  }

  private getId(chain: DescriptorChain, room: number): number {
    const n = Math.min(VIRTIO_BLK_ID_BYTES, room);
    if (n === 0) return VIRTIO_BLK_S.OK;
    if (chain.write(0, n === VIRTIO_BLK_ID_BYTES ? this.id : this.id.subarray(0, n)) !== null) {
      this.stats.faults++;
      return VIRTIO_BLK_S.IOERR;
    }
    this.written = n;
    return VIRTIO_BLK_S.OK;
  }
}
