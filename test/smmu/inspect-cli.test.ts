// `vsmmu inspect` end to end: a guest-RAM image built by the test (stream table, CD and stage-1
// tables written with the spec encoders, command and event queue contents) in a sparse 300 MiB
// file, a REGS.json, and the CLI run as a child process; JSON contract and exit codes checked.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, mkdtempSync, openSync, writeSync, closeSync, ftruncateSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GuestMemory } from '../../src/memory/guest-memory.js';
import { encodeCommand } from '../../src/spec/smmuv3/commands.js';
import { emptyEvent, encodeEvent, EVT } from '../../src/spec/smmuv3/events.js';
import { DomainBuilder, PTE_RO, PTE_RW } from './linux-domain.js';

const BASE = 0x4000_0000;
const IMAGE_SIZE = 300 * 1024 * 1024;
const TABLES = 0x1000_0000; // offset inside the image where the structures live (256 MiB in)
const CHUNK = 0x40_0000;

const dir = mkdtempSync(join(tmpdir(), 'vsmmu-inspect-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function buildImage() {
  const mem = new GuestMemory();
  const chunk = mem.addRam(BASE + TABLES, CHUNK);
  const b = new DomainBuilder(mem, BASE + TABLES, CHUNK);
  const st = b.linearStreamTable(5); // 32 STEs
  const pgd = b.newPgd();
  for (let i = 0; i < 4; i++) b.map4k(pgd, 0x100000 + i * 0x1000, 0x4800_0000 + i * 0x1000, PTE_RW);
  b.map4k(pgd, 0x200000, 0x4900_0000, PTE_RO);
  const cd = b.attachS1(st.base, 8, 1, pgd, 5);
  b.writeWords(st.base + 9 * 64, b.bypassSte());
  // SID 10: the same tables through a CD with R = 0 (faults terminate without a record, §5.4).
  const cdQuiet = b.alloc(64, 64);
  const quiet = b.linuxCd(2, pgd, 5);
  quiet[0] = quiet[0]! & ~(1n << 45n);
  b.writeWords(cdQuiet, quiet);
  b.writeWords(st.base + 10 * 64, b.s1Ste(cdQuiet));
  // Command queue (16 entries): CONS 1, PROD 3 -> CFGI_STE(8) and CMD_SYNC pending.
  const cmdq = b.alloc(256, 256);
  b.writeWords(cmdq + 16, encodeCommand('CFGI_STE', { SID: 8, LEAF: 1 }));
  b.writeWords(cmdq + 32, encodeCommand('SYNC', { CS: 2, MSH: 3, MSIATTR: 0xf }));
  // Event queue (8 entries): one F_TRANSLATION record at index 0.
  const evtq = b.alloc(256, 256);
  const ev = { ...emptyEvent(), type: EVT.F_TRANSLATION, sid: 8, rnw: false, inputLo: 0x300000 };
  const record = encodeEvent(ev);
  b.writeWords(evtq, record);
  const path = join(dir, 'ram.img');
  const fd = openSync(path, 'w');
  ftruncateSync(fd, IMAGE_SIZE); // sparse: only the structures are real data
  writeSync(fd, chunk, 0, chunk.length, TABLES);
  closeSync(fd);
  const regs = {
    CR0: '0xd',
    CR2: 2,
    STRTAB_BASE: '0x' + st.strtabBase.toString(16),
    STRTAB_BASE_CFG: st.strtabBaseCfg,
    CMDQ_BASE: '0x' + (BigInt(cmdq) | 4n).toString(16),
    CMDQ_PROD: 3,
    CMDQ_CONS: 1,
    EVENTQ_BASE: '0x' + (BigInt(evtq) | 3n).toString(16),
    EVENTQ_PROD: 1,
    EVENTQ_CONS: 0,
  };
  const regsPath = join(dir, 'regs.json');
  writeFileSync(regsPath, JSON.stringify(regs));
  return { path, regsPath, cd, pgd, record, st };
}

const img = buildImage();

function run(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'inspect', ...args], { encoding: 'utf8', cwd: join(import.meta.dirname, '../..') });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('inspect --translate --json: success with walk steps, and a fault with its event record', () => {
  const r = run(['--ram', `${img.path}@0x${BASE.toString(16)}`, '--regs', img.regsPath, '--translate', '8:0x101234:w', '--translate', '8:0x300000', '--translate', '8:0x200000:w', '--translate', '9:0x5000', '--json']);
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  const [ok, miss, ro, byp] = j.translations;
  assert.deepEqual(
    { sid: ok.sid, ssid: ok.ssid, iova: ok.iova, access: ok.access, ok: ok.ok, pa: ok.pa, size: ok.size, perm: ok.perm },
    { sid: 8, ssid: null, iova: '0x101234', access: 'w', ok: true, pa: '0x48001234', size: 4096, perm: 'rwx' },
  );
  const s1 = ok.steps.filter((s: { kind: string }) => s.kind === 's1');
  assert.equal(s1.length, 4, 'four stage-1 levels');
  assert.deepEqual(s1.map((s: { level: number }) => s.level), [0, 1, 2, 3]);
  assert.equal(s1[0].table, '0x' + img.pgd.toString(16));
  assert.equal(s1[3].index, 0x101);
  assert.equal(BigInt(s1[3].value), 0x48001000n | 0xf47n);
  assert.ok(ok.steps.some((s: { kind: string; address: string }) => s.kind === 'ste' && s.address === '0x' + (img.st.base + 8 * 64).toString(16)));
  assert.equal(miss.ok, false);
  assert.equal(miss.event.type, 'F_TRANSLATION');
  assert.equal(miss.event.code, 0x10);
  assert.equal(miss.event.record.length, 4);
  assert.equal(miss.event.record[0], '0x' + ((8n << 32n) | 0x10n).toString(16));
  assert.equal(miss.event.record[2], '0x300000');
  assert.ok(miss.event.record.every((h: string) => /^0x[0-9a-f]+$/.test(h)));
  assert.equal(ro.ok, false);
  assert.equal(ro.event.type, 'F_PERMISSION');
  assert.equal(byp.ok, true);
  assert.equal(byp.pa, '0x5000');
});

