// Flattened device tree (DTB) format constants: Devicetree Specification v0.4, chapter 5
// ("Flattened Devicetree (DTB) Format"): header fields (§5.2), memory reservation block (§5.3),
// structure block tokens (§5.4), strings block (§5.5). All header fields are big-endian u32.

export const FDT_MAGIC = 0xd00dfeed;

/** Header field byte offsets (§5.2). */
export const FDT_HEADER = Object.freeze({
  magic: 0,
  totalsize: 4,
  offDtStruct: 8,
  offDtStrings: 12,
  offMemRsvmap: 16,
  version: 20,
  lastCompVersion: 24,
  bootCpuidPhys: 28,
  sizeDtStrings: 32,
  sizeDtStruct: 36,
});

/** Header size of a version 17 blob. */
export const FDT_HEADER_SIZE = 40;
/** Header size of a version 16 blob (no size_dt_struct). */
export const FDT_V16_HEADER_SIZE = 36;

/** The version we write, and the oldest version it is compatible with (§5.2). */
export const FDT_VERSION = 17;
export const FDT_LAST_COMP_VERSION = 16;

/** Structure block tokens (§5.4.1), each a big-endian u32 aligned to 4 bytes. */
export const FDT_BEGIN_NODE = 0x1;
export const FDT_END_NODE = 0x2;
export const FDT_PROP = 0x3;
export const FDT_NOP = 0x4;
export const FDT_END = 0x9;

/** Memory reservation entries are {u64 address, u64 size}, the block 8-byte aligned (§5.3). */
export const FDT_RSV_ENTRY_SIZE = 16;
export const FDT_RSV_ALIGN = 8;
/** Structure block items are padded to 4 bytes. */
export const FDT_TAG_ALIGN = 4;

/** Devicetree interrupt specifier flags for the GIC binding (arm,gic-v3 / arm,gic, 3 cells). */
export const GIC_SPI = 0;
export const GIC_PPI = 1;
export const IRQ_TYPE_EDGE_RISING = 1;
export const IRQ_TYPE_LEVEL_HIGH = 4;

/** PCI bus binding `ranges` phys.hi space codes (IEEE 1275 PCI binding): ss field. */
export const PCI_SPACE_IO = 0x0100_0000;
export const PCI_SPACE_MEM32 = 0x0200_0000;
export const PCI_SPACE_MEM64 = 0x0300_0000;

/** PSCI 0.2 function IDs QEMU lists in its psci node (SMCCC, DEN 0022). */
export const PSCI_0_2_FN = Object.freeze({
  cpuSuspend: 0xc400_0001,
  cpuOff: 0x8400_0002,
  cpuOn: 0xc400_0003,
  migrate: 0xc400_0005,
});
