// PCI configuration space header, type 0 (endpoint) and type 1 (PCI-PCI bridge / PCIe port).
// Layout and encodings only: register offsets, sizes and bit fields.
// PCI Express Base Specification r5.0 §7.5.1 (PCI-compatible configuration registers),
// §7.5.1.1 common part, §7.5.1.2 type 0, §7.5.1.3 type 1; ECAM decoding §7.2.2.
import { bit, reg32Field } from '../bits.js';

/** Size of one function's configuration space reached through ECAM (PCIe extended space). */
export const CONFIG_SPACE_BYTES = 4096;
/** First byte after the PCI-compatible region; extended capabilities start here. */
export const EXTENDED_CONFIG_START = 0x100;

/** A register: byte offset in configuration space and width in bytes. */
export interface ConfigReg {
  readonly offset: number;
  readonly size: 1 | 2 | 4;
}
const r = (offset: number, size: 1 | 2 | 4): ConfigReg => Object.freeze({ offset, size });

/** Registers common to type 0 and type 1 headers (§7.5.1.1). */
export const HDR = Object.freeze({
  VENDOR_ID: r(0x00, 2),
  DEVICE_ID: r(0x02, 2),
  COMMAND: r(0x04, 2),
  STATUS: r(0x06, 2),
  REVISION_ID: r(0x08, 1),
  /** Class code: programming interface 0x09, sub-class 0x0a, base class 0x0b (24 bits from 0x09). */
  CLASS_PROG_IF: r(0x09, 1),
  CLASS_SUB: r(0x0a, 1),
  CLASS_BASE: r(0x0b, 1),
  CACHE_LINE_SIZE: r(0x0c, 1),
  LATENCY_TIMER: r(0x0d, 1),
  HEADER_TYPE: r(0x0e, 1),
  BIST: r(0x0f, 1),
  CAPABILITIES_PTR: r(0x34, 1),
  INTERRUPT_LINE: r(0x3c, 1),
  INTERRUPT_PIN: r(0x3d, 1),
});

/** Type 0 header (§7.5.1.2). */
export const HDR0 = Object.freeze({
  /** BAR n at BAR0 + 4n, n = 0..5. */
  BAR0: r(0x10, 4),
  BAR_COUNT: 6,
  CARDBUS_CIS: r(0x28, 4),
  SUBSYSTEM_VENDOR_ID: r(0x2c, 2),
  SUBSYSTEM_ID: r(0x2e, 2),
  EXPANSION_ROM: r(0x30, 4),
  MIN_GNT: r(0x3e, 1),
  MAX_LAT: r(0x3f, 1),
});

/** Type 1 header (§7.5.1.3). */
export const HDR1 = Object.freeze({
  BAR0: r(0x10, 4),
  BAR_COUNT: 2,
  PRIMARY_BUS: r(0x18, 1),
  SECONDARY_BUS: r(0x19, 1),
  SUBORDINATE_BUS: r(0x1a, 1),
  SECONDARY_LATENCY: r(0x1b, 1),
  IO_BASE: r(0x1c, 1),
  IO_LIMIT: r(0x1d, 1),
  SECONDARY_STATUS: r(0x1e, 2),
  MEMORY_BASE: r(0x20, 2),
  MEMORY_LIMIT: r(0x22, 2),
  PREF_MEMORY_BASE: r(0x24, 2),
  PREF_MEMORY_LIMIT: r(0x26, 2),
  PREF_BASE_UPPER: r(0x28, 4),
  PREF_LIMIT_UPPER: r(0x2c, 4),
  IO_BASE_UPPER: r(0x30, 2),
  IO_LIMIT_UPPER: r(0x32, 2),
  EXPANSION_ROM: r(0x38, 4),
  BRIDGE_CONTROL: r(0x3e, 2),
});

/** Command register bits (§7.5.1.1.3). */
export const COMMAND = Object.freeze({
  IO_SPACE: bit('IO_SPACE', 0, 0),
  MEMORY_SPACE: bit('MEMORY_SPACE', 0, 1),
  BUS_MASTER: bit('BUS_MASTER', 0, 2),
  PARITY_ERROR_RESPONSE: bit('PARITY_ERROR_RESPONSE', 0, 6),
  SERR_ENABLE: bit('SERR_ENABLE', 0, 8),
  INTX_DISABLE: bit('INTX_DISABLE', 0, 10),
});

