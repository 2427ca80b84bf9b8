// `vsmmu decode` and `vsmmu lint` end to end through the CLI entry point (in process): output
// formats, JSON contract, exit codes 0 / 1 / 2.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { main } from '../../src/cli/main.js';
import { buildIort, buildMadt } from '../../src/firmware/acpi/index.js';
import { buildDeviceTree } from '../../src/firmware/dt/build.js';
import { writeDtb } from '../../src/firmware/fdt/index.js';
import { loadPreset } from '../../src/platform/presets/index.js';
import { qemu72Iort } from './qemu72-iort.js';

const dir = mkdtempSync(join(tmpdir(), 'vsmmu-decode-lint-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, bytes: Uint8Array): string => {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
};

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const ow = process.stdout.write.bind(process.stdout);
  const ew = process.stderr.write.bind(process.stderr);
  let out = '';
  let err = '';
  process.stdout.write = ((s: string | Uint8Array) => ((out += String(s)), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array) => ((err += String(s)), true)) as typeof process.stderr.write;
  try {
    const code = await main(argv);
    return { code, out, err };
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
    process.exitCode = undefined;
  }
}

const d = loadPreset('qemu-virt');
const iort = file('IORT.dat', buildIort(d));
const madt = file('MADT.dat', buildMadt(d));
const dtb = file('platform.dtb', writeDtb(buildDeviceTree(d)));
const q72 = file('qemu72-IORT.dat', qemu72Iort());

test('decode IORT: text and JSON', async () => {
  const t = await run('decode', iort);
  assert.equal(t.code, 0);
  assert.match(t.out, /IORT {2}revision 5 \(DEN 0049 E\.d\)/);
  assert.match(t.out, /\[0x48\] SMMUv3 .*\n {4}base 0x9050000 {2}flags 0x1 \(COHACC\)/);
  assert.match(t.out, /map 0x0\.\.0xffff \(65536 IDs, id_count 0xffff\) -> 0x0\.\.0xffff {2}SMMUv3 @0x48/);
  const j = await run('decode', iort, '--json');
  const o = JSON.parse(j.out) as { nodes: { typeName: string; baseAddress?: string; mappings: { idCount: string; ids: number; target: string }[] }[] };
  assert.deepEqual(
    o.nodes.map((n) => n.typeName),
    ['ITS Group', 'SMMUv3', 'Root Complex'],
  );
  assert.equal(o.nodes[1]!.baseAddress, '0x9050000');
  assert.deepEqual(o.nodes[2]!.mappings[0], { ...o.nodes[2]!.mappings[0], idCount: '0xffff', ids: 0x10000, target: 'SMMUv3' });
});

test('decode MADT and a QEMU 7.2 dumpdtb', async () => {
  const m = JSON.parse((await run('decode', madt, '--json')).out) as { entries: { typeName: string }[] };
  assert.deepEqual(
    m.entries.map((e) => e.typeName),
    ['GICC', 'GICD', 'GICR', 'GIC ITS'],
  );
  const qdtb = file('qemu.dtb', gunzipSync(readFileSync(new URL('./fixtures/qemu-7.2-virt-smmuv3-its.dtb.gz', import.meta.url))));
  const t = await run('decode', qdtb);
  assert.equal(t.code, 0);
  assert.match(t.out, /compatible = "arm,smmu-v3"/);
  const j = JSON.parse((await run('decode', qdtb, '--json')).out) as { nodes: { path: string; properties: Record<string, unknown> }[] };
  const smmu = j.nodes.find((n) => n.path.startsWith('/smmuv3@'));
  assert.ok(smmu);
  assert.deepEqual(smmu.properties['interrupt-names'], ['eventq', 'priq', 'cmdq-sync', 'gerror']);
});

test('decode --json of a DTB: typed values, decoded reg, interrupts, iommu-map and msi-map (QEMU 7.2 dumpdtb)', async () => {
  const qdtb = file('qemu-typed.dtb', gunzipSync(readFileSync(new URL('./fixtures/qemu-7.2-virt-smmuv3-its.dtb.gz', import.meta.url))));
  const j = JSON.parse((await run('decode', qdtb, '--json')).out) as { nodes: { path: string; properties: Record<string, any> }[] };
  const node = (prefix: string): Record<string, any> => {
    const n = j.nodes.find((x) => x.path.startsWith(prefix));
    assert.ok(n, prefix);
    return n.properties;
  };
  const smmuPath = j.nodes.find((n) => n.path.startsWith('/smmuv3@'))!.path;
  const itsPath = j.nodes.find((n) => n.path.includes('/its@'))!.path;
  const gicPath = j.nodes.find((n) => n.path.startsWith('/intc@'))!.path;
  assert.equal(node('/')['#address-cells'], 2);
  assert.deepEqual(node('/memory@')['reg'], [{ address: '0x40000000', size: '0x20000000' }]);
  const smmu = node('/smmuv3@');
  assert.deepEqual(smmu['reg'], [{ address: '0x9050000', size: '0x20000' }]);
  assert.equal(smmu['interrupts'].parent, gicPath);
  // virt's SMMU: SPIs 74..77 = INTIDs 106..109, edge-rising
  assert.deepEqual(smmu['interrupts'].interrupts.map((i: { type: string; intid: number; trigger: string }) => [i.type, i.intid, i.trigger]), [
    ['SPI', 106, 'edge-rising'], ['SPI', 107, 'edge-rising'], ['SPI', 108, 'edge-rising'], ['SPI', 109, 'edge-rising'],
  ]);
  assert.equal(smmu['#iommu-cells'], 1);
  const pcie = node('/pcie@');
  assert.deepEqual(pcie['iommu-map'], [{ ridBase: '0x0', phandle: smmu['phandle'], target: smmuPath, outputBase: '0x0', length: '0x10000' }]);
  assert.deepEqual(pcie['msi-map'], [{ ridBase: '0x0', phandle: node(itsPath)['phandle'], target: itsPath, outputBase: '0x0', length: '0x10000' }]);
  assert.deepEqual(pcie['bus-range'], { start: 0, end: 255 });
  assert.deepEqual(node('/timer')['interrupts'].interrupts.map((i: { type: string; intid: number }) => `${i.type}${i.intid}`), ['PPI29', 'PPI30', 'PPI27', 'PPI26']);
  assert.deepEqual(node('/pl011@')['compatible'], ['arm,pl011', 'arm,primecell']);
  assert.equal(node('/chosen')['stdout-path'], '/pl011@9000000');
});

