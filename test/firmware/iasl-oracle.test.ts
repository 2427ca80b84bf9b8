// Oracle: ACPICA's disassembler (`iasl -d`, acpica-tools 20200925 on this machine and in CI)
// must accept every generated IORT and MADT without errors or warnings, and the fields it prints
// must equal what our decoder reads. Known limitation of 20200925: it predates RMR nodes (DEN 0049
// E.d), prints "Unknown IORT node type 0x6" and stops there, so for tables with RMR nodes only the
// nodes before the first RMR node are compared; it also shows node Identifier as "Reserved" and
// does not know the root-complex PASID capabilities / flags fields of node revision 4.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildAcpiTableSet, buildIort, buildMadt, decodeHeader, decodeIort, decodeMadt } from '../../src/firmware/acpi/index.js';
import type { PlatformDescription } from '../../src/platform/description.js';
import { loadPreset } from '../../src/platform/presets/index.js';
import { qemu72Iort } from './qemu72-iort.js';

const haveIasl = spawnSync('iasl', ['-v']).status === 0;

interface DslField {
  readonly offset: number;
  readonly name: string;
  readonly value: string;
}

function disassemble(bytes: Uint8Array): { fields: DslField[]; log: string; dsl: string } {
  const dir = mkdtempSync(join(tmpdir(), 'vsmmu-iasl-'));
  try {
    const f = join(dir, 'table.dat');
    writeFileSync(f, bytes);
    const r = spawnSync('iasl', ['-d', f], { cwd: dir, encoding: 'utf8' });
    assert.equal(r.status, 0, `iasl -d failed: ${r.stderr}${r.stdout}`);
    const dsl = readFileSync(join(dir, 'table.dsl'), 'utf8');
    const fields: DslField[] = [];
    for (const line of dsl.split('\n')) {
      const m = /^\[([0-9A-F]+)h \d+ +\d+\] +(.+?) : (.*)$/.exec(line);
      if (m) fields.push({ offset: parseInt(m[1]!, 16), name: m[2]!.trim(), value: m[3]!.trim() });
    }
    return { fields, log: `${r.stdout}\n${r.stderr}`, dsl };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function field(fields: readonly DslField[], offset: number, name: string): bigint {
  const f = fields.find((x) => x.offset === offset && x.name === name);
  assert.ok(f, `iasl printed no "${name}" at 0x${offset.toString(16)}`);
  const hexv = /^([0-9A-F]+)/.exec(f.value);
  assert.ok(hexv, `"${name}" value ${f.value}`);
  return BigInt('0x' + hexv[1]!);
}

function noDiagnostics(log: string): void {
  assert.doesNotMatch(log, /\b(Error|Warning)\b/i);
}

function checkIort(bytes: Uint8Array): void {
  const { fields, log, dsl } = disassemble(bytes);
  noDiagnostics(log);
  const t = decodeIort(bytes);
  assert.equal(field(fields, 4, 'Table Length'), BigInt(t.header.length));
  assert.equal(field(fields, 8, 'Revision'), BigInt(t.header.revision));
  assert.equal(field(fields, 9, 'Checksum'), BigInt(t.header.checksum));
  assert.equal(field(fields, 36, 'Node Count'), BigInt(t.nodeCount));
  assert.equal(field(fields, 40, 'Node Offset'), BigInt(t.nodeOffset));
  let compared = 0;
  for (const n of t.nodes) {
    const o = n.offset;
    assert.equal(field(fields, o, 'Type'), BigInt(n.type));
    assert.equal(field(fields, o + 1, 'Length'), BigInt(n.length));
    assert.equal(field(fields, o + 3, 'Revision'), BigInt(n.revision));
    assert.equal(field(fields, o + 8, 'Mapping Count'), BigInt(n.mappingCount));
    assert.equal(field(fields, o + 12, 'Mapping Offset'), BigInt(n.mappingOffset));
    if (n.kind === 'rmr') {
      assert.match(dsl, /Unknown IORT node type 0x6/); // iasl 20200925 predates RMR (see header)
      break;
    }
    if (n.kind === 'its-group') {
      assert.equal(field(fields, o + 16, 'ItsCount'), BigInt(n.itsIds.length));
      n.itsIds.forEach((id, i) => assert.equal(field(fields, o + 20 + 4 * i, 'Identifiers'), BigInt(id)));
    }
    if (n.kind === 'smmuv3') {
      assert.equal(field(fields, o + 16, 'Base Address'), n.baseAddress);
      assert.equal(field(fields, o + 24, 'Flags (decoded below)'), BigInt(n.flags));
      assert.equal(field(fields, o + 40, 'Model'), BigInt(n.model));
      assert.equal(field(fields, o + 44, 'Event GSIV'), BigInt(n.eventGsiv));
      assert.equal(field(fields, o + 48, 'PRI GSIV'), BigInt(n.priGsiv));
      assert.equal(field(fields, o + 52, 'GERR GSIV'), BigInt(n.gerrGsiv));
      assert.equal(field(fields, o + 56, 'Sync GSIV'), BigInt(n.syncGsiv));
      assert.equal(field(fields, o + 60, 'Proximity Domain'), BigInt(n.proximityDomain));
      assert.equal(field(fields, o + 64, 'Device ID Mapping Index'), BigInt(n.deviceIdMappingIndex));
    }
    if (n.kind === 'root-complex') {
      assert.equal(field(fields, o + 16, 'Cache Coherency'), BigInt(n.memory.cacheCoherency));
      assert.equal(field(fields, o + 23, 'Memory Flags (decoded below)'), BigInt(n.memory.memoryAccessFlags));
      assert.equal(field(fields, o + 24, 'ATS Attribute'), BigInt(n.atsAttribute));
      assert.equal(field(fields, o + 28, 'PCI Segment Number'), BigInt(n.segment));
      assert.equal(field(fields, o + 32, 'Memory Size Limit'), BigInt(n.memoryAddressLimit ?? 0));
    }
    for (const m of n.mappings) {
      assert.equal(field(fields, m.offset, 'Input base'), BigInt(m.inputBase));
      assert.equal(field(fields, m.offset + 4, 'ID Count'), BigInt(m.idCount));
      assert.equal(field(fields, m.offset + 8, 'Output Base'), BigInt(m.outputBase));
      assert.equal(field(fields, m.offset + 12, 'Output Reference'), BigInt(m.outputReference));
      assert.equal(field(fields, m.offset + 16, 'Flags (decoded below)'), BigInt(m.flags));
    }
    compared++;
  }
  assert.ok(compared > 0);
}

function checkMadt(bytes: Uint8Array): void {
  const { fields, log } = disassemble(bytes);
  noDiagnostics(log);
  const t = decodeMadt(bytes);
  assert.equal(field(fields, 4, 'Table Length'), BigInt(t.header.length));
  assert.equal(field(fields, 9, 'Checksum'), BigInt(t.header.checksum));
  for (const e of t.entries) {
    const o = e.offset;
    assert.equal(field(fields, o, 'Subtable Type'), BigInt(e.type));
    assert.equal(field(fields, o + 1, 'Length'), BigInt(e.length));
    switch (e.kind) {
      case 'gicc':
        assert.equal(field(fields, o + 4, 'CPU Interface Number'), BigInt(e.cpuInterfaceNumber));
        assert.equal(field(fields, o + 8, 'Processor UID'), BigInt(e.acpiProcessorUid));
        assert.equal(field(fields, o + 12, 'Flags (decoded below)'), e.enabled ? 1n : 0n);
        assert.equal(field(fields, o + 32, 'Base Address'), e.physicalBase);
        assert.equal(field(fields, o + 56, 'Virtual GIC Interrupt'), BigInt(e.vgicMaintenanceInterrupt));
        assert.equal(field(fields, o + 60, 'Redistributor Base Address'), e.gicrBase);
        assert.equal(field(fields, o + 68, 'ARM MPIDR'), e.mpidr);
        break;
      case 'gicd':
        assert.equal(field(fields, o + 8, 'Base Address'), e.physicalBase);
        assert.equal(field(fields, o + 20, 'Version'), BigInt(e.gicVersion));
        break;
      case 'gicr':
        assert.equal(field(fields, o + 4, 'Base Address'), e.base);
        assert.equal(field(fields, o + 12, 'Length'), BigInt(e.rangeLength));
        break;
      case 'gic-its':
        assert.equal(field(fields, o + 4, 'Translation ID'), BigInt(e.translationId));
        assert.equal(field(fields, o + 8, 'Base Address'), e.physicalBase);
        break;
      case 'gic-msi-frame':
        assert.equal(field(fields, o + 4, 'MSI Frame ID'), BigInt(e.frameId));
        assert.equal(field(fields, o + 8, 'Base Address'), e.physicalBase);
        assert.equal(field(fields, o + 16, 'Flags (decoded below)'), e.spiSelect ? 1n : 0n);
        assert.equal(field(fields, o + 20, 'SPI Count'), BigInt(e.spiCount));
        assert.equal(field(fields, o + 22, 'SPI Base'), BigInt(e.spiBase));
        break;
      default:
        assert.fail(`unexpected MADT entry ${e.type}`);
    }
  }
}

function platforms(): [string, PlatformDescription][] {
  const q = loadPreset('qemu-virt');
  const rc = q.rootComplexes[0]!;
  const s = q.smmus[0]!;
  return [
    ['qemu-virt', q],
    ['openvmm --smmu s0rc0', loadPreset('openvmm', { smmu: ['s0rc0'] })],
    ['openvmm --smmu s0rc0 --smmu s1rc0', loadPreset('openvmm', { smmu: ['s0rc0', 's1rc0'] })],
    ['openvmm --gic-msi v2m --smmu s1rc0', loadPreset('openvmm', { gicMsi: 'v2m', smmu: ['s1rc0'] })],
    ['qemu-virt partial coverage', { ...q, rootComplexes: [{ ...rc, iommuBypass: [{ start: 0x10, end: 0x1f }] }] }],
    ['qemu-virt SMMU with MSIs', { ...q, smmus: [{ ...s, msi: true, msiDeviceId: 0x20000, interrupts: { ...s.interrupts, priq: null, cmdqSync: null } }] }],
  ];
}

test('iasl -d accepts every generated IORT (revisions 5 and 3) and prints our field values', { skip: haveIasl ? false : 'iasl not installed' }, () => {
  for (const [name, d] of platforms()) {
    for (const revision of [5, 3] as const) {
      try {
        checkIort(buildIort(d, { revision }));
      } catch (e) {
        throw new Error(`${name} revision ${revision}: ${(e as Error).message}`);
      }
    }
  }
  checkIort(buildIort(loadPreset('qemu-virt'), { revision: 5, rmrs: [{ smmu: 'smmu0', streamIdBase: 8, streamIdCount: 1, ranges: [{ base: 0x4800_0000, length: 0x1_0000 }] }] }));
});

test('iasl -d agrees with our decoder on QEMU 7.2 documented IORT', { skip: haveIasl ? false : 'iasl not installed' }, () => {
  checkIort(qemu72Iort({ fixChecksum: true }));
});

test('iasl -d accepts every generated MADT and prints our field values', { skip: haveIasl ? false : 'iasl not installed' }, () => {
  for (const [name, d] of platforms()) {
    try {
      checkMadt(buildMadt(d));
    } catch (e) {
      throw new Error(`${name}: ${(e as Error).message}`);
    }
  }
});

test('iasl -d accepts the XSDT of the RSDP/XSDT wrapper and lists our table addresses', { skip: haveIasl ? false : 'iasl not installed' }, () => {
  const d = loadPreset('qemu-virt');
  const base = 0x4400_0000;
  const set = buildAcpiTableSet([buildIort(d), buildMadt(d)], base);
  const at = set.xsdtAddress - base;
  const xsdt = set.blob.subarray(at, at + decodeHeader(set.blob.subarray(at)).length);
  const { fields, log } = disassemble(xsdt);
  noDiagnostics(log);
  set.tableAddresses.forEach((a, i) => assert.equal(field(fields, 36 + 8 * i, `ACPI Table Address   ${i}`), BigInt(a)));
});
