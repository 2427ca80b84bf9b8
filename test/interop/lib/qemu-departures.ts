// QEMU's departures from the SMMUv3 / GICv3 ITS architecture that the differential tests meet,
// each named and documented, verified against the binaries by these tests; which peer shows which
// is listed in ./peers.ts. They are never copied into our model: a scenario that meets one states
// the architected outcome our model must produce and the departing outcome QEMU is documented to
// produce (see ./differential.ts).
export const DEPARTURES = Object.freeze({
  'fault-per-4-bytes':
    'QEMU translates a failing DMA again for every naturally aligned <= 4-byte chunk (7.2) or for every 4 KiB page it touches (10.0) and records one event each; the architecture records one event for the faulting transaction. Bursts are folded before comparing.',
  'access-flag-ignored':
    'QEMU 7.2 (not 10.0) ignores the Access Flag: AF=0 translates and F_ACCESS is never generated; with CD.HA=0 and CD.AFFD=0 the architecture gives F_ACCESS (IHI 0070 §7.3.15).',
  'ap1-ignored':
    'QEMU (7.2, 10.0) treats every access as privileged and ignores AP[1]; untagged PCIe traffic is an unprivileged data access (IHI 0070 §13.7), so a leaf with AP[1]=0 gives F_PERMISSION architecturally.',
  'block-at-level-0':
    'QEMU (7.2, 10.0) accepts block descriptors at every level below 3; with the 4 KiB granule a level-0 block is invalid (DDI 0487 D8.3: no level-0 blocks without 52-bit/DS), giving F_TRANSLATION.',
  'iova-above-48-bits':
    "QEMU 7.2's (not 10.0's) IOMMU region is 2^48 bytes, so a DMA to an IOVA >= 2^48 never reaches the SMMU: silently dropped, reads return zeros. With T0SZ=16 the architecture gives F_TRANSLATION for it.",
  'recinvsid-ignored':
    'QEMU (7.2, 10.0) records C_BAD_STREAMID for an out-of-range StreamID whatever SMMU_CR2.RECINVSID says; IHI 0070 §7.3.3 records it only when RECINVSID == 1 (the transaction is terminated silently otherwise).',
  'cd-fetch-address-slot':
    'For F_CD_FETCH QEMU (7.2, 10.0) writes the CD address into doubleword 2 (the InputAddr slot) and leaves doubleword 3 zero; IHI 0070 §7.3.10 puts FetchAddr[55:3] in doubleword 3.',
  'eventq-overflow-gerror':
    'On a full event queue QEMU (7.2, 10.0) drops the record and raises GERROR.EVENTQ_ABT_ERR, never setting EVENTQ_PROD.OVFLG; IHI 0070 §7.2 toggles OVFLG and keeps GERROR for queue access aborts.',
  'l1std-span':
    'QEMU (7.2, 10.0) lets an L1STD with Span=N cover 2^N STEs and reports C_BAD_STE beyond them; IHI 0070 §5.1 gives the level-2 table 2^(Span-1) STEs and §7.3.3 C_BAD_STREAMID for StreamID[SPLIT-1:0] >= 2^(Span-1) (Linux writes Span = SPLIT + 1, where both agree).',
  'event-class-zero':
    'QEMU 7.2 (not 10.0) leaves CLASS = 0 (CD) in F_TRANSLATION/F_PERMISSION records of stage-1 input-address faults; IHI 0070 §7.3 gives CLASS = IN (0b10) for a fault on the input address.',
  's2-concat-first-table-only':
    'With a concatenated stage-2 start table, QEMU 10.0 always indexes the first table: an IPA whose start-level index lies in a later table is looked up at (index mod entries per table) in the first one, so a valid mapping there is missed (F_TRANSLATION, S2 = 1). IHI 0070 §5.2 (STE.S2T0SZ/S2SL0) and the VMSAv8-64 concatenated start tables: the whole start table is indexed by IPA[ia-1:lsb].',
  'tlb-hit-read-unchecked':
    'When a translation hits its IOTLB, QEMU 10.0 checks only write permission: a read of a write-only stage-2 page (S2AP = 0b10) succeeds once a write has cached the translation (the first read faults). Permissions apply to every access, cached or not: F_PERMISSION, S2 = 1 (IHI 0070 §7.3.16; VMSAv8-64 S2AP).',
  's2-cd-fetch-rnw':
    'For a stage-2 fault while translating the CD address (CLASS = CD), QEMU 10.0 records RnW = 1 (the CD read) whatever the transaction; IHI 0070 §7.3.13: RnW, InD and PnU give the attributes of the input transaction (RnW = 0 for a DMA write).',
  'tt-fault-as-stage-1':
    'A fault in the stage-2 translation of a stage-1 table descriptor address is recorded by QEMU 10.0 with S2 = 0 (and TTRnW = 0 for F_PERMISSION); IHI 0070 §7.3.13/§7.3.16: a fault at stage 2 has S2 = 1 with CLASS = TT and IPA = the descriptor address, and TTRnW = 1 when the descriptor read caused it.',
} as const);

export type DepartureId = keyof typeof DEPARTURES;
