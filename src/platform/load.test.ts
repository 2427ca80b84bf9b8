// Loader tests: YAML/JSON descriptions, errors naming file, line and path (one line each).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPlatformFile, parsePlatform } from './load.js';
import { loadPreset } from './presets/index.js';
import { validatePlatform } from './schema.js';
import { QEMU_VIRT_INPUT } from './presets/qemu-virt.js';
import { QEMU_HOSTED_INPUT } from './presets/qemu-hosted.js';
import fc from 'fast-check';
import { UserInputError } from '../util/errors.js';

const root = new URL('../../', import.meta.url).pathname;

const BASE = `memory:
  - { base: 0x40000000, size: 0x20000000 }
cpus: { count: 1 }
gic:
  version: 3
  distributor: { base: 0x08000000, size: 0x10000 }
  redistributors:
    - { base: 0x080a0000, size: 0xf60000 }
  its: { base: 0x08080000 }
rootComplexes:
  - name: pcie0
    ecam: { base: 0x4010000000 }
smmus:
  - name: smmu0
    base: 0x09050000
    rootComplexes:
      - pcie0
    interrupts:
      eventq: { spi: 74, trigger: edge }
      gerror: { spi: 77, trigger: edge }
`;

function errorOf(text: string, file = 'board.yaml'): string {
  try {
    parsePlatform(text, file);
  } catch (e) {
    assert.ok(e instanceof UserInputError, `expected UserInputError, got ${String(e)}`);
    assert.ok(!e.message.includes('\n'), 'one line');
    return e.message;
  }
  assert.fail('expected an error');
}

test('a minimal YAML description loads with defaults filled in', () => {
  const d = parsePlatform(BASE);
  assert.equal(d.gic.msi, 'its');
  assert.equal(d.gic.msiRequested, 'auto');
  assert.equal(d.gic.its?.name, 'its0');
  assert.equal(d.rootComplexes[0]?.ecam.size, 256 * 0x10_0000);
  assert.equal(d.rootComplexes[0]?.deviceIdBase, 0);
  assert.equal(d.smmus[0]?.features, 'default');
  assert.equal(d.smmus[0]?.msi, true);
  assert.deepEqual(d.timer.virtual, { ppi: 11, trigger: 'level' });
});

test('an unknown root complex names the file, the line of the reference and the path', () => {
  const msg = errorOf(BASE.replace('      - pcie0', '      - pcie9'));
  assert.equal(msg, "board.yaml:17: smmus[0].rootComplexes[0]: SMMU instance references unknown root complex 'pcie9'");
});

test('a root complex covered twice gives the duplicate message at the second reference', () => {
  const text = BASE + `  - name: smmu1
    base: 0x09070000
    rootComplexes: [pcie0]
    interrupts: { eventq: { spi: 80 }, gerror: { spi: 81 } }
`;
  assert.equal(errorOf(text), "board.yaml:23: smmus[1].rootComplexes[0]: duplicate SMMU instance for root complex 'pcie0'");
});

test('ITS with GICv2 is refused with the original message', () => {
  const text = BASE.replace('version: 3', 'version: 2\n  cpuInterface: { base: 0x08010000, size: 0x10000 }\n  msi: its');
  assert.match(errorOf(text), /^board\.yaml:7: gic\.msi: ITS is incompatible with GICv2/);
});

test('a wrongly typed value names its line and path', () => {
  assert.match(errorOf(BASE.replace('cpus: { count: 1 }', 'cpus: { count: many }')), /^board\.yaml:3: cpus\.count: expected an unsigned integer/);
  assert.match(errorOf(BASE.replace('base: 0x09050000', 'base: "0x9_05g"')), /^board\.yaml:15: smmus\[0\]\.base: expected an unsigned integer/);
});

test('an unknown key is an error on the line of its object', () => {
  assert.match(errorOf(BASE.replace('  - name: pcie0', '  - name: pcie0\n    segmnet: 1')), /^board\.yaml:11: rootComplexes\[0\]: Unrecognized key: "segmnet"/);
});

