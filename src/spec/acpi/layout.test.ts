// ACPI layout descriptors: packed, documented sizes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SDT_HEADER, SDT_HEADER_SIZE, RSDP, RSDP_SIZE } from './header.js';
import {
  IORT_ID_MAPPING,
  IORT_ID_MAPPING_SIZE,
  IORT_NODE,
  IORT_NODE_HEADER_SIZE,
  IORT_PMCG,
  IORT_PMCG_SIZE,
  IORT_RMR,
  IORT_RMR_RANGE,
  IORT_RMR_RANGE_SIZE,
  IORT_RMR_SIZE,
  IORT_ROOT_COMPLEX,
  IORT_ROOT_COMPLEX_SIZE_WITH_FLAGS,
  IORT_SMMU_V3,
  IORT_SMMU_V3_SIZE,
  IORT_TABLE,
  IORT_TABLE_HEADER_SIZE,
} from './iort.js';
import { fieldEnd, type ByteField } from './layout.js';
import { MADT_GICC, MADT_GICC_SIZE, MADT_GICD, MADT_GICR, MADT_GICR_SIZE, MADT_GIC_ITS, MADT_GIC_ITS_SIZE, MADT_GIC_MSI_FRAME, MADT_GIC_MSI_FRAME_SIZE } from './madt.js';

/** Fields must not overlap and must end exactly at the structure size (packed, no holes at the end). */
function packed(fields: Readonly<Record<string, ByteField>>, start: number, size: number, label: string): void {
  const fs = Object.values(fields).sort((a, b) => a.offset - b.offset);
  let at = start;
  for (const f of fs) {
    assert.ok(f.offset >= at, `${label}: ${f.name} at ${f.offset} overlaps the previous field ending at ${at}`);
    at = fieldEnd(f);
  }
  assert.equal(at, size, `${label} ends at ${at}, expected ${size}`);
}

test('ACPI layouts are packed and have the documented sizes', () => {
  packed(SDT_HEADER, 0, SDT_HEADER_SIZE, 'SDT header');
  packed(RSDP, 0, RSDP_SIZE - 3, 'RSDP'); // 3 reserved bytes at the end
  packed(IORT_TABLE, SDT_HEADER_SIZE, IORT_TABLE_HEADER_SIZE, 'IORT table');
  packed(IORT_NODE, 0, IORT_NODE_HEADER_SIZE, 'IORT node header');
  packed(IORT_ID_MAPPING, 0, IORT_ID_MAPPING_SIZE, 'IORT ID mapping');
  packed(IORT_SMMU_V3, IORT_NODE_HEADER_SIZE, IORT_SMMU_V3_SIZE, 'IORT SMMUv3');
  packed(IORT_ROOT_COMPLEX, IORT_NODE_HEADER_SIZE, IORT_ROOT_COMPLEX_SIZE_WITH_FLAGS, 'IORT root complex');
  packed(IORT_PMCG, IORT_NODE_HEADER_SIZE, IORT_PMCG_SIZE, 'IORT PMCG');
  packed(IORT_RMR, IORT_NODE_HEADER_SIZE, IORT_RMR_SIZE, 'IORT RMR');
  packed(IORT_RMR_RANGE, 0, IORT_RMR_RANGE_SIZE, 'IORT RMR range');
  packed(MADT_GICC, 4, MADT_GICC_SIZE, 'GICC');
  packed(MADT_GICD, 4, 21, 'GICD'); // + 3 reserved
  packed(MADT_GIC_MSI_FRAME, 4, MADT_GIC_MSI_FRAME_SIZE, 'GIC MSI frame');
  packed(MADT_GICR, 4, MADT_GICR_SIZE, 'GICR');
  packed(MADT_GIC_ITS, 4, MADT_GIC_ITS_SIZE, 'GIC ITS');
});
