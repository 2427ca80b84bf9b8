/**
 * Device-facing interfaces shared by every subsystem. A VMM connects these; nothing here assumes
 * a particular VMM.
 *
 * 64-bit quantities on per-access paths are carried as unsigned 32-bit halves ({@link U64}) or as
 * plain numbers when they are addresses (guest-physical and IOVA addresses are < 2^53 here, which
 * covers 52-bit PAs; a 64-bit IOVA with high bits set is carried as lo/hi where it matters).
 */

/** A reusable 64-bit out-parameter: both halves unsigned 32-bit numbers. */
export interface U64 {
  lo: number;
  hi: number;
}

export function u64(): U64 {
  return { lo: 0, hi: 0 };
}

/** A RAM region as 32-bit words (see PhysMemory.ramWords). */
export interface RamWords {
  words: Uint32Array | null;
  base: number;
  end: number;
}

/**
 * Little-endian physical memory as seen by a bus master (an SMMU's table walker, an ITS, a device
 * without an IOMMU). Accesses outside RAM do not throw: scalar reads return -1 (never a valid
 * unsigned value) and everything else returns false, which the caller turns into the architected
 * external-abort outcome.
 */
export interface PhysMemory {
  read8(addr: number): number;
  read16(addr: number): number;
  read32(addr: number): number;
  /** Reads a 64-bit value into `out`; false on external abort. */
  read64(addr: number, out: U64): boolean;
  write8(addr: number, value: number): boolean;
  write16(addr: number, value: number): boolean;
  write32(addr: number, value: number): boolean;
  write64(addr: number, lo: number, hi: number): boolean;
  /** Fills `dst` from `addr`; false (and `dst` unspecified) on external abort. */
  readBytes(addr: number, dst: Uint8Array): boolean;
  writeBytes(addr: number, src: Uint8Array): boolean;
  /**
   * Optional direct view for table walks and structure fetches: when [addr, addr+len) lies in one
   * region of RAM held in memory, fills `out` with that region's 32-bit words (words[i] holds the
   * little-endian word at out.base + 4 * i, up to out.end) and returns true; the view stays valid
   * as long as the memory (regions are never moved). False otherwise: use the accessors above.
   */
  ramWords?(addr: number, len: number, out: RamWords): boolean;
}

export type AccessSize = 1 | 2 | 4 | 8;

/**
 * A memory-mapped register window. Offsets are relative to the window base. Devices decide what
 * an unsupported size or offset does (RAZ/WI per their spec); they never throw on guest input.
 */
export interface MmioDevice {
  readonly name: string;
  /** Window size in bytes. */
  readonly mmioSize: number;
  read(offset: number, size: 1 | 2 | 4): number;
  write(offset: number, size: 1 | 2 | 4, value: number): void;
  read64(offset: number, out: U64): void;
  write64(offset: number, lo: number, hi: number): void;
}

/** An interrupt output (wired SPI or similar) that the VMM connects to its interrupt controller. */
export interface IrqLine {
  /** Level-sensitive assertion state. */
  setLevel(asserted: boolean): void;
  /** One edge (used for edge-triggered outputs such as the SMMU's wired lines). */
  pulse(): void;
}

/** An IrqLine that goes nowhere: the default for unconnected outputs. */
export const NO_IRQ: IrqLine = Object.freeze({ setLevel(): void {}, pulse(): void {} });

/**
 * Where an MSI write lands after any IOMMU translation: the platform routes it by address to an
 * ITS GITS_TRANSLATER, a GICv2m MSI_SETSPI_NS, or plain memory. `deviceId` is the sideband
 * identity (ITS DeviceID) or null when the writer has none.
 */
export interface MsiSink {
  msiWrite(address: number, data: number, deviceId: number | null): MsiOutcome;
}

/** An interrupt controller's MSI input: the doorbell address it owns and the sink behind it. */
export interface DoorbellSink extends MsiSink {
  /** The one address this controller accepts MSIs at (GITS_TRANSLATER, MSI_SETSPI_NS). */
  readonly doorbell: number;
}

export type MsiOutcome =
  | 'delivered' // reached an interrupt controller and was accepted
  | 'memory' // landed in RAM (e.g. CMD_SYNC completion polling)
  | 'dropped' // no target, out of range, no identity, controller disabled...
  | 'aborted'; // the write faulted (external abort)

/**
 * A bus master's DMA window: the SMMU's per-stream port implements it with translation, a bare
 * port implements it as identity onto PhysMemory. Returns null on success, or a fault describing
 * why the access failed (already recorded by the SMMU as an event where architected). The buffer
 * must not overlap the guest memory the transfer reads or writes (a view of that same RAM range):
 * the order in which overlapping bytes are copied is unspecified, as with a real memory-to-memory
 * DMA engine.
 */
export interface DmaPort {
  read(iova: number, dst: Uint8Array): DmaFault | null;
  write(iova: number, src: Uint8Array): DmaFault | null;
}

export interface DmaFault {
  /** IOVA of the first byte that failed. */
  readonly iova: number;
  /** Short machine-readable reason: event name (F_TRANSLATION, C_BAD_STE...), 'abort', 'external-abort'. */
  readonly reason: string;
  /** Bytes transferred before the fault. */
  readonly done: number;
}

/**
 * Deferred device work. A device that consumes queues in guest memory (the SMMU and ITS command
 * queues, virtio virtqueues) does a bounded slice of that work inside one MMIO access and leaves
 * the rest to `service()`, which the embedding VMM calls regularly (after each vCPU exit, on a
 * timer, or on each poll of a shared register window). Each call does bounded work; it returns
 * true while work remains pending, so a caller can loop until false when it wants a quiescent
 * device.
 */
export interface Serviceable {
  service(): boolean;
}

/** Whether `device` has deferred work to be driven by {@link Serviceable.service}. */
export function isServiceable(device: object): device is Serviceable {
  return typeof (device as Partial<Serviceable>).service === 'function';
}