test('a missing required section names it', () => {
  assert.match(errorOf(BASE.replace(/^cpus: .*\n/m, '')), /^board\.yaml:\d+: cpus: /);
});

test('YAML syntax errors and duplicate keys give the line', () => {
  assert.match(errorOf('memory:\n  - { base: 1\ncpus: [\n'), /^board\.yaml:\d+: syntax error: /);
  assert.match(errorOf(BASE + 'cpus: { count: 2 }\n'), /^board\.yaml:21: syntax error: .*[Mm]ap keys must be unique/);
});

test('overlapping windows and SPIs are reported with both parties', () => {
  assert.match(errorOf(BASE.replace('base: 0x09050000', 'base: 0x08080000')), /smmus\[0\]\.base: SMMU 'smmu0' 0x8080000\.\.0x809ffff overlaps ITS 0x8080000\.\.0x809ffff/);
  assert.match(errorOf(BASE.replace('gerror: { spi: 77, trigger: edge }', 'gerror: { spi: 74, trigger: edge }')), /smmus\[0\]\.interrupts\.gerror: SPI 74 of SMMU 'smmu0' gerror overlaps SPI 74 of SMMU 'smmu0' eventq/);
});

test('a topology that does not fit its bus range is refused', () => {
  const text = BASE.replace('    ecam: { base: 0x4010000000 }', `    ecam: { base: 0x4010000000 }
    buses: { start: 0, end: 1 }
    ports:
      - { name: rp0, device: 1, child: { kind: endpoint, name: a } }
      - { name: rp1, device: 2, child: { kind: endpoint, name: b } }`);
  assert.match(errorOf(text), /rootComplexes\[0\]\.buses: the topology needs buses 0\.\.2 but the bus range ends at 1/);
});

