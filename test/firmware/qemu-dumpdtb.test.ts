// Live check against the installed QEMU 7.2 (skipped when qemu-system-aarch64 is not installed;
// the unit tier uses the committed dump in fixtures/): QEMU's freshly dumped DTB equals the
// fixture except for the per-boot random seeds, so the fixture-based tests stay honest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { findNode, parseDtb, toDts, type Fdt } from '../../src/firmware/fdt/index.js';

const qemu = 'qemu-system-aarch64';
const haveQemu = spawnSync(qemu, ['--version'], { encoding: 'utf8' }).status === 0;
const fixture = new URL('./fixtures/qemu-7.2-virt-smmuv3-its.dtb.gz', import.meta.url);

function withoutSeeds(t: Fdt): string {
  const chosen = findNode(t.root, '/chosen');
  if (chosen) chosen.props.splice(0, chosen.props.length, ...chosen.props.filter((p) => p.name !== 'rng-seed' && p.name !== 'kaslr-seed'));
  return toDts(t);
}

test('QEMU 7.2 dumpdtb (virt,iommu=smmuv3,gic-version=3,its=on) equals the committed fixture apart from random seeds', { skip: haveQemu ? false : `${qemu} not installed` }, () => {
  const v = spawnSync(qemu, ['--version'], { encoding: 'utf8' }).stdout;
  const dir = mkdtempSync(join(tmpdir(), 'vsmmu-qemu-'));
  try {
    const out = join(dir, 'q.dtb');
    const r = spawnSync(qemu, ['-M', `virt,iommu=smmuv3,gic-version=3,its=on,dumpdtb=${out}`, '-cpu', 'cortex-a57', '-m', '512M', '-display', 'none', '-nic', 'none'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    const live = parseDtb(new Uint8Array(readFileSync(out)));
    const fix = parseDtb(new Uint8Array(gunzipSync(readFileSync(fixture))));
    if (!/version 7\.2\./.test(v)) return; // another QEMU version may lay the tree out differently
    assert.equal(withoutSeeds(live), withoutSeeds(fix));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