test('inspect --streams --mappings --queues --json', () => {
  const r = run(['--ram', `${img.path}@${BASE}`, '--regs', img.regsPath, '--streams', '--mappings', '8', '--queues', '--json']);
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  // PTE_RW/PTE_RO have no XN bits (Linux adds them only for IOMMU_NOEXEC): executable too.
  assert.deepEqual(j.streams.map((s: { sid: number; config: string }) => [s.sid, s.config]), [[8, 's1'], [9, 'bypass'], [10, 's1']]);
  assert.match(j.streams[1].reason, /bypass/);
  const s8 = j.streams[0];
  assert.equal(s8.ste.address, '0x' + (img.st.base + 8 * 64).toString(16));
  assert.equal(s8.cds.length, 1);
  assert.equal(BigInt(s8.cds[0].fields.ASID), 1n);
  assert.equal(s8.cds[0].address, '0x' + img.cd.toString(16));
  assert.deepEqual(
    j.mappings[0].ranges.map((m: { iova: string; pa: string; size: number; perm: string }) => [m.iova, m.pa, m.size, m.perm]),
    [['0x100000', '0x48000000', 0x4000, 'rwx'], ['0x200000', '0x49000000', 0x1000, 'rx']],
  );
  assert.deepEqual(j.queues.cmdq.entries.map((e: { command: string }) => e.command), ['CMD_CFGI_STE', 'CMD_SYNC']);
  assert.equal(j.queues.cmdq.entries[0].fields.SID, '0x8');
  assert.equal(j.queues.eventq.entries.length, 1);
  assert.equal(j.queues.eventq.entries[0].type, 'F_TRANSLATION');
  assert.deepEqual(j.queues.eventq.entries[0].record, img.record.map((w) => '0x' + w.toString(16)));
});

test('inspect text output renders tables', () => {
  const r = run(['--ram', `${img.path}@${BASE}`, '--regs', img.regsPath, '--streams', '--translate', '8:0x100000']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /Streams/);
  assert.match(r.out, /0x48000000/);
});

test('bad inputs: one clear line and exit 2', () => {
  const cases: [string[], RegExp][] = [
    [['--ram', join(dir, 'missing.img') + '@0x40000000', '--regs', img.regsPath, '--streams'], /missing\.img: no such file/],
    [['--ram', img.path, '--regs', img.regsPath], /expected FILE@BASE/],
    [['--ram', `${img.path}@0x40000000`, '--regs', join(dir, 'nope.json'), '--streams'], /nope\.json: no such file/],
    [['--ram', `${img.path}@0x40000000`, '--regs', writeTmp('bad.json', '{"CR0": '), '--streams'], /malformed JSON/],
    [['--ram', `${img.path}@0x40000000`, '--regs', writeTmp('unk.json', '{"FOO": 1}'), '--streams'], /unknown SMMUv3 register 'FOO'/],
    [['--ram', `${img.path}@0x40000000`, '--regs', writeTmp('val.json', '{"CR0": "zz"}'), '--streams'], /register CR0/],
    [['--ram', `${img.path}@0x40000000`, '--regs', img.regsPath], /nothing to show: give at least one of --streams/],
    [['--ram', `${img.path}@0x40000000`, '--regs', img.regsPath, '--streams', '0x20-0x10'], /--streams 0x20-0x10: range end/],
    [['--ram', `${img.path}@0x40000000`, '--regs', img.regsPath, '--queues', '--limit', 'many'], /--limit/],
    [['--ram', `${img.path}@0x40000000`, '--regs', img.regsPath, '--translate', '8:zz'], /bad IOVA/],
  ];
  for (const [args, re] of cases) {
    const r = run(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, re);
    assert.equal(r.err.trim().split('\n').length, 1, `one line: ${r.err}`);
  }
});