test('a truncated IORT: the checksum is "not verified", not "ok"; lint reports the truncation', async () => {
  const cut = file('cut.dat', buildIort(d).subarray(0, 100));
  const t = await run('decode', cut);
  assert.equal(t.code, 0);
  assert.match(t.out, /checksum 0x[0-9a-f]{2} \(not verified: table truncated\)/);
  assert.doesNotMatch(t.out, /\(ok\)/);
  const j = JSON.parse((await run('decode', cut, '--json')).out) as { header: { checksumStatus: string } };
  assert.equal(j.header.checksumStatus, 'unverified');
  const whole = JSON.parse((await run('decode', iort, '--json')).out) as { header: { checksumStatus: string } };
  assert.equal(whole.header.checksumStatus, 'ok');
  const l = await run('lint', cut);
  assert.equal(l.code, 1);
  assert.match(l.out, /\[length\] header Length \d+ exceeds/);
});

test('IORT text: GSIVs in hex, as iasl prints them', async () => {
  const t = await run('decode', iort);
  assert.match(t.out, /GSIV event 0x6a {2}pri 0x6b {2}gerr 0x6d {2}sync 0x6c/);
});

test('lint GOOD BAD: the findings of the usable file and the error of the unusable one, exit 2', async () => {
  const junk = file('random.bin', new Uint8Array(512).map((_, i) => (i * 151 + 7) & 0xff));
  const r = await run('lint', q72, junk);
  assert.equal(r.code, 2);
  assert.match(r.out, /\[id-count-off-by-one\]/);
  assert.match(r.err, /random\.bin: not an IORT, MADT \(APIC\) or DTB/);
  const j = await run('lint', q72, junk, '--json');
  assert.equal(j.code, 2);
  const o = JSON.parse(j.out) as { files: { file: string }[]; findings: { rule: string }[]; errors: { file: string; message: string }[] };
  assert.deepEqual(o.files.map((f) => f.file), [q72]);
  assert.ok(o.findings.some((f) => f.rule === 'id-count-off-by-one'));
  assert.deepEqual(o.errors.map((e) => e.file), [junk]);
  const clean = await run('lint', iort, junk);
  assert.equal(clean.code, 2);
  assert.match(clean.out, /1 file\(s\) checked, no findings/);
});

test('lint: clean set exits 0; QEMU 7.2 IORT vs its DT exits 1 with findings; JSON contract', async () => {
  const ok = await run('lint', iort, madt, dtb);
  assert.equal(ok.code, 0);
  assert.match(ok.out, /no findings/);
  const bad = await run('lint', q72, dtb);
  assert.equal(bad.code, 1);
  assert.match(bad.out, /\[checksum\]/);
  assert.match(bad.out, /\[id-count-off-by-one\].*0x100/);
  assert.match(bad.out, /\[dt-iort-mismatch\].*RIDs 0x100\.\.0xffff/);
  const j = await run('lint', q72, '--json');
  assert.equal(j.code, 1);
  const r = JSON.parse(j.out) as { files: { kind: string }[]; findings: { rule: string; severity: string; at: string }[] };
  assert.deepEqual(r.files.map((f) => f.kind), ['iort']);
  assert.ok(r.findings.some((f) => f.rule === 'id-count-off-by-one' && f.severity === 'warning' && f.at === '0xc8'));
});

test('unusable input exits 2 with one line naming the file', async () => {
  for (const [p, re] of [
    [file('junk.bin', new TextEncoder().encode('hello world')), /junk\.bin: not an IORT, MADT \(APIC\) or DTB/],
    [join(dir, 'missing.dat'), /missing\.dat: cannot read file/],
    [file('short.dat', buildIort(d).subarray(0, 30)), /short\.dat: .*runs past the end/],
  ] as const) {
    for (const cmd of ['decode', 'lint']) {
      const r = await run(cmd, p);
      assert.equal(r.code, 2, `${cmd} ${p}`);
      assert.match(r.err, re);
      assert.equal(r.err.trim().split('\n').length, 1);
    }
  }
});
