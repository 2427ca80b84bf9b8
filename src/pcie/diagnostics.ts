// Bounded, queryable log of what the PCIe routing refused or could not deliver (DMA faults, MSIs
// dropped). Counters per kind plus a ring of the last N records. Recording allocates nothing:
// records are preallocated and formatted only when queried.
import { formatBdf } from './id-map.js';
import { hex } from '../util/hex.js';

export type PcieDiagnosticKind =
  | 'dma-bus-master-disabled' // the function's (or an upstream bridge's) Bus Master Enable is 0
  | 'dma-no-requester-id' // no bus number assigned on the path: the function has no RID yet
  | 'dma-not-attached' // the function is not part of a root complex
  | 'dma-iommu-missing' // the mapping names an SMMU that is not connected
  | 'dma-fault' // the SMMU or memory refused the access (reason in the record)
  | 'msi-bus-master-disabled'
  | 'msi-no-requester-id'
  | 'msi-not-attached'
  | 'msi-iommu-missing'
  | 'msi-disconnected' // no MSI controller connected to the root complex
  | 'msi-not-enabled' // the function has neither MSI nor MSI-X enabled (INTx is not modelled)
  | 'msi-vector-out-of-range'
  | 'msi-dropped' // the SMMU or the MSI controller dropped it (reason in the record)
  | 'msi-aborted'
  | 'msi-to-memory'; // the (translated) MSI address was plain memory, not a doorbell

export interface PcieDiagnostic {
  /** Sequence number since creation (monotonic). */
  readonly seq: number;
  readonly kind: PcieDiagnosticKind;
  /** Name of the function that issued the request. */
  readonly source: string;
  readonly segment: number;
  /** Requester ID, or -1 when none was resolved. */
  readonly rid: number;
  /** IOVA (DMA) or MSI address. */
  readonly address: number;
  /** MSI data, or the byte count for DMA. */
  readonly data: number;
  /** Extra machine-readable reason (e.g. the SMMU's fault name), or ''. */
  readonly reason: string;
}

interface Slot {
  seq: number;
  kind: PcieDiagnosticKind;
  source: string;
  segment: number;
  rid: number;
  address: number;
  data: number;
  reason: string;
}

export class PcieDiagnostics {
  private readonly ring: Slot[];
  private next = 0;
  private total = 0;
  private readonly counters = new Map<PcieDiagnosticKind, number>();

  constructor(readonly capacity = 64) {
    if (!(Number.isInteger(capacity) && capacity > 0)) throw new RangeError('diagnostics capacity must be a positive integer');
    this.ring = Array.from({ length: capacity }, () => ({ seq: 0, kind: 'dma-fault' as PcieDiagnosticKind, source: '', segment: 0, rid: -1, address: 0, data: 0, reason: '' }));
  }

  record(kind: PcieDiagnosticKind, source: string, segment: number, rid: number, address: number, data: number, reason = ''): void {
    this.counters.set(kind, (this.counters.get(kind) ?? 0) + 1);
    const s = this.ring[this.next]!;
    s.seq = this.total++;
    s.kind = kind;
    s.source = source;
    s.segment = segment;
    s.rid = rid;
    s.address = address;
    s.data = data;
    s.reason = reason;
    this.next = (this.next + 1) % this.capacity;
  }

  /** How many records of `kind` (or of every kind) were made. */
  count(kind?: PcieDiagnosticKind): number {
    if (kind !== undefined) return this.counters.get(kind) ?? 0;
    return this.total;
  }

  /** Counters by kind (only kinds that occurred). */
  counts(): Partial<Record<PcieDiagnosticKind, number>> {
    return Object.fromEntries(this.counters) as Partial<Record<PcieDiagnosticKind, number>>;
  }

  /** The most recent records (at most `capacity`), oldest first. */
  recent(): PcieDiagnostic[] {
    const n = Math.min(this.total, this.capacity);
    const out: PcieDiagnostic[] = [];
    for (let i = 0; i < n; i++) {
      const s = this.ring[(this.next - n + i + this.capacity) % this.capacity]!;
      out.push({ ...s });
    }
    return out;
  }

  /** One line per recent record. */
  messages(): string[] {
    return this.recent().map(formatDiagnostic);
  }

  clear(): void {
    this.counters.clear();
    this.total = 0;
    this.next = 0;
  }
}

export function formatDiagnostic(d: PcieDiagnostic): string {
  const who = d.rid >= 0 ? `${d.source} (${formatBdf(d.rid, d.segment)})` : d.source;
  const what = d.kind.startsWith('dma') ? `iova ${hex(d.address)} len ${d.data}` : `address ${hex(d.address)} data ${hex(d.data)}`;
  return `${d.kind}: ${who} ${what}${d.reason ? ` (${d.reason})` : ''}`;
}
