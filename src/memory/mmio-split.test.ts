import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { read64As32, write64As32 } from './mmio-split.js';
import type { U64 } from './types.js';

function recorder(): { log: string[]; read(o: number, s: 4): number; write(o: number, s: 4, v: number): void } {
  const log: string[] = [];
  return {
    log,
    read: (o, s) => (log.push(`r${s}@${o}`), o === 8 ? 0x8000_0001 | 0 : 0xffff_fffe | 0),
    write: (o, s, v) => void log.push(`w${s}@${o}=${(v >>> 0).toString(16)}`),
  };
}

test('a 64-bit read is two 32-bit reads, low word first, unsigned halves', () => {
  const d = recorder();
  const out: U64 = { lo: 0, hi: 0 };
  read64As32(d, 8, out);
  assert.deepEqual(d.log, ['r4@8', 'r4@12']);
  assert.deepEqual(out, { lo: 0x8000_0001, hi: 0xffff_fffe });
});

test('a 64-bit write is two 32-bit writes, low word first', () => {
  const d = recorder();
  write64As32(d, 0x100, 0x1234_5678, 0x9abc_def0);
  assert.deepEqual(d.log, ['w4@256=12345678', 'w4@260=9abcdef0']);
});

test('no device splits a 64-bit access by hand', () => {
  const hand = /out\.hi = this\.read\(offset \+ 4, 4\)|this\.write\(offset \+ 4, 4, hi\)/;
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts') && !p.endsWith('.test.ts') && !p.endsWith('mmio-split.ts') && hand.test(readFileSync(p, 'utf8'))) found.push(p);
    }
  };
  walk('src');
  assert.ok(hand.test('    out.hi = this.read(offset + 4, 4);'), 'the pattern matches a hand split');
  assert.deepEqual(found, []);
});
