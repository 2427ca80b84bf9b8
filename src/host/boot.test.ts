import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { imageVersion } from './boot.js';

const dir = mkdtempSync(join(tmpdir(), 'vsmmu-bootver-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('the kernel release comes from the Image banner (what uname -r says), or null', () => {
  const img = join(dir, 'Image');
  writeFileSync(img, Buffer.concat([Buffer.alloc(4096, 0x90), Buffer.from('Linux version 6.1.0-57-arm64 (debian-kernel@lists.debian.org) (gcc-12)\0'), Buffer.alloc(100)]));
  assert.equal(imageVersion(img), '6.1.0-57-arm64');
  writeFileSync(img, Buffer.alloc(8192, 0x41));
  assert.equal(imageVersion(img), null);
});
