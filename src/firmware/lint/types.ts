// Linter vocabulary: the rules and the findings they produce.

export type Severity = 'error' | 'warning';

/** Every rule the linter checks, with what it means. */
export const LINT_RULES = Object.freeze({
  checksum: 'table checksum does not sum to zero (ACPI 6.5 §5.2.6)',
  length: 'a length or count field disagrees with the data (table, node, ID mapping array, MADT entry)',
  structure: 'malformed structure (offset into a header, unterminated name)',
  'mapping-duplicate': 'the same input ID range is mapped twice in one node',
  'mapping-overlap': 'ID mappings of one node overlap (Linux: first match wins, later entry ignored)',
  'mapping-target': 'an ID mapping references nothing, not the start of a node, or a node of the wrong type',
  'single-mapping': 'single-mapping flag where Linux does not allow it (only named components and root complexes, plus the SMMUv3 / PMCG own-MSI DeviceID entry)',
  'smmu-msi-mapping': 'SMMU relies on MSIs (eventq/gerror GSIV 0) without a usable DeviceID mapping, or has a DeviceID mapping Linux ignores (all four GSIVs wired)',
  'rc-no-msi': 'a root complex whose requester IDs reach no MSI controller',
  'id-count-off-by-one': 'an ID count that looks like the number of IDs rather than number of IDs minus one',
  rmr: 'RMR node Linux 6.1 ignores or trims: table revision < 5, no ID mappings, an ID count of 0 (one stream ID), no ranges, ranges not 64 KiB aligned',
  'its-id-mismatch': 'IORT ITS group identifiers and MADT GIC ITS translation IDs disagree',
  'dt-map': 'malformed iommu-map / msi-map in a device tree',
  'dt-iort-mismatch': 'device tree iommu-map / msi-map disagree with the IORT of the same platform',
} as const);

export type LintRule = keyof typeof LINT_RULES;

export interface Finding {
  readonly rule: LintRule;
  readonly severity: Severity;
  /** File the finding is about (for cross-checks, the IORT). */
  readonly file: string;
  /** Where: a byte offset (0x..) in an ACPI table or a node path in a device tree. */
  readonly at: string | null;
  readonly message: string;
}

export type InputKind = 'iort' | 'madt' | 'dtb';

export interface LintReport {
  readonly files: readonly { readonly file: string; readonly kind: InputKind }[];
  readonly findings: readonly Finding[];
}
