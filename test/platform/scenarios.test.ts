// Every example scenario under examples/scenarios runs with its expectations met; the CLI exits 1
// with an expected/actual diff when an expectation fails and 2 with file:line for a bad scenario;
// the JSON report has the documented shape; --svg writes a drawing of the topology.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadScenarioFile, parseScenario } from '../../src/platform/scenario/load.js';
import { runScenario } from '../../src/platform/scenario/runner.js';
import { renderSvg } from '../../src/platform/scenario/svg.js';
import { UserInputError } from '../../src/util/errors.js';

const ROOT = resolve(import.meta.dirname, '../..');
const DIR = join(ROOT, 'examples/scenarios');

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

for (const f of readdirSync(DIR).filter((x) => /\.(ya?ml|json)$/.test(x))) {
  test(`example scenario ${f} meets its expectations`, () => {
    const { scenario, platform } = loadScenarioFile(join(DIR, f));
    const r = runScenario(scenario, platform);
    assert.deepEqual(r.expectations.failures, []);
    assert.ok(r.expectations.passed > 0);
    assert.equal(r.summary.ok, true);
  });
}

test('the default scenario exercises translation, faults, invalidation, MSIs, hot-plug and renumbering', () => {
  const { scenario, platform } = loadScenarioFile(join(DIR, 'default.yaml'));
  assert.equal(platform.rootComplexes.length, 2);
  const r = runScenario(scenario, platform);
  const types = new Set(r.events.map((e) => e.type));
  for (const t of ['F_TRANSLATION', 'F_PERMISSION', 'C_BAD_STE']) assert.ok(types.has(t), t);
  assert.ok(r.interrupts.some((i) => i.kind === 'lpi' && i.source === 'dma0 vector 0'));
  assert.ok(r.interrupts.some((i) => i.kind === 'spi' && i.source === 'smmu0 eventq'));
  assert.ok(r.summary.hotplugs >= 2 && r.summary.renumbers === 1);
  const dma0 = r.devices.find((d) => d.name === 'dma0')!;
  assert.equal(dma0.vectors[0]!.address, '0xfffff040');
  const seg1 = r.topology.find((t) => t.name === 'pcie1')!;
  assert.equal(seg1.smmu, null);
  assert.ok(seg1.functions.some((fn) => fn.name === 'dma1' && fn.deviceId === '0x10100' && fn.streamId === null));
  assert.ok(r.caches.smmu0!.tlbHits! > 0);
});

test('vsmmu run with no argument runs the default scenario (exit 0, summary)', () => {
  const r = cli('run');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Topology/);
  assert.match(r.stdout, /all \d+ expectations met/);
});

test('vsmmu run --json prints the documented report shape', () => {
  const r = cli('run', '--json', join(DIR, 'gicv2m.yaml'));
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.equal(j.schema, 'vsmmu-run-report/2');
  for (const k of ['scenario', 'platform', 'topology', 'steps', 'executions', 'devices', 'events', 'eventGroups', 'interrupts', 'interruptGroups', 'caches', 'guest', 'diagnostics', 'expectations', 'detail', 'summary']) assert.ok(k in j, k);
  assert.deepEqual((j.platform as { v2mSpis: unknown }).v2mSpis, { first: 112, count: 64 });
});

test('a failing expectation exits 1 with an expected/actual diff', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vsmmu-run-'));
  const file = join(dir, 'fail.yaml');
  writeFileSync(
    file,
    readFileSync(join(DIR, 'gicv2m.yaml'), 'utf8').replace('expect: { data: { buffer: b, sameAs: a } }', 'expect: { data: { buffer: b, length: 4, equals: "00 11 22 33" } }'),
  );
  const r = cli('run', file);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /1 expectation failed/);
  assert.match(r.stderr, /- expected: at \+0x0: 00 11 22 33/);
  assert.match(r.stderr, /\+ actual: {3}at \+0x0: 42 42 42 42/);
});

