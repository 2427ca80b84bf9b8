// The package as a user installs it: `npm pack` (which builds dist/ first), the tarball installed
// into a fresh project, and the `vsmmu` binary run through its node_modules/.bin link — help,
// and the exit codes 0 (clean), 1 (findings), 2 (unusable input). Dependencies come from npm's
// local cache (`--prefer-offline`), as `npm ci` left it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { qemu72Iort } from '../firmware/qemu72-iort.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

test('the packed and installed vsmmu package: the binary (help, exit codes 0/1/2), the library through its subpath exports; no tests or source maps shipped', { timeout: 600_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'vsmmu-installed-'));
  try {
    const packDir = join(dir, 'pack');
    const project = join(dir, 'project');
    execFileSync('mkdir', ['-p', packDir, project]);
    execFileSync('npm', ['pack', '--silent', '--pack-destination', packDir], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
    const tgz = readdirSync(packDir).find((f) => f.endsWith('.tgz'));
    assert.ok(tgz, 'npm pack wrote a tarball');
    const listing = execFileSync('tar', ['-tzf', join(packDir, tgz)], { encoding: 'utf8' });
    assert.match(listing, /package\/dist\/cli\/main\.js/);
    assert.match(listing, /package\/LICENSE/);
    assert.doesNotMatch(listing, /\.map$|test-support|\.test\.js/m);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'user-project', version: '1.0.0', private: true }));
    execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', join(packDir, tgz)], { cwd: project, stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
    const bin = join(project, 'node_modules', '.bin', 'vsmmu');
    assert.ok(existsSync(bin), 'the bin link exists');
    const run = (...args: string[]): { status: number | null; out: string; err: string } => {
      const r = spawnSync(bin, args, { cwd: project, encoding: 'utf8', timeout: 60_000 });
      return { status: r.status, out: r.stdout, err: r.stderr };
    };
    const help = run('--help');
    assert.equal(help.status, 0);
    assert.match(help.out, /Usage: vsmmu/);
    assert.match(help.out, /lint/);
    // 0: a clean IORT; 1: QEMU 7.2's IORT (its ID count off by one); 2: not a firmware table.
    writeFileSync(join(project, 'bad.bin'), Buffer.from('not a table at all, just some bytes'));
    writeFileSync(join(project, 'qemu72.dat'), qemu72Iort());
    const findings = run('lint', 'qemu72.dat');
    assert.equal(findings.status, 1, findings.err);
    const unusable = run('lint', 'bad.bin');
    assert.equal(unusable.status, 2);
    assert.match(unusable.err, /bad\.bin/);
    const built = run('platform', 'build', '--preset', 'qemu-virt', '--out', 'out');
    assert.equal(built.status, 0, built.err);
    const clean = run('lint', 'out/IORT.dat', 'out/MADT.dat');
    assert.equal(clean.status, 0, clean.out + clean.err);

    // The library through its subpath exports, as an ES module in the user's project.
    const program = `
      import { GuestMemory, UserInputError } from 'vsmmu';
      import { SmmuV3, DEFAULT_FEATURES, Translator, makeRequest, newResult } from 'vsmmu/smmu';
      import { GicV3, GicIts, GicV2m } from 'vsmmu/intc';
      import { RootComplex } from 'vsmmu/pcie';
      import { VirtioBlk } from 'vsmmu/virtio';
      import { decodeIort, lintFiles } from 'vsmmu/firmware';
      import { loadPreset, buildPlatformArtifacts, Platform } from 'vsmmu/platform';
      import { smmuv3, encodeFields } from 'vsmmu/spec';
      const mem = new GuestMemory();
      mem.addRam(0x4000_0000, 1 << 20);
      const smmu = new SmmuV3(mem, { features: DEFAULT_FEATURES });
      const t = new Translator(mem, DEFAULT_FEATURES);
      t.setStreamTable({ base: 0x4000_0000, log2Size: 4, fmt: 0, split: 0 });
      const res = newResult();
      t.translate(makeRequest(1, null, 0x1000), res);
      const files = buildPlatformArtifacts(loadPreset('qemu-virt', { gicMsi: 'its', smmu: ['pcie0'] }));
      const iort = decodeIort(files['IORT.dat']);
      const ste = encodeFields(smmuv3.ste.STE, { V: 1, CONFIG: 4 }, 8);
      console.log(JSON.stringify({
        classes: [SmmuV3, GicV3, GicIts, GicV2m, RootComplex, VirtioBlk, Platform, UserInputError].map((c) => typeof c),
        fault: smmu.dma(0, null).write(0x4000_0000, new Uint8Array(4)),
        event: res.event && res.event.type,
        iortNodes: iort.nodes.length,
        lint: typeof lintFiles,
        steWords: ste.length,
      }));
    `;
    const lib = spawnSync(process.execPath, ['--input-type=module', '-e', program], { cwd: project, encoding: 'utf8', timeout: 60_000 });
    assert.equal(lib.status, 0, lib.stderr);
    const got = JSON.parse(lib.stdout) as { classes: string[]; fault: unknown; event: number | null; iortNodes: number; lint: string; steWords: number };
    assert.deepEqual(got.classes, Array(8).fill('function'));
    assert.equal(got.fault, null); // SMMUEN = 0: GBPA bypass into RAM
    assert.equal(got.event, 0x04); // zeroed STE: C_BAD_STE
    assert.ok(got.iortNodes >= 3);
    assert.equal(got.lint, 'function');
    assert.equal(got.steWords, 8);
    // Internals are not part of the API: the exports map blocks deep imports.
    const deep = spawnSync(process.execPath, ['--input-type=module', '-e', "import 'vsmmu/dist/smmu/translation/iotlb.js'"], { cwd: project, encoding: 'utf8', timeout: 60_000 });
    assert.notEqual(deep.status, 0);
    assert.match(deep.stderr, /ERR_PACKAGE_PATH_NOT_EXPORTED/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