test('a fault that terminates silently says so: recorded false with the reason (CD.R = 0, STE abort, EVENTQEN = 0)', () => {
  const r = run(['--ram', `${img.path}@${BASE}`, '--regs', img.regsPath, '--translate', '10:0x300000', '--translate', '8:0x300000', '--translate', '3:0x1000', '--json']);
  assert.equal(r.code, 0, r.err);
  const [quiet, loud, abort] = JSON.parse(r.out).translations;
  assert.deepEqual([quiet.ok, quiet.recorded, quiet.reason, quiet.event.type, quiet.event.recorded], [false, false, 'CD.R = 0', 'F_TRANSLATION', false]);
  assert.deepEqual([loud.recorded, loud.reason, loud.event.recorded, loud.response], [true, undefined, true, 'abort']);
  assert.deepEqual([abort.ok, abort.event, abort.recorded, abort.reason], [false, null, false, 'STE.Config = abort']);
  const text = run(['--ram', `${img.path}@${BASE}`, '--regs', img.regsPath, '--translate', '10:0x300000', '--translate', '3:0x1000']);
  assert.match(text.out, /Translate SID 0xa 0x300000 \(r\) -> .*terminated silently \(CD\.R = 0\)/);
  assert.match(text.out, /Translate SID 0x3 0x1000 \(r\) -> .*terminated silently \(STE\.Config = abort\)/);
  const regsOff = writeTmp('evq-off.json', JSON.stringify({ ...JSON.parse(readFileSync(img.regsPath, 'utf8')), CR0: '0x9' }));
  const off = JSON.parse(run(['--ram', `${img.path}@${BASE}`, '--regs', regsOff, '--translate', '8:0x300000', '--json']).out).translations[0];
  assert.deepEqual([off.recorded, off.reason], [false, 'event queue disabled (CR0.EVENTQEN = 0)']);
});

test('a table outside every RAM image is answered with the abort the SMMU reports there, and a warning', () => {
  const far = writeTmp('far.json', '{"STRTAB_BASE": "0x900000000", "STRTAB_BASE_CFG": 5}');
  const r = run(['--ram', `${img.path}@0x40000000`, '--regs', far, '--streams', '--translate', '3:0x1000', '--json']);
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.equal(j.streams.length, 32);
  assert.ok(j.streams.every((s: { fault: { type: string; recorded: boolean } }) => s.fault.type === 'F_STE_FETCH' && s.fault.recorded));
  assert.deepEqual([j.translations[0].event.type, j.translations[0].event.fetchAddr], ['F_STE_FETCH', '0x9000000c0']);
  assert.match(j.warnings[0], /0x900000000-0x9000007c7 aborted: outside every RAM image \(.*ram\.img at 0x40000000-0x52bfffff\)/);
  const t = run(['--ram', `${img.path}@0x40000000`, '--regs', far, '--streams']);
  assert.equal(t.code, 0);
  assert.match(t.out, /SIDs 0x0-0x1f +invalid +F_STE_FETCH, SID 0x0, fetch 0x900000000/);
  assert.match(t.err, /^warning: reads of 0x900000000-0x9000007c7 aborted: outside every RAM image/);
});

test('text output for people: hex SIDs, table addresses, decoded events, reasons', () => {
  const r = run(['--ram', `${img.path}@${BASE}`, '--regs', img.regsPath, '--streams', '0-0x1f', '--queues', '--translate', '8:0x300000']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /SIDs 0x0-0x7 +abort +STE.Config = abort/);
  assert.match(r.out, /SID 0x9 +bypass +STE.Config = bypass/);
  assert.match(r.out, /SIDs 0xb-0x1f +abort/);
  assert.ok(r.out.includes(`TTB0 0x${img.pgd.toString(16)} (T0SZ`), 'TTB0 shown as the table address');
  assert.match(r.out, /\[1\] +CMD_CFGI_STE +.*SID=0x8/);
  assert.match(r.out, /\[0\] +F_TRANSLATION, SID 0x8, input 0x300000, write unpriv data/);
  assert.match(r.out, /Translate SID 0x8 0x300000 \(r\) -> F_TRANSLATION, SID 0x8, input 0x300000, read unpriv data, stage 1 class IN/);
  assert.doesNotMatch(r.out, /0x[0-9a-f]{8,} 0x[0-9a-f]+ 0x[0-9a-f]+ 0x[0-9a-f]+/, 'no raw record words');
});

function writeTmp(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}
