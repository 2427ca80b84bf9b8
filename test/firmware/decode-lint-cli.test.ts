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
  const j = JSON.parse((await run('decode', qdtb, '--json')).out) as { nodes: { path: string; properties: Record<string, string> }[] };
  const smmu = j.nodes.find((n) => n.path.startsWith('/smmuv3@'));
  assert.ok(smmu);
  assert.match(smmu.properties['interrupt-names'] ?? '', /eventq/);
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