test('JSON files get line numbers too', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vsmmu-load-'));
  try {
    const f = join(dir, 'p.json');
    const obj = { memory: [{ base: 0, size: 4096 }], cpus: { count: 0 }, gic: { version: 3, distributor: { base: 0x0800_0000, size: 0x1_0000 }, redistributors: [{ base: 0x080a_0000, size: 0x2_0000 }] } };
    writeFileSync(f, JSON.stringify(obj, null, 2));
    assert.throws(() => loadPlatformFile(f), (e: unknown) => e instanceof UserInputError && e.message.startsWith(`${f}:9: cpus.count: cpus.count is 1..512`));
    assert.throws(() => loadPlatformFile(join(dir, 'missing.yaml')), (e: unknown) => e instanceof UserInputError && /missing\.yaml: cannot read platform description: ENOENT/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('examples/platforms/qemu-virt.yaml is exactly the qemu-virt preset', () => {
  assert.deepEqual(loadPlatformFile(join(root, 'examples/platforms/qemu-virt.yaml')), loadPreset('qemu-virt'));
});

test('every example description loads', () => {
  for (const f of ['qemu-virt.yaml', 'two-segments.yaml', 'gicv2-v2m.yaml']) {
    const text = readFileSync(join(root, 'examples/platforms', f), 'utf8');
    assert.ok(parsePlatform(text, f).rootComplexes.length > 0, f);
  }
});

test('absurdly deep nesting is a clear error, not a stack overflow', () => {
  const nested = (levels: number): string => {
    let child = '{ kind: endpoint, name: e }';
    for (let i = 0; i < levels; i++) child = `{ kind: switch, name: s${i}, downstreamPorts: [{ name: d, child: ${child} }] }`;
    return BASE.replace('    ecam: { base: 0x4010000000 }', `    ecam: { base: 0x4010000000 }\n    ports: [{ name: rp, child: ${child} }]`);
  };
  // Deep enough to be refused by the description schema (with the path).
  assert.match(errorOf(nested(30)), /^board\.yaml:\d+: rootComplexes\[0\]\.ports\[0\]\.child\.downstreamPorts.*: nested deeper than 64 levels$/);
  // Deep enough to exhaust the YAML parser: refused before parsing (with the line).
  assert.match(errorOf(nested(2000)), /^board\.yaml:\d+: nested deeper than 256 levels \(mappings and sequences\); flatten the document$/);
});

test('fuzz: arbitrary values and mutated presets are validated without throwing', () => {
  fc.assert(
    fc.property(fc.anything({ maxDepth: 4 }), (v) => {
      validatePlatform(v);
    }),
    { numRuns: 500 },
  );
  // Replace one value somewhere inside a valid description with an arbitrary one.
  const paths: (string | number)[][] = [];
  const collect = (v: unknown, path: (string | number)[]): void => {
    paths.push(path);
    if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) collect(x, [...path, Array.isArray(v) ? Number(k) : k]);
  };
  collect(QEMU_VIRT_INPUT, []);
  fc.assert(
    fc.property(fc.constantFrom(...paths.filter((p) => p.length > 0)), fc.anything({ maxDepth: 2 }), (path, value) => {
      const copy = structuredClone(QEMU_VIRT_INPUT) as unknown as Record<string | number, unknown>;
      let cur = copy;
      for (const k of path.slice(0, -1)) cur = cur[k] as Record<string | number, unknown>;
      cur[path[path.length - 1] as string | number] = value;
      const r = validatePlatform(copy);
      if (!r.ok) assert.ok(r.issues.length > 0 && r.issues.every((i) => typeof i.message === 'string'));
    }),
    { numRuns: 1000 },
  );
});

test('stream IDs beyond the SMMU profile\'s SIDSIZE are refused', () => {
  const text = BASE.replace('    ecam: { base: 0x4010000000 }', '    ecam: { base: 0x4010000000 }\n    streamIdBase: 0x100');
  assert.match(errorOf(text), /^board\.yaml:13: rootComplexes\[0\]\.streamIdBase: stream IDs up to 0x100ff exceed SMMU 'smmu0' \(16-bit stream IDs, feature profile 'default'\)/);
});

test('virtio-mmio transports: SMMU references, stream IDs, windows and SPIs are checked', () => {
  const hosted = (virtioMmio: unknown[], extra: Record<string, unknown> = {}): string[] => {
    const r = validatePlatform({ ...QEMU_HOSTED_INPUT, virtioMmio, ...extra });
    return r.ok ? [] : r.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };
  const v = (name: string, base: number, spi: number, streamId: number, smmu: string | null = 'smmu0'): Record<string, unknown> => ({ name, base, interrupt: { spi }, smmu, streamId });
  assert.deepEqual(hosted([v('a', 0x8010_0000, 80, 8), v('b', 0x8010_0200, 81, 9)]), []);
  assert.match(hosted([v('a', 0x8010_0000, 80, 8), v('b', 0x8010_0200, 81, 8)]).join('\n'), /virtioMmio\.1\.streamId: stream ID 0x8 is already used on SMMU 'smmu0' \(virtioMmio\[0\]\)/);
  assert.match(hosted([v('a', 0x8010_0000, 80, 8, 'nope')]).join('\n'), /unknown SMMU 'nope'/);
  assert.match(hosted([v('a', 0x8010_0000, 80, 8), v('b', 0x8010_0100, 81, 9)]).join('\n'), /virtioMmio\.1\.base: virtio-mmio 'b' .* overlaps virtio-mmio 'a'/);
  assert.match(hosted([v('a', 0x8010_0000, 80, 8), v('b', 0x8010_0200, 80, 9)]).join('\n'), /virtioMmio\.1\.interrupt: SPI 80/);
  assert.match(hosted([v('a', 0x8010_0000, 74, 8)]).join('\n'), /SPI 74/);
  assert.match(hosted([v('a', 0x8010_0000, 80, 8, null)]).join('\n'), /smmus\.0\.rootComplexes: an SMMU covers at least one root complex or virtio-mmio device/);
  assert.match(hosted([v('smmu0', 0x8010_0000, 80, 8)]).join('\n'), /duplicate name 'smmu0'/);
  assert.match(hosted([v('a', 0x8010_0000, 80, 0x1_0000)]).join('\n'), /exceeds SMMU 'smmu0'/);
});
