// The GDB remote client and `attach` against a small fake GDB stub on 127.0.0.1 that behaves like
// QEMU's: it stops the machine when a debugger connects (and says so with a stop reply), answers
// qSupported, ?, Qqemu.PhyMemMode:1 and `m` reads of guest-physical memory only while stopped,
// and lets the machine run on at `D`/`c`. Memory holds an SMMU register window and tables built
// with the spec encoders; what attach reports must equal offline inspect over the same memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { GuestMemory } from '../memory/guest-memory.js';
import { checksum, decodeBody, framePacket, GdbError, GdbRemote } from './gdb-remote.js';
import { inspectRemote, readSmmuRegisters, regsJsonText, VIRT_SMMU_BASE, writeDump } from './attach.js';
import { inspect, JsonSink, SmmuSnapshot, type InspectRequest } from '../smmu/inspect/inspect.js';
import { loadRam, parseRegisterDump } from '../smmu/inspect/inputs.js';
import { REG } from '../spec/smmuv3/registers.js';
import { deriveIdRegisters } from '../smmu/id-registers.js';
import { DEFAULT_FEATURES } from '../smmu/features.js';
import { DomainBuilder, PTE_RW } from '../../test/smmu/linux-domain.js';

const RAM = 0x4000_0000;

interface Stub {
  server: Server;
  port: number;
  log: string[];
  running: boolean;
  readsWhileRunning: number;
  close(): Promise<void>;
}

