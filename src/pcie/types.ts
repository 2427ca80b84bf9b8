// Interfaces the PCIe subsystem needs from its neighbours, defined here so that pcie/ does not
// depend on concrete SMMU or MSI-controller classes (SmmuV3 satisfies IommuAttachment
// structurally; the platform's address router or an ITS/GICv2m satisfies MsiSink).
import type { DmaPort, MsiOutcome, MsiSink } from '../memory/types.js';

/** An IOMMU (SMMUv3) as seen by the requesters behind it. */
export interface IommuAttachment {
  /** The DMA port of stream `sid`, substream `ssid` (null: untagged). Cheap to call per access. */
  dma(sid: number, ssid: number | null): DmaPort;
  /** Translates an MSI write as a DMA write by stream `sid`, then forwards it to `downstream`. */
  translateMsi(sid: number, address: number, data: number, deviceId: number | null, downstream: MsiSink): MsiOutcome;
}

/** What asking a function to signal an interrupt vector did. */
export type SignalOutcome =
  | MsiOutcome
  | 'pending'; // the vector is masked: its pending bit is set and it is sent on unmask

/** Something that sends an MSI write on behalf of a function (the function itself). */
export interface MsiSender {
  sendMsi(address: number, data: number): MsiOutcome;
}

/** A device model's handler for accesses to its memory BARs (MSI-X table/PBA are handled before it). */
export interface BarHandler {
  read(bar: number, offset: number, size: 1 | 2 | 4): number;
  write(bar: number, offset: number, size: 1 | 2 | 4, value: number): void;
}

/** Where a function currently sits and what its requests become (a snapshot, for tools and reports). */
export interface FunctionIdentity {
  readonly name: string;
  readonly segment: number | null;
  /** Bus number, or null while no bus number is assigned on the path. */
  readonly bus: number | null;
  readonly device: number;
  readonly function: number;
  /** Requester ID (bus << 8 | devfn), or null. */
  readonly rid: number | null;
  readonly bdf: string | null;
  /** SMMU that translates its requests and its stream ID, or null (no IOMMU for this RID). */
  readonly smmu: string | null;
  readonly streamId: number | null;
  /** ITS DeviceID its MSIs carry, or null (no ITS mapping, e.g. GICv2m). */
  readonly deviceId: number | null;
  readonly busMaster: boolean;
}
