// A PCIe function's DMA port, bound to its route. The route (Bus Master Enable on the function and
// every bridge above it, the requester ID from the bus numbers the guest programmed, RID ->
// StreamID, the SMMU's per-stream port or untranslated memory) is resolved by the root complex
// when the port is first used and again only after something that decides it changed (the
// routing epoch, `routing-epoch.ts`). Each access then costs one comparison before it goes to
// the bound target: no walk up the bridges, no RID lookup.
import type { DmaFault, DmaPort, PhysMemory } from '../memory/types.js';
import type { PcieDiagnosticKind, PcieDiagnostics } from './diagnostics.js';
import type { PciFunction } from './function.js';
import { routingEpoch } from './routing-epoch.js';

/** Where a function's DMA goes now. */
export const ROUTE = Object.freeze({
  /** Refused before reaching memory (`failKind`, `failReason`). */
  REFUSED: 0,
  /** Through an IOMMU's per-stream port (`port`). */
  IOMMU: 1,
  /** Straight to memory (`memory`), no IOMMU mapping for the RID. */
  MEMORY: 2,
});

/** A resolved route, filled in by `RootComplex.routeDma`. */
export class DmaRoute {
  kind: number = ROUTE.REFUSED;
  /** Requester ID, or -1 when none is known. */
  rid = -1;
  segment = 0;
  port: DmaPort | null = null;
  memory: PhysMemory | null = null;
  diagnostics: PcieDiagnostics | null = null;
  failKind: PcieDiagnosticKind = 'dma-fault';
  failReason = 'not-attached';
}

export class FunctionDmaPort implements DmaPort {
  private epoch = -1;
  private readonly route = new DmaRoute();

  constructor(
    private readonly fn: PciFunction,
    private readonly ssid: number | null,
  ) {}

  read(iova: number, dst: Uint8Array): DmaFault | null {
    return this.access(false, iova, dst);
  }

  write(iova: number, src: Uint8Array): DmaFault | null {
    return this.access(true, iova, src);
  }

  private access(write: boolean, iova: number, buf: Uint8Array): DmaFault | null {
    const r = this.route;
    if (this.epoch !== routingEpoch.value) {
      // Read the epoch first: a change made while resolving forces another resolution.
      this.epoch = routingEpoch.value;
      this.bind(r);
    }
    if (r.kind === ROUTE.IOMMU) {
      const f = write ? r.port!.write(iova, buf) : r.port!.read(iova, buf);
      if (f !== null) r.diagnostics!.record('dma-fault', this.fn.name, r.segment, r.rid, f.iova, buf.length, f.reason);
      return f;
    }
    if (r.kind === ROUTE.MEMORY) {
      const m = r.memory!;
      if (Number.isSafeInteger(iova) && iova >= 0 && (write ? m.writeBytes(iova, buf) : m.readBytes(iova, buf))) return null;
      return this.refuse(r, 'dma-fault', 'external-abort', iova, buf.length);
    }
    return this.refuse(r, r.failKind, r.failReason, iova, buf.length);
  }

  private bind(r: DmaRoute): void {
    const rc = this.fn.bus?.rc ?? null;
    if (rc === null) {
      r.kind = ROUTE.REFUSED;
      r.diagnostics = null;
      r.failReason = 'not-attached';
      return;
    }
    rc.routeDma(this.fn, this.ssid, r);
  }

  private refuse(r: DmaRoute, kind: PcieDiagnosticKind, reason: string, iova: number, len: number): DmaFault {
    r.diagnostics?.record(kind, this.fn.name, r.segment, r.rid, iova, len, reason);
    return { iova, reason, done: 0 };
  }
}