/** A QEMU-like GDB stub over `mem`; `mode` 'silent' accepts connections and never answers. */
async function fakeStub(mem: GuestMemory, mode: 'ok' | 'silent' | 'corrupt-once' = 'ok'): Promise<Stub> {
  const st: Stub = { server: null as unknown as Server, port: 0, log: [], running: true, readsWhileRunning: 0, close: async () => {} };
  const socks = new Set<Socket>();
  let corrupted = false;
  const server = createServer((sock) => {
    socks.add(sock);
    sock.setNoDelay(true);
    sock.on('close', () => socks.delete(sock));
    if (mode === 'silent') return;
    let buf = '';
    let phys = false;
    let multiprocess = false;
    const reply = (body: string): void => {
      let f = framePacket(body);
      if (mode === 'corrupt-once' && !corrupted && body.startsWith('PacketSize')) {
        corrupted = true;
        f = f.slice(0, -2) + (f.endsWith('00') ? '11' : '00'); // bad checksum: the client must ask again
        sock.write(f);
        return;
      }
      sock.write(f);
    };
    let last = '';
    st.running = false; // QEMU stops the machine when a debugger attaches
    sock.write(framePacket('T02thread:01;'));
    sock.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      for (;;) {
        if (buf.startsWith('+')) {
          buf = buf.slice(1);
          continue;
        }
        if (buf.startsWith('-')) {
          buf = buf.slice(1);
          sock.write(framePacket(last));
          continue;
        }
        if (buf.startsWith('\x03')) {
          buf = buf.slice(1);
          if (st.running) {
            st.running = false;
            sock.write(framePacket('T02thread:01;'));
          }
          continue;
        }
        const m = /^\$([^#]*)#([0-9a-f]{2})/.exec(buf);
        if (!m) break;
        buf = buf.slice(m[0].length);
        const body = decodeBody(m[1]!);
        assert.equal(checksum(m[1]!), m[2], 'client checksum');
        sock.write('+');
        st.log.push(body);
        let r: string;
        if (body.startsWith('qSupported')) {
          multiprocess = body.includes('multiprocess+');
          r = 'PacketSize=200;qXfer:features:read+;multiprocess+';
        }
        else if (body === '?') r = 'T05thread:p01.01;';
        else if (body === 'Qqemu.PhyMemMode:1') {
          phys = true;
          r = 'OK';
        } else if (body.startsWith('m')) {
          const [a, n] = body.slice(1).split(',').map((x) => parseInt(x, 16)) as [number, number];
          if (st.running) st.readsWhileRunning++;
          const b = new Uint8Array(n);
          r = phys && mem.readBytes(a, b) ? Buffer.from(b).toString('hex') : 'E14';
        } else if (body === 'D') {
          // Like QEMU: in multiprocess mode a bare D is refused and the machine stays stopped.
          if (!multiprocess) st.running = true;
          r = multiprocess ? 'E22' : 'OK';
        } else if (body === 'c') {
          st.running = true;
          continue;
        } else r = '';
        last = r;
        reply(r);
      }
    });
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  st.server = server;
  st.port = (server.address() as { port: number }).port;
  st.close = () => new Promise<void>((res) => {
    for (const s of socks) s.destroy();
    server.close(() => res());
  });
  return st;
}

/** Guest memory: the SMMU window (registers as the guest programmed them) and RAM with tables. */
function machine() {
  const mem = new GuestMemory();
  mem.addRam(RAM, 0x40_0000);
  const b = new DomainBuilder(mem, RAM, 0x40_0000);
  const st = b.linearStreamTable(6);
  const pgd = b.newPgd();
  for (let i = 0; i < 3; i++) b.map4k(pgd, 0x10_0000 + i * 0x1000, 0x4030_0000 + i * 0x1000, PTE_RW);
  b.attachS1(st.base, 0x10, 1, pgd, 5);
  b.writeWords(st.base + 0x11 * 64, b.bypassSte());
  const cmdq = b.alloc(256, 256);
  const win = mem.addRam(VIRT_SMMU_BASE, 0x2_0000, 'smmu');
  const dv = new DataView(win.buffer);
  const set = (name: keyof typeof REG, v: bigint): void => {
    dv.setUint32(REG[name], Number(v & 0xffff_ffffn), true);
    if (v >> 32n) dv.setUint32(REG[name] + 4, Number(v >> 32n), true);
  };
  const ids = deriveIdRegisters(DEFAULT_FEATURES);
  set('IDR0', BigInt(ids.idr0));
  set('IDR1', BigInt(ids.idr1));
  set('IDR3', BigInt(ids.idr3));
  set('IDR5', BigInt(ids.idr5));
  set('AIDR', 1n);
  set('CR0', 0xdn);
  set('STRTAB_BASE', st.strtabBase);
  set('STRTAB_BASE_CFG', BigInt(st.strtabBaseCfg));
  set('CMDQ_BASE', BigInt(cmdq) | 4n);
  set('CMDQ_PROD', 0n);
  return { mem, st, pgd };
}

test('packet framing: checksums, escapes, run-length decoding', () => {
  assert.equal(framePacket('m0,4'), '$m0,4#fd');
  assert.equal(framePacket('a#b'), '$a}\x03b#' + checksum('a}\x03b'));
  assert.equal(decodeBody('0* '), '0000'); // ' ' = 32: three more
  assert.equal(decodeBody('}]'), '}');
});

test('attach over a fake stub: same answer as offline inspect, machine stopped only while reading', async () => {
  const { mem } = machine();
  const stub = await fakeStub(mem);
  const dir = mkdtempSync(join(tmpdir(), 'vsmmu-attach-'));
  try {
    const gdb = await GdbRemote.connect('127.0.0.1', stub.port, { timeoutMs: 2000 });
    await gdb.handshake();
    assert.equal(gdb.packetSize, 0x200);
    assert.match(await gdb.haltReason(), /^T05/);
    await gdb.physicalMemoryMode();
    const regs = await readSmmuRegisters(gdb, VIRT_SMMU_BASE);
    const req: InspectRequest = { streams: true, mappings: true, queues: true, translate: [{ sid: 0x10, ssid: null, iova: 0x10_1234n, access: 'w' as const, priv: false, text: '' }] };
    const parts: string[] = [];
    const { mem: pages, rounds } = await inspectRemote(gdb, regs, req, new JsonSink((s) => parts.push(s)));
    const live = JSON.parse(parts.join('')) as { streams: { sid: number }[]; translations: { pa: string }[] };
    const offline = inspect(new SmmuSnapshot(mem, regs), req);
    assert.deepEqual(live, offline);
    assert.deepEqual(live.streams.map((s) => s.sid), [0x10, 0x11]);
    assert.equal(live.translations[0]?.pa, '0x40301234', JSON.stringify(live.translations[0]));
    assert.ok(rounds >= 3 && rounds <= 10, `${rounds} rounds`);
    // --dump: the pages read, as images offline inspect answers the same from.
    const ram = await writeDump(gdb, dir, regs, pages, null);
    await gdb.detach();
    assert.equal(stub.readsWhileRunning, 0);
    assert.equal(stub.running, true, 'D lets the machine run on');
    assert.ok(stub.log.includes('Qqemu.PhyMemMode:1'));
    const dumped = parseRegisterDump(readFileSync(join(dir, 'REGS.json'), 'utf8'), 'dump');
    assert.equal(regsJsonText(dumped), regsJsonText(regs));
    const images = loadRam(ram.map((r) => ({ path: r.slice(0, r.lastIndexOf('@')), base: Number(r.slice(r.lastIndexOf('@') + 1)) })));
    assert.deepEqual(inspect(new SmmuSnapshot(images, dumped), req), offline);
  } finally {
    await stub.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a corrupted packet is asked for again; a silent stub and a closed port fail in bounded time', async () => {
  const { mem } = machine();
  const bad = await fakeStub(mem, 'corrupt-once');
  try {
    const gdb = await GdbRemote.connect('127.0.0.1', bad.port, { timeoutMs: 2000 });
    await gdb.handshake();
    assert.equal(gdb.packetSize, 0x200);
    await gdb.detach();
  } finally {
    await bad.close();
  }
  const silent = await fakeStub(mem, 'silent');
  try {
    const gdb = await GdbRemote.connect('127.0.0.1', silent.port, { timeoutMs: 200 });
    await assert.rejects(gdb.handshake(), (e: unknown) => e instanceof GdbError && /no answer to 'qSupported.*within 200 ms/.test(e.message));
    gdb.close();
  } finally {
    await silent.close();
  }
  const port = silent.port; // closed now
  await assert.rejects(GdbRemote.connect('127.0.0.1', port, { timeoutMs: 500 }), (e: unknown) => e instanceof GdbError && /ECONNREFUSED/.test(e.message));
});

function cli(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'attach', ...args], { cwd: join(import.meta.dirname, '../..') });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const kill = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.on('close', (code) => {
      clearTimeout(kill);
      resolve({ code, out, err });
    });
  });
}

test('vsmmu attach CLI: text views, and one clear line with exit 2 for a dead stub or no view', async () => {
  const { mem } = machine();
  const stub = await fakeStub(mem);
  const silent = await fakeStub(mem, 'silent');
  try {
    const ok = await cli([`127.0.0.1:${stub.port}`, '--streams', '--translate', '0x10:0x100000']);
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, /SID 0x10 +s1/);
    assert.match(ok.out, /Translate SID 0x10 0x100000 \(r\) -> 0x40300000/);
    assert.equal(stub.running, true);
    const dead = await cli([`127.0.0.1:${silent.port}`, '--streams', '--timeout', '300']);
    assert.equal(dead.code, 2);
    assert.match(dead.err, /^vsmmu: attach: 127\.0\.0\.1:\d+: no answer to 'qSupported.*within 300 ms\n$/);
    const none = await cli([`127.0.0.1:${stub.port}`]);
    assert.equal(none.code, 2);
    assert.match(none.err, /nothing to show/);
  } finally {
    await stub.close();
    await silent.close();
  }
});
