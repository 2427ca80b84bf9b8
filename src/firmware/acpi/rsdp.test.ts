// RSDP/XSDT wrapper (ACPI 6.5 §5.2.5, §5.2.8): checksums, pointers, placement.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadPreset } from '../../platform/presets/index.js';
import { byteSum } from './checksum.js';
import { buildIort } from './iort-build.js';
import { buildMadt } from './madt-build.js';
import { buildAcpiTableSet, decodeRsdp, decodeXsdt } from './rsdp.js';
import { decodeHeader } from './sdt.js';

test('RSDP/XSDT wrapper: checksums, pointers and placement of every table', () => {
  const d = loadPreset('qemu-virt');
  const tables = [buildIort(d), buildMadt(d)];
  const base = 0x4400_0000;
  const set = buildAcpiTableSet(tables, base);
  const rsdp = decodeRsdp(set.blob);
  assert.deepEqual(rsdp.issues, []);
  assert.equal(rsdp.revision, 2);
  assert.equal(byteSum(set.blob, 0, 20), 0);
  assert.equal(byteSum(set.blob, 0, 36), 0);
  assert.equal(Number(rsdp.xsdtAddress), set.xsdtAddress);
  const xs = set.blob.subarray(set.xsdtAddress - base);
  const xsdt = decodeXsdt(xs.subarray(0, decodeHeader(xs).length));
  assert.deepEqual(xsdt.issues, []);
  assert.deepEqual(xsdt.entries.map(Number), set.tableAddresses);
  set.tableAddresses.forEach((a, i) => {
    const at = a - base;
    assert.equal(a % 8, 0);
    assert.deepEqual(set.blob.subarray(at, at + tables[i]!.length), tables[i]);
  });
});
