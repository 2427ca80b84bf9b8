// Per-stream DMA port of the SMMUv3 device: a bus master's reads and writes, translated by the
// SMMU (IHI 0070 chapter 3) and split on translation granules. Each chunk is translated (IOTLB hit:
// no allocation, no BigInt) and copied to or from guest memory. A fault stops the access: the
// event (if any) has already been recorded by the device, and a DmaFault describes it.
// Untagged PCIe traffic is an unprivileged data access (§13.7).
import type { DmaFault, DmaPort, PhysMemory } from '../../memory/types.js';
import { GuestMemory } from '../../memory/guest-memory.js';
import { newRequest, newResult, setAddress, type TranslationRequest, type TranslationResult } from '../translation/types.js';

/** What a port needs from its SMMU: one translation, with SMMUEN/GBPA and event recording applied. */
export interface PortTranslator {
  /** Translates `req` into `res`; on failure returns the DmaFault reason ('abort', event name...). */
  translateAccess(req: TranslationRequest, res: TranslationResult): string | null;
}

// Buffer.prototype.copy works on any Uint8Array and copies a sub-range without creating a view.
const copyBytes = Buffer.prototype.copy as (this: Uint8Array, target: Uint8Array, targetStart: number, sourceStart: number, sourceEnd: number) => number;

class Fault implements DmaFault {
  constructor(
    readonly iova: number,
    readonly reason: string,
    readonly done: number,
  ) {}
}

export class SmmuDmaPort implements DmaPort {
  private readonly req: TranslationRequest = newRequest();
  private readonly res: TranslationResult = newResult();
  private readonly slice: { bytes: Uint8Array | null; offset: number } = { bytes: null, offset: 0 };
  private readonly guest: GuestMemory | null;

  constructor(
    private readonly smmu: PortTranslator,
    private readonly mem: PhysMemory,
    readonly sid: number,
    readonly ssid: number | null,
  ) {
    this.req.sid = sid;
    this.req.ssid = ssid === null ? -1 : ssid;
    this.guest = mem instanceof GuestMemory ? mem : null;
  }

  read(iova: number, dst: Uint8Array): DmaFault | null {
    return this.access(iova, dst, false);
  }

  write(iova: number, src: Uint8Array): DmaFault | null {
    return this.access(iova, src, true);
  }

  private access(iova: number, buf: Uint8Array, write: boolean): DmaFault | null {
    const req = this.req;
    const res = this.res;
    req.write = write;
    req.instr = false;
    req.priv = false;
    const n = buf.length;
    let done = 0;
    while (done < n) {
      const a = iova + done;
      setAddress(req, a);
      const reason = this.smmu.translateAccess(req, res);
      if (reason !== null) return new Fault(a, reason, done);
      // Bytes left in this translation (page or block); size is a power of two.
      const inPage = res.size - (a % res.size);
      const chunk = n - done < inPage ? n - done : inPage;
      if (!this.copy(res.pa, buf, done, chunk, write)) return new Fault(a, 'external-abort', done);
      done += chunk;
    }
    return null;
  }

  private copy(pa: number, buf: Uint8Array, off: number, len: number, write: boolean): boolean {
    const s = this.slice;
    if (this.guest !== null && this.guest.ramSlice(pa, len, s)) {
      const ram = s.bytes!;
      if (write) {
        if (off === 0 && len === buf.length) ram.set(buf, s.offset);
        else copyBytes.call(buf, ram, s.offset, off, off + len);
      } else copyBytes.call(ram, buf, off, s.offset, s.offset + len);
      return true;
    }
    const part = off === 0 && len === buf.length ? buf : buf.subarray(off, off + len);
    return write ? this.mem.writeBytes(pa, part) : this.mem.readBytes(pa, part);
  }
}
