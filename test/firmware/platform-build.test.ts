// `vsmmu platform build` end to end: the five files, each consistent with the others — the DTB
// (read back, printed by dtc identically), the IORT (decoded by the ACPI side and routed per RID)
// and ids.json agree on every function's stream ID and device ID — and bad input exits 2 with
// one line naming the place.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { register } from '../../src/cli/commands/platform.js';
import { byPhandle, parseDtb, propCells, toDts, walk, type Fdt, type FdtNode } from '../../src/firmware/fdt/index.js';
import { decodeIort, decodeMadt, routeIortRid } from '../../src/firmware/acpi/index.js';
import type { IdsReport } from '../../src/platform/derive-ids.js';

const repo = new URL('../../', import.meta.url).pathname;

async function build(args: string[]): Promise<{ dir: string; files: Record<string, Buffer> }> {
  const dir = mkdtempSync(join(tmpdir(), 'vsmmu-build-'));
  const program = new Command().exitOverride();
  register(program);
  const write = process.stdout.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    await program.parseAsync(['platform', 'build', ...args, '--out', dir], { from: 'user' });
  } finally {
    process.stdout.write = write;
  }
  const files: Record<string, Buffer> = {};
  for (const f of readdirSync(dir)) files[f] = readFileSync(join(dir, f));
  return { dir, files };
}

/** Linux's of_map_id(): first <rid-base phandle out-base length> entry containing rid. */
function ofMapId(t: Fdt, n: FdtNode, prop: string, rid: number): { node: string; id: number } | null {
  const c = propCells(n, prop);
  if (!c) return null;
  for (let i = 0; i + 3 < c.length; i += 4) {
    const [base, ph, out, len] = c.slice(i, i + 4) as [number, number, number, number];
    if (rid >= base && rid < base + len) return { node: byPhandle(t.root, ph)?.path ?? '?', id: out + (rid - base) };
  }
  return null;
}