test('a bad scenario exits 2 naming file, line and problem', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vsmmu-run-'));
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, ['name: bad', 'platform: { preset: qemu-virt }', 'steps:', '  - alloc: { buffer: a, size: 0x1000 }', '  - frobnicate: { device: x }', ''].join('\n'));
  const r = cli('run', file);
  assert.equal(r.code, 2);
  assert.match(r.stderr, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:5: steps\\[1\\]\\.frobnicate: unknown step 'frobnicate'`));
  assert.equal(r.stderr.trim().split('\n').length, 1);
});

test('scenario mistakes found while running name the line', () => {
  const text = ['name: t', 'platform: { preset: qemu-virt }', 'steps:', '  - note: hi', '  - map: { device: nosuch, buffer: a }', ''].join('\n');
  const { scenario, platform } = parseScenario(text, 't.yaml');
  assert.throws(() => runScenario(scenario, platform), (e: unknown) => e instanceof UserInputError && /^t\.yaml:5: unknown device 'nosuch'/.test(e.message));
  const big = parseScenario('name: t\nplatform: { preset: qemu-virt }\nsteps:\n  - alloc: { buffer: a, size: 0x8000000 }\n', 'b.yaml');
  assert.throws(() => runScenario(big.scenario, big.platform), /^UserInputError: b\.yaml:4: guest allocator: cannot allocate/);
  assert.throws(() => parseScenario('name: t\nplatform:\n  file: nowhere.yaml\nsteps: [ { note: x } ]\n', '/tmp/f.yaml'), /\/tmp\/f\.yaml:3: platform\.file: platform description file not found/);
  assert.throws(() => parseScenario('name: t\nplatform: { preset: nope }\nsteps: [ { note: x } ]\n', 'p.yaml'), /p\.yaml:2: platform\.preset: unknown preset 'nope'/);
  assert.throws(() => parseScenario('name: t\nplatform: { preset: qemu-virt }\ndevices: { dma9: dma-engine }\nsteps: [ { note: x } ]\n', 'd.yaml'), /d\.yaml:3: devices\.dma9: no endpoint named 'dma9'/);
  assert.throws(() => parseScenario('name: t\nplatform: { preset: qemu-virt }\nsteps:\n  - dma: { device: a, op: copy, to: x, length: 0 }\n', 'z.yaml'), /z\.yaml:4: steps\[0\]\.dma\.length: sizes are 1\.\.256 MiB/);
});

test('--svg draws root complexes, ports, devices, SMMUs, the ITS and ID ranges', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vsmmu-run-'));
  const out = join(dir, 'topo.svg');
  const r = cli('run', '--svg', out, join(DIR, 'gicv2m.yaml'));
  assert.equal(r.code, 0, r.stderr);
  const svg = readFileSync(out, 'utf8');
  assert.match(svg, /^<\?xml/);
  for (const s of ['pcie0', 'rp0', 'dma0', 'SMMUv3 smmu0', 'v2m0', 'RID 0x0..0xffff -&gt; smmu0 SID 0x0..0xffff']) assert.ok(svg.includes(s), s);
  const { scenario, platform } = loadScenarioFile(join(DIR, 'default.yaml'));
  const full = renderSvg(runScenario(scenario, platform));
  assert.ok(full.includes('its0') && full.includes('pcie1') && full.includes('DevID 0x10100'));
  assert.equal((full.match(/<svg/g) ?? []).length, 1);
  assert.equal((full.match(/<\/svg>/g) ?? []).length, 1);
});

test('without an MSI controller pciehp polls: a hot-plugged device is still bound and does DMA', () => {
  const text = `
name: no-msi
platform:
  description:
    memory: [{ base: 0x40000000, size: 0x10000000 }]
    cpus: { count: 1 }
    gic: { version: 3, distributor: { base: 0x08000000, size: 0x10000 }, redistributors: [{ base: 0x080a0000, size: 0x20000 }], msi: none }
    smmus: [{ name: smmu0, base: 0x09050000, rootComplexes: [pcie0], features: qemu-7.2, interrupts: { eventq: { spi: 74 }, gerror: { spi: 77 } } }]
    rootComplexes:
      - { name: pcie0, ecam: { base: 0x4010000000 }, mmio32: { base: 0x10000000, size: 0x10000000 }, ports: [{ name: rp0, device: 1, hotplug: true }] }
steps:
  - hotplug: { port: rp0, device: hp0, model: dma-engine }
  - expect: { noInterrupts: true }
  - alloc: { buffer: b, size: 0x1000 }
  - map: { device: hp0, buffer: b }
  - dma: { device: hp0, op: fill, to: b, length: 0x10, pattern: 0x01010101 }
  - expect: { dma: { result: ok } }
  - expect: { data: { buffer: b, length: 0x10, fill: 1 } }
`;
  const { scenario, platform } = parseScenario(text, 'nomsi.yaml');
  const r = runScenario(scenario, platform);
  assert.deepEqual(r.expectations.failures, []);
  assert.equal(r.devices.find((d) => d.name === 'hp0')?.streamId, '0x100');
});

test('the default scenario platform is the qemu-virt preset plus ports, devices and pcie1', async () => {
  const { loadPreset } = await import('../../src/platform/presets/index.js');
  const q = loadPreset('qemu-virt');
  const { platform: d } = loadScenarioFile(join(DIR, 'default.yaml'));
  assert.deepEqual(d.memory, q.memory);
  assert.deepEqual(d.gic, q.gic);
  // msiDeviceId defaults to the first DeviceID above every root complex (pcie1 moves it); unused here (wired IRQs).
  const noMsiId = (x: typeof d.smmus): unknown => x.map(({ msiDeviceId: _m, ...rest }) => rest);
  assert.deepEqual(noMsiId(d.smmus), noMsiId(q.smmus));
  assert.deepEqual(d.uart, q.uart);
  const { ports: _p, endpoints: _e, ...rc0 } = d.rootComplexes[0]!;
  const { ports: _qp, endpoints: qe, ...qrc0 } = q.rootComplexes[0]!;
  assert.deepEqual(rc0, qrc0);
  assert.deepEqual(d.rootComplexes[0]!.endpoints, qe);
  assert.equal(d.rootComplexes[1]!.segment, 1);
});

// ---------------------------------------------------------------- bounded reports and inputs

const noteLoop = (outer: number, inner: number): string =>
  `name: loop\nplatform: { preset: qemu-virt }\nsteps:\n  - note: start\n  - repeat:\n      count: ${outer}\n      steps:\n        - repeat:\n            count: ${inner}\n            steps:\n              - note: tick\n              - expect: { noEvents: true }\n`;

test('a long run keeps one report entry per step of the file, counts and bounded detail', () => {
  const run = (outer: number, detail: number): ReturnType<typeof runScenario> => {
    const { scenario, platform } = parseScenario(noteLoop(outer, 50), 'loop.yaml');
    return runScenario(scenario, platform, { detail });
  };
  const small = run(2, 10);
  const big = run(40, 10);
  assert.equal(big.summary.steps, 1 + 40 * 50 * 2);
  assert.equal(big.expectations.passed, 40 * 50);
  // One entry per step of the file (note, repeat, repeat, note, expect), whatever the count.
  assert.deepEqual(big.steps.map((s) => [s.line, s.depth, s.kind, s.runs]), [
    [4, 0, 'note', 1],
    [5, 0, 'repeat', 1],
    [8, 1, 'repeat', 40],
    [11, 2, 'note', 2000],
    [12, 2, 'expect', 2000],
  ]);
  assert.equal(big.steps[4]!.ok, 2000);
  assert.equal(big.executions.length, 10);
  assert.equal(big.detail.omitted.executions, big.summary.steps - 10);
  // The report does not grow with the number of executed steps.
  const size = (r: unknown): number => JSON.stringify(r).length;
  assert.ok(size(big) - size(small) < 200, `${size(small)} -> ${size(big)}`);
});

test('events and interrupts of a loop are kept as groups with counts; single records are bounded', () => {
  const text = readFileSync(join(DIR, 'two-segments.yaml'), 'utf8');
  const { scenario, platform } = parseScenario(text, join(DIR, 'two-segments.yaml'));
  const r = runScenario(scenario, platform, { detail: 25 });
  assert.equal(r.summary.events, 201);
  assert.equal(r.events.length, 25);
  assert.equal(r.detail.omitted.events, 176);
  const loop = r.eventGroups.find((g) => g.device === 'nvme0')!;
  assert.deepEqual([loop.type, loop.count, loop.first.line, loop.last.line, loop.first.address], ['F_TRANSLATION', 200, 40, 40, '0x200000']);
  assert.equal(r.interruptGroups.reduce((a, g) => a + g.count, 0), r.summary.interrupts);
  assert.ok(r.interrupts.length <= 25);
  assert.deepEqual(r.expectations.failures, []);
});

test('the text report summarises loops and long event lists; --verbose lists every step run', () => {
  const short = cli('run', join(DIR, 'two-segments.yaml'));
  assert.equal(short.code, 0, short.stderr);
  const lines = short.stdout.split('\n');
  assert.ok(lines.length < 150, `${lines.length} lines`);
  assert.match(short.stdout, /^line {3}33 ↻ repeat 200 times: 6 steps \(1,200 steps run\)$/m);
  assert.match(short.stdout, /^line {3}37 {3}• \[× 200\] nvme0: fill 0x100 bytes at 0x200000 with 0x1010101: done$/m);
  assert.match(short.stdout, /^line {3}38 {3}✔ \[200 of 200 met\] dma nvme0: ok$/m);
  assert.match(short.stdout, /^│ 200 +│ smmu0 │ F_TRANSLATION \(0x10\) │ 0x100 +│ nvme0 +│ 40, 0x200000 /m);
  // Every numbered line in "Steps" says what the number is.
  const steps = lines.slice(lines.findIndex((l) => l.startsWith('Steps')) + 1, lines.indexOf('Devices') - 1);
  assert.ok(steps.length > 20);
  for (const l of steps) assert.match(l, /^(line +\d+ |\s+last: )/, l);
  const all = cli('run', '--verbose', join(DIR, 'two-segments.yaml'));
  assert.equal(all.code, 0, all.stderr);
  const runs = all.stdout.split('\n').filter((l) => /^#\d+ +line +\d+ /.test(l));
  assert.equal(runs.length, 1220);
  assert.equal(all.stdout.split('\n').filter((l) => /F_TRANSLATION \(0x10\)/.test(l)).length, 201);
});

test('a scenario that would run more than 1,000,000 steps is refused at the repeat (exit 2)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vsmmu-run-'));
  try {
    const file = join(dir, 'bomb.yaml');
    writeFileSync(file, noteLoop(100_000, 100_000));
    const r = cli('run', file);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr, `vsmmu: ${file}:6: steps[1].repeat.count: this repeat runs 20,000,000,000 steps (100,000 × 200,000); a scenario runs at most 1,000,000 steps in all\n`);
    assert.throws(() => parseScenario(noteLoop(10_000, 50), 'edge.yaml'), /^UserInputError: edge\.yaml:6: steps\[1\]\.repeat\.count: this repeat runs 1,000,000 steps/);
    assert.equal(parseScenario(noteLoop(9_999, 50), 'ok.yaml').scenario.steps.length, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('alias bombs and deeply nested scenario or platform files are one line, exit 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vsmmu-run-'));
  try {
    const refs = Array.from({ length: 150 }, () => '*n').join(', ');
    const files = {
      'alias.yaml': `name: a\nplatform: { preset: qemu-virt }\nsteps:\n  - note: &n x\n  - note: [${refs}]\n`,
      'deep.yaml': `name: d\nplatform: { preset: qemu-virt }\nsteps: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`,
      'board.yaml': `model: x\nextra: &n [1]\nmore: [${refs}]\n`,
      'deep-board.yaml': `model: x\nmemory: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`,
    };
    for (const [f, t] of Object.entries(files)) writeFileSync(join(dir, f), t);
    const expect: [string[], RegExp][] = [
      [['run', join(dir, 'alias.yaml')], /alias\.yaml:5: aliases expand to too many nodes/],
      [['run', join(dir, 'deep.yaml')], /deep\.yaml:3: nested deeper than 256 levels/],
      [['platform', 'build', join(dir, 'board.yaml'), '--out', join(dir, 'out')], /board\.yaml:3: aliases expand to too many nodes/],
      [['platform', 'build', join(dir, 'deep-board.yaml'), '--out', join(dir, 'out')], /deep-board\.yaml:2: nested deeper than 256 levels/],
    ];
    for (const [args, re] of expect) {
      const r = cli(...args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.doesNotMatch(r.stderr, /internal error|Maximum call stack|    at /);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('lists of names in messages are never empty', () => {
  const text = 'name: t\nplatform: { preset: qemu-virt }\nsteps:\n  - dma: { device: dma0, op: fill, to: 0x1000, length: 16 }\n';
  const { scenario, platform } = parseScenario(text, 'e.yaml');
  assert.throws(() => runScenario(scenario, platform), (e: unknown) => e instanceof UserInputError && /^e\.yaml:4: unknown device 'dma0' \(this scenario has no devices: give endpoints a model under "devices:" or hot-plug one first\)$/.test(e.message));
  assert.throws(
    () => parseScenario('name: t\nplatform: { preset: qemu-virt }\ndevices: { dma0: dma-engine }\nsteps: [ { note: x } ]\n', 'p.yaml'),
    /p\.yaml:3: devices\.dma0: no endpoint named 'dma0' in the platform \(endpoints: host-bridge\)/,
  );
  const noEndpoints = `name: t\nplatform:\n  description:\n    memory: [{ base: 0x40000000, size: 0x10000000 }]\n    cpus: { count: 1 }\n    gic: { version: 3, distributor: { base: 0x08000000, size: 0x10000 }, redistributors: [{ base: 0x080a0000, size: 0x20000 }], msi: none }\n    rootComplexes: [{ name: pcie0, ecam: { base: 0x4010000000 }, mmio32: { base: 0x10000000, size: 0x10000000 } }]\ndevices: { dma0: dma-engine }\nsteps: [ { note: x } ]\n`;
  assert.throws(() => parseScenario(noEndpoints, 'n.yaml'), /n\.yaml:8: devices\.dma0: no endpoint named 'dma0' in the platform \(it describes no endpoints\)/);
});
