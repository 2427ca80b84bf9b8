// DTB writer/reader/DTS tests: round trips, dtc (device-tree-compiler) as the oracle for the
// binary format and for the DTS text, QEMU 7.2's own dumpdtb decoded, and fuzzing of the reader
// with truncated/corrupted blobs (an FdtError or a tree, never another exception).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { FdtError, cells, findNode, parseDtb, propCells, propStrings, strings, toDts, writeDtb, EMPTY, type Fdt, type FdtNode } from './index.js';

const FIXTURE = new URL('../../../test/firmware/fixtures/qemu-7.2-virt-smmuv3-its.dtb.gz', import.meta.url);
const qemuDtb = (): Uint8Array => new Uint8Array(gunzipSync(readFileSync(FIXTURE)));

function dtc(args: string[], input: Uint8Array | string): { stdout: string; stderr: string; status: number | null; out: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), 'vsmmu-fdt-'));
  try {
    const inFile = join(dir, 'in');
    const outFile = join(dir, 'out');
    writeFileSync(inFile, input);
    const r = spawnSync('dtc', [...args, '-o', outFile, inFile], { encoding: 'utf8' });
    if (r.error) throw r.error;
    let out = Buffer.alloc(0);
    try {
      out = readFileSync(outFile);
    } catch {
      /* no output on failure */
    }
    return { stdout: r.stdout, stderr: r.stderr, status: r.status, out };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Structural equality of trees (names, property order and bytes, children). */
function sameNode(a: FdtNode, b: FdtNode): boolean {
  return (
    a.name === b.name &&
    a.props.length === b.props.length &&
    a.props.every((p, i) => p.name === b.props[i]?.name && Buffer.from(p.value).equals(Buffer.from(b.props[i]?.value ?? []))) &&
    a.children.length === b.children.length &&
    a.children.every((c, i) => sameNode(c, b.children[i] as FdtNode))
  );
}

const sample: Fdt = {
  root: {
    name: '',
    props: [
      { name: '#address-cells', value: cells(2) },
      { name: '#size-cells', value: cells(2) },
      { name: 'compatible', value: strings('vendor,board', 'generic') },
    ],
    children: [
      {
        name: 'memory@40000000',
        props: [
          { name: 'device_type', value: strings('memory') },
          { name: 'reg', value: cells(0, 0x4000_0000, 0, 0x1000_0000) },
        ],
        children: [],
      },
      { name: 'chosen', props: [{ name: 'x-flag', value: EMPTY }, { name: 'x-bytes', value: new Uint8Array([1, 2, 3]) }], children: [] },
    ],
  },
  reservations: [{ address: 0x4800_0000n, size: 0x10_0000n }],
  bootCpuidPhys: 0,
};

test('write -> read gives the same tree, reservations and boot CPU', () => {
  const back = parseDtb(writeDtb(sample));
  assert.ok(sameNode(back.root, sample.root));
  assert.deepEqual(back.reservations, sample.reservations);
  assert.equal(back.bootCpuidPhys, 0);
});

test('dtc accepts our DTB without warnings and prints exactly our DTS', () => {
  const r = dtc(['-I', 'dtb', '-O', 'dts'], writeDtb(sample));
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.equal(r.out.toString('utf8'), toDts(sample));
});

test('dtc compiling our DTS gives a DTB that reads back as the same tree', () => {
  const r = dtc(['-I', 'dts', '-O', 'dtb'], toDts(sample));
  assert.equal(r.status, 0, r.stderr);
  const back = parseDtb(new Uint8Array(r.out));
  assert.ok(sameNode(back.root, sample.root));
  assert.deepEqual(back.reservations, sample.reservations);
});

test('version 16 blobs (no size_dt_struct) written by dtc read back as the same tree', () => {
  const r = dtc(['-I', 'dts', '-O', 'dtb', '-V', '16'], toDts(sample));
  assert.equal(r.status, 0, r.stderr);
  const b = new Uint8Array(r.out);
  assert.equal(new DataView(b.buffer, b.byteOffset).getUint32(20), 16);
  assert.ok(sameNode(parseDtb(b).root, sample.root));
});

test("QEMU 7.2's own dumpdtb decodes to the documented values", () => {
  const t = parseDtb(qemuDtb());
  const smmu = findNode(t.root, '/smmuv3@9050000');
  assert.ok(smmu);
  assert.deepEqual(propStrings(smmu, 'compatible'), ['arm,smmu-v3']);
  assert.deepEqual(propCells(smmu, 'reg'), [0, 0x0905_0000, 0, 0x2_0000]);
  assert.deepEqual(propCells(smmu, 'interrupts'), [0, 74, 1, 0, 75, 1, 0, 76, 1, 0, 77, 1]);
  assert.deepEqual(propStrings(smmu, 'interrupt-names'), ['eventq', 'priq', 'cmdq-sync', 'gerror']);
  assert.deepEqual(propCells(smmu, '#iommu-cells'), [1]);
  const its = findNode(t.root, '/intc@8000000/its@8080000');
  assert.ok(its);
  assert.deepEqual(propStrings(its, 'compatible'), ['arm,gic-v3-its']);
  assert.deepEqual(propCells(its, '#msi-cells'), [1]);
  assert.deepEqual(propCells(its, 'reg'), [0, 0x0808_0000, 0, 0x2_0000]);
  const pcie = findNode(t.root, '/pcie@10000000');
  assert.ok(pcie);
  assert.deepEqual(propStrings(pcie, 'compatible'), ['pci-host-ecam-generic']);
  assert.deepEqual(propCells(pcie, 'bus-range'), [0, 0xff]);
  assert.deepEqual(propCells(pcie, 'linux,pci-domain'), [0]);
  const itsPh = propCells(its, 'phandle')?.[0];
  const smmuPh = propCells(smmu, 'phandle')?.[0];
  assert.deepEqual(propCells(pcie, 'msi-map'), [0, itsPh, 0, 0x1_0000]);
  assert.deepEqual(propCells(pcie, 'iommu-map'), [0, smmuPh, 0, 0x1_0000]);
  assert.deepEqual(propCells(pcie, 'reg'), [0x40, 0x1000_0000, 0, 0x1000_0000]);
});

test("our DTS of QEMU's DTB equals dtc's output byte for byte", () => {
  const b = qemuDtb();
  const r = dtc(['-I', 'dtb', '-O', 'dts'], b);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(toDts(parseDtb(b)), r.out.toString('utf8'));
});

test("QEMU's DTB survives our read -> write -> read", () => {
  const t = parseDtb(qemuDtb());
  assert.ok(sameNode(parseDtb(writeDtb(t)).root, t.root));
});

// ------------------------------------------------------------------ property tests

const nameChars = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-'.split(''));
const ident = fc.tuple(fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz'.split('')), fc.array(nameChars, { maxLength: 7 })).map(([a, r]) => a + r.join(''));
const valueArb = fc.oneof(
  fc.uint8Array({ maxLength: 24 }),
  fc.array(fc.string({ unit: fc.constantFrom(...'abc ,.-_\t\n\\"'.split('')), minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 3 }).map((s) => strings(...s)),
  fc.array(fc.nat({ max: 0xffff_ffff }), { maxLength: 6 }).map((v) => cells(...v)),
);
// dtc checks names ending in -gpio / -gpios as GPIO specifiers (and warns): keep random names clear of them.
const propName = ident.map((n) => 'x-' + n).filter((n) => !/-gpios?$/.test(n));
const propsArb = fc.uniqueArray(fc.tuple(propName, valueArb), { maxLength: 5, selector: (p) => p[0] });
/** Nodes up to `depth` levels deep (explicit depth keeps generation bounded). */
function nodeArbAt(depth: number): fc.Arbitrary<FdtNode> {
  const props = propsArb.map((ps) => ps.map(([name, value]) => ({ name, value })));
  if (depth === 0) return fc.record({ name: ident, props, children: fc.constant([] as FdtNode[]) });
  return fc.record({ name: ident, props, children: fc.uniqueArray(nodeArbAt(depth - 1), { maxLength: 3, selector: (n) => n.name }) });
}
const nodeArb = nodeArbAt(3);
const treeArb: fc.Arbitrary<Fdt> = fc.record({
  root: fc.tuple(propsArb, fc.uniqueArray(nodeArb, { maxLength: 3, selector: (n) => n.name })).map(([ps, children]) => ({ name: '', props: ps.map(([name, value]) => ({ name, value })), children })),
  reservations: fc.array(fc.record({ address: fc.bigInt({ min: 1n, max: (1n << 64n) - 1n }), size: fc.bigInt({ min: 1n, max: (1n << 64n) - 1n }) }), { maxLength: 2 }),
  bootCpuidPhys: fc.nat({ max: 0xffff_ffff }),
});

test('property: write -> read is the identity on random trees', () => {
  fc.assert(
    fc.property(treeArb, (t) => {
      const back = parseDtb(writeDtb(t));
      return sameNode(back.root, t.root) && back.bootCpuidPhys === t.bootCpuidPhys && JSON.stringify(back.reservations, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) === JSON.stringify(t.reservations, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    }),
    { numRuns: 300 },
  );
});

test('property: dtc prints random trees exactly as toDts does, without warnings', () => {
  fc.assert(
    fc.property(treeArb, (t) => {
      const r = dtc(['-I', 'dtb', '-O', 'dts'], writeDtb(t));
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr, '');
      assert.equal(r.out.toString('utf8'), toDts(t));
    }),
    { numRuns: 40 },
  );
});

// ------------------------------------------------------------------ malformed input

/** Parses, requiring either success or an FdtError (anything else fails the test). */
function parseOrFdtError(b: Uint8Array): 'ok' | 'error' {
  try {
    parseDtb(b);
    return 'ok';
  } catch (e) {
    if (e instanceof FdtError) return 'error';
    throw e;
  }
}

test('truncated blobs give a clear FdtError naming the problem', () => {
  const b = writeDtb(sample);
  assert.throws(() => parseDtb(b.subarray(0, 10)), (e: unknown) => e instanceof FdtError && /truncated/.test(e.message));
  assert.throws(() => parseDtb(b.subarray(0, b.length - 1)), (e: unknown) => e instanceof FdtError && /truncated: header says/.test(e.message));
  const bad = b.slice();
  bad[0] = 0;
  assert.throws(() => parseDtb(bad), (e: unknown) => e instanceof FdtError && /bad magic/.test(e.message));
  for (let n = 0; n < b.length; n++) assert.equal(parseOrFdtError(b.subarray(0, n)), 'error');
});

test('a structure block cut short inside a property is reported with its offset', () => {
  const b = writeDtb(sample);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  // Shrink size_dt_struct so the walk runs out inside the tree.
  dv.setUint32(36, 24);
  assert.throws(() => parseDtb(b), (e: unknown) => e instanceof FdtError && /at byte 0x/.test(e.message));
});

test('fuzz: corrupted and truncated blobs never throw anything but FdtError', () => {
  const bases = [writeDtb(sample), qemuDtb().subarray(0, 0x2000)];
  // Give the QEMU base a consistent totalsize so corruption, not truncation, is exercised.
  const q = bases[1] as Uint8Array;
  const qv = new DataView(q.buffer, q.byteOffset, q.byteLength);
  const q2 = q.slice();
  new DataView(q2.buffer).setUint32(4, Math.min(qv.getUint32(4), q.length));
  bases[1] = q2;
  fc.assert(
    fc.property(
      fc.constantFrom(0, 1),
      fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { maxLength: 12 }),
      fc.option(fc.nat(), { nil: undefined }),
      (which, flips, cut) => {
        const base = bases[which] as Uint8Array;
        const b = base.slice(0, cut === undefined ? base.length : cut % (base.length + 1));
        for (const [at, v] of flips) if (b.length > 0) b[at % b.length] = v;
        parseOrFdtError(b);
      },
    ),
    { numRuns: 3000 },
  );
});

test('fuzz: random bytes behind a valid magic never throw anything but FdtError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 256 }), (tail) => {
      const b = new Uint8Array(4 + tail.length);
      b.set([0xd0, 0x0d, 0xfe, 0xed]);
      b.set(tail, 4);
      parseOrFdtError(b);
    }),
    { numRuns: 2000 },
  );
});

test('deep nesting is refused with an FdtError, not a stack overflow', () => {
  let n: FdtNode = { name: 'leaf', props: [], children: [] };
  for (let i = 0; i < 100; i++) n = { name: `n${i}`, props: [], children: [n] };
  const b = writeDtb({ root: { name: '', props: [], children: [n] }, reservations: [], bootCpuidPhys: 0 });
  assert.throws(() => parseDtb(b), (e: unknown) => e instanceof FdtError && /nested deeper/.test(e.message));
});