/** Status register bits (§7.5.1.1.4). Bits 8 and 11..15 are RW1C error bits. */
export const STATUS = Object.freeze({
  IMMEDIATE_READINESS: bit('IMMEDIATE_READINESS', 0, 0),
  INTX_STATUS: bit('INTX_STATUS', 0, 3),
  CAPABILITIES_LIST: bit('CAPABILITIES_LIST', 0, 4),
  MASTER_DATA_PARITY_ERROR: bit('MASTER_DATA_PARITY_ERROR', 0, 8),
  SIGNALED_TARGET_ABORT: bit('SIGNALED_TARGET_ABORT', 0, 11),
  RECEIVED_TARGET_ABORT: bit('RECEIVED_TARGET_ABORT', 0, 12),
  RECEIVED_MASTER_ABORT: bit('RECEIVED_MASTER_ABORT', 0, 13),
  SIGNALED_SYSTEM_ERROR: bit('SIGNALED_SYSTEM_ERROR', 0, 14),
  DETECTED_PARITY_ERROR: bit('DETECTED_PARITY_ERROR', 0, 15),
});
/** The RW1C error bits of Status and Secondary Status. */
export const STATUS_RW1C_MASK = 0xf900;

/** Header Type register (§7.5.1.1.9). */
export const HEADER_TYPE = Object.freeze({
  LAYOUT: reg32Field('LAYOUT', 6, 0),
  MULTI_FUNCTION: bit('MULTI_FUNCTION', 0, 7),
});
export const HEADER_LAYOUT_TYPE0 = 0;
export const HEADER_LAYOUT_TYPE1 = 1;

/** Memory BAR low dword (§7.5.1.2.1). */
export const BAR = Object.freeze({
  /** 0 = memory space BAR, 1 = I/O space BAR. */
  SPACE: bit('SPACE', 0, 0),
  /** Memory type: 0 = 32-bit, 2 = 64-bit. */
  TYPE: reg32Field('TYPE', 2, 1),
  PREFETCHABLE: bit('PREFETCHABLE', 0, 3),
  /** Base address bits [31:4], in place. */
  ADDRESS: reg32Field('ADDRESS', 31, 4),
});
export const BAR_TYPE_32 = 0;
export const BAR_TYPE_64 = 2;
/** Smallest memory BAR (§7.5.1.2.1: 16 bytes; Linux and the spec recommend >= 4 KiB). */
export const BAR_MIN_SIZE = 16;

/** Type 1 Memory Base/Limit and Prefetchable Memory Base/Limit (§7.5.1.3.8, §7.5.1.3.9). */
export const BRIDGE_WINDOW = Object.freeze({
  /** Prefetchable windows: 0 = 32-bit, 1 = 64-bit addressing (upper registers implemented). */
  PREF_ADDRESSING: reg32Field('PREF_ADDRESSING', 3, 0),
  /** Address bits [31:20] of the base (or limit), in register bits [15:4]. */
  ADDRESS_31_20: reg32Field('ADDRESS_31_20', 15, 4),
});
export const BRIDGE_PREF_64 = 1;
/** Bridge memory windows have 1 MiB granularity. */
export const BRIDGE_WINDOW_GRANULE = 0x10_0000;

/** Bridge Control register (§7.5.1.3.13). */
export const BRIDGE_CONTROL = Object.freeze({
  PARITY_ERROR_RESPONSE: bit('PARITY_ERROR_RESPONSE', 0, 0),
  SERR_ENABLE: bit('SERR_ENABLE', 0, 1),
  ISA_ENABLE: bit('ISA_ENABLE', 0, 2),
  VGA_ENABLE: bit('VGA_ENABLE', 0, 3),
  SECONDARY_BUS_RESET: bit('SECONDARY_BUS_RESET', 0, 6),
});

/** Class codes used by the models (base class << 16 | sub-class << 8 | prog-if). */
export const CLASS_CODE = Object.freeze({
  PCI_BRIDGE: 0x06_04_00,
  HOST_BRIDGE: 0x06_00_00,
  NVME: 0x01_08_02,
  ETHERNET: 0x02_00_00,
  OTHER: 0xff_00_00,
});

/** ECAM address decoding (§7.2.2): offset = bus << 20 | device << 15 | function << 12 | register. */
export const ECAM = Object.freeze({
  BUS_SHIFT: 20,
  DEVFN_SHIFT: 12,
  REGISTER_MASK: 0xfff,
  BYTES_PER_BUS: 1 << 20,
});
