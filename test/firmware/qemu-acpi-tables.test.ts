// Live oracle against the installed QEMU 7.2 (skipped when it is not installed): read QEMU's own
// ACPI tables out of fw_cfg `etc/acpi/tables` over qtest (fw_cfg DMA, QEMU 7.2),
// and check that (1) the IORT bytes equal the documented 236-byte layout our unit tests use
// (test/firmware/qemu72-iort.ts) apart from the OEM/creator fields, (2) our decoder reads the
// documented values from the real table and (3) the MADT has the documented GIC structures.
// The raw fw_cfg blob has checksum bytes 0 (the firmware's table-loader fixes them).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodeIort, decodeMadt } from '../../src/firmware/acpi/index.js';
import { lintFiles } from '../../src/firmware/lint/index.js';
import { QEMU, startQemu } from '../../src/host/qemu.js';
import { QtestClient } from '../../src/host/qtest.js';
import { qemu72Iort } from './qemu72-iort.js';

const haveQemu = spawnSync(QEMU, ['--version']).status === 0;
const FW_CFG = 0x0902_0000;
const DESC = 0x4010_0000; // DMA descriptor (above the 1 MiB DTB QEMU places at the RAM base)
const BUF = 0x4020_0000;

function be32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return b;
}

/** fw_cfg DMA read of `len` bytes of item `key` into guest RAM at BUF; returns the bytes. */
async function fwCfgRead(q: QtestClient, key: number, len: number): Promise<Uint8Array> {
  const desc = Buffer.alloc(16);
  desc.writeUInt32BE(((key << 16) | 0x08 | 0x02) >>> 0, 0); // select + read
  desc.writeUInt32BE(len, 4);
  desc.writeBigUInt64BE(BigInt(BUF), 8);
  await q.write(DESC, desc);
  // The DMA address register is big-endian; writing its low half at +20 starts the transfer.
  await q.write(FW_CFG + 16, Buffer.concat([be32(0), be32(DESC)]));
  const ctl = Buffer.from(await q.read(DESC, 4)).readUInt32BE(0);
  assert.equal(ctl, 0, `fw_cfg DMA control ${ctl.toString(16)}`);
  return q.read(BUF, len);
}

function findTable(blob: Uint8Array, sig: string): Uint8Array {
  const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  for (let i = 0; i + 36 <= blob.length; i++) {
    if (String.fromCharCode(...blob.subarray(i, i + 4)) !== sig) continue;
    const len = dv.getUint32(i + 4, true);
    if (len >= 36 && i + len <= blob.length) return blob.subarray(i, i + len);
  }
  assert.fail(`no ${sig} table in etc/acpi/tables`);
}

test('QEMU 7.2 etc/acpi/tables: IORT equals the documented layout and decodes to the documented values; MADT GIC entries', { skip: haveQemu ? false : `${QEMU} not installed`, timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vsmmu-fwcfg-'));
  const sock = join(dir, 'qtest.sock');
  const { server, accepted } = QtestClient.listen(sock);
  const qemu = startQemu(
    ['-M', 'virt,gic-version=3,iommu=smmuv3,its=on', '-cpu', 'cortex-a57', '-m', '512M', '-nodefaults', '-net', 'none', '-display', 'none', '-S', '-qtest', `unix:${sock}`, '-qtest-log', 'none'],
    { timeoutMs: 50_000 },
  );
  let q: QtestClient | null = null;
  try {
    q = await accepted(20_000);
    const head = await fwCfgRead(q, 0x19, 4);
    const count = Buffer.from(head).readUInt32BE(0);
    assert.ok(count > 0 && count < 256);
    const dirBytes = Buffer.from(await fwCfgRead(q, 0x19, 4 + 64 * count));
    let tables: { select: number; size: number } | null = null;
    for (let i = 0; i < count; i++) {
      const e = 4 + 64 * i;
      const name = dirBytes.subarray(e + 8, e + 64).toString('latin1').replace(/\0.*$/s, '');
      if (name === 'etc/acpi/tables') tables = { size: dirBytes.readUInt32BE(e), select: dirBytes.readUInt16BE(e + 4) };
    }
    assert.ok(tables, 'fw_cfg has no etc/acpi/tables');
    const blob = await fwCfgRead(q, tables.select, tables.size);

    const iort = findTable(blob, 'IORT');
    const documented = qemu72Iort();
    assert.equal(iort.length, 236);
    assert.deepEqual(Array.from(iort.subarray(36)), Array.from(documented.subarray(36)), 'IORT body differs from the documented layout');
    assert.deepEqual(Array.from(iort.subarray(0, 10)), Array.from(documented.subarray(0, 10)));
    const t = decodeIort(iort);
    assert.deepEqual(
      t.issues.map((i) => i.kind),
      ['checksum'],
    );
    const lint = lintFiles([{ file: 'IORT', bytes: iort }]).findings.map((f) => f.rule);
    assert.deepEqual([...new Set(lint)].sort(), ['checksum', 'id-count-off-by-one']);
    assert.deepEqual(
      t.nodes.map((n) => [n.offset, n.kind]),
      [
        [0x30, 'its-group'],
        [0x48, 'smmuv3'],
        [0xa0, 'root-complex'],
      ],
    );
    const smmu = t.nodes[1]!;
    assert.ok(smmu.kind === 'smmuv3');
    assert.equal(smmu.baseAddress, 0x0905_0000n);
    assert.deepEqual([smmu.eventGsiv, smmu.priGsiv, smmu.gerrGsiv, smmu.syncGsiv], [106, 107, 109, 108]);
    assert.deepEqual(
      t.nodes[2]!.mappings.map((m) => [m.inputBase, m.idCount, m.outputBase, m.outputReference]),
      [
        [0, 0x100, 0, 0x48],
        [0x100, 0xfeff, 0x100, 0x30],
      ],
    );

    const madt = decodeMadt(findTable(blob, 'APIC'));
    const kinds = madt.entries.map((e) => e.kind);
    for (const k of ['gicc', 'gicd', 'gicr', 'gic-its'] as const) assert.ok(kinds.includes(k), `MADT has no ${k}`);
    const gicr = madt.entries.find((e) => e.kind === 'gicr');
    const its = madt.entries.find((e) => e.kind === 'gic-its');
    const gicd = madt.entries.find((e) => e.kind === 'gicd');
    assert.ok(gicr?.kind === 'gicr' && its?.kind === 'gic-its' && gicd?.kind === 'gicd');
    assert.equal(gicr.base, 0x080a_0000n);
    assert.equal(gicr.rangeLength, 0xf6_0000);
    assert.equal(its.physicalBase, 0x0808_0000n);
    assert.equal(its.translationId, 0);
    assert.equal(gicd.gicVersion, 3);
  } finally {
    q?.close();
    server.close();
    await qemu.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