async function checkConsistent(args: string[]): Promise<IdsReport> {
  const { dir, files } = await build(args);
  try {
    assert.deepEqual(Object.keys(files).sort(), ['IORT.dat', 'MADT.dat', 'ids.json', 'platform.dtb', 'platform.dts']);
    const dtb = parseDtb(new Uint8Array(files['platform.dtb'] as Buffer));
    assert.equal((files['platform.dts'] as Buffer).toString('utf8'), toDts(dtb));
    const r = spawnSync('dtc', ['-I', 'dtb', '-O', 'dts', join(dir, 'platform.dtb')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '', 'dtc warnings');
    assert.equal(r.stdout, (files['platform.dts'] as Buffer).toString('utf8'));
    const iort = decodeIort(new Uint8Array(files['IORT.dat'] as Buffer));
    const madt = decodeMadt(new Uint8Array(files['MADT.dat'] as Buffer));
    assert.equal(madt.header.signature, 'APIC');
    const ids = JSON.parse((files['ids.json'] as Buffer).toString('utf8')) as IdsReport;
    assert.ok(ids.functions.length > 0);
    const pcieNodes = walk(dtb.root).filter((e) => e.node.name.startsWith('pcie@'));
    for (const f of ids.functions) {
      const rid = Number(f.rid);
      // IORT: the RC node of the function's segment routes the RID.
      const rc = iort.nodes.find((n) => n.kind === 'root-complex' && n.segment === f.segment);
      assert.ok(rc, `IORT RC for segment ${f.segment}`);
      const route = routeIortRid(iort, rc, rid);
      assert.equal(route.streamId === null ? null : `0x${route.streamId.toString(16)}`, f.streamId, `${f.bdf} IORT stream ID`);
      assert.equal(route.deviceId === null ? null : `0x${route.deviceId.toString(16)}`, f.deviceId, `${f.bdf} IORT device ID`);
      // DT: the pcie node with that linux,pci-domain maps the RID the same way.
      const pn = pcieNodes.find((e) => propCells(e.node, 'linux,pci-domain')?.[0] === f.segment);
      assert.ok(pn);
      const sm = ofMapId(dtb, pn.node, 'iommu-map', rid);
      const ms = ofMapId(dtb, pn.node, 'msi-map', rid);
      assert.equal(sm === null ? null : `0x${sm.id.toString(16)}`, f.streamId, `${f.bdf} DT iommu-map`);
      if (f.deviceId !== null) assert.equal(ms === null ? null : `0x${ms.id.toString(16)}`, f.deviceId, `${f.bdf} DT msi-map`);
      if (f.smmu !== null) assert.match(sm?.node ?? '', /^\/smmuv3@/);
    }
    return ids;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('qemu-virt --gic-msi its --smmu pcie0: DTB, DTS, IORT, MADT and ids.json agree', async () => {
  const ids = await checkConsistent(['--preset', 'qemu-virt', '--gic-msi', 'its', '--smmu', 'pcie0']);
  assert.deepEqual(ids.functions.map((f) => [f.bdf, f.smmu, f.streamId, f.deviceId]), [['0000:00:00.0', 'smmu0', '0x0', '0x0']]);
});

test('two-segments example (partial coverage, switch, multi-function): all files agree', async () => {
  const ids = await checkConsistent([join(repo, 'examples/platforms/two-segments.yaml')]);
  // rc1's buses 1..31 bypass the SMMU: nvme1 (bus 1) keeps its ITS device ID but has no stream ID.
  const bypassed = ids.functions.filter((f) => f.smmu === null);
  assert.deepEqual(bypassed.map((f) => [f.bdf, f.path, f.streamId, f.deviceId]), [['0001:01:00.0', 'rp0/nvme1', null, '0x10100']]);
  assert.ok(ids.functions.some((f) => f.bdf === '0000:04:00.1' && f.streamId === '0x401'));
});

function cli(args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(repo, 'src/cli/main.ts'), ...args], { encoding: 'utf8', cwd: repo });
  return { status: r.status, stderr: r.stderr };
}

test('CLI: a bad config exits 2 with one line naming file, line and path', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vsmmu-bad-'));
  try {
    const f = join(dir, 'bad.yaml');
    writeFileSync(f, readFileSync(join(repo, 'examples/platforms/qemu-virt.yaml'), 'utf8').replace('rootComplexes: [pcie0]', 'rootComplexes: [pcie7]'));
    const r = cli(['platform', 'build', f, '--out', join(dir, 'out')]);
    assert.equal(r.status, 2);
    assert.equal(r.stderr, `vsmmu: ${f}:27: smmus[0].rootComplexes[0]: SMMU instance references unknown root complex 'pcie7'\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('CLI: --smmu naming an unknown root complex and ITS on GICv2 exit 2 with the original messages', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vsmmu-bad-'));
  try {
    let r = cli(['platform', 'build', '--preset', 'openvmm', '--smmu', 'nope', '--out', dir]);
    assert.equal(r.status, 2);
    assert.equal(r.stderr, "vsmmu: --smmu nope: SMMU instance references unknown root complex 'nope'\n");
    r = cli(['platform', 'build', join(repo, 'examples/platforms/gicv2-v2m.yaml'), '--gic-msi', 'its', '--out', dir]);
    assert.equal(r.status, 2);
    assert.equal(r.stderr, 'vsmmu: --gic-msi its: ITS is incompatible with GICv2\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// The IORT builder emits SMMUv3 node revision 4 (tables rev 5 = E.d and rev 3), where Linux
// (iort_get_id_mapping_index) takes the DeviceID mapping index as valid unless ALL four GSIVs are
// set. The openvmm SMMU wires only eventq and gerror, so Linux skips mapping 0 (the only
// SID -> ITS range) as "the SMMU's own" and the RC -> SMMU -> ITS chain yields no device ID.
// Needs a fix in the IORT builder (firmware/acpi, part B): e.g. an explicit single mapping for
// the SMMU's own device ID at the index, as the original does.
for (const rev of ['5', '3']) {
  test(`openvmm with SMMUs on both segments, IORT revision ${rev}: all files agree`, async () => {
    const ids = await checkConsistent(['--preset', 'openvmm', '--smmu', 's1rc0', '--smmu', 's0rc0', '--iort-revision', rev]);
    assert.equal(ids.functions.length, 8);
  });
}
