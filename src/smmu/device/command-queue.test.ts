// Per-command tests of the command-queue consumer (IHI 0070 chapter 4, §7.1 errors) against a
// recording Invalidator, plus a fast-check fuzz of arbitrary queue contents.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { GuestMemory } from '../../memory/guest-memory.js';
import type { MsiOutcome } from '../../memory/types.js';
import { encodeCommand, type CmdFieldName, type CommandName } from '../../spec/smmuv3/commands.js';
import { CERROR } from '../../spec/smmuv3/registers.js';
import { DEFAULT_FEATURES, QEMU_7_2_FEATURES, type SmmuFeatures } from '../features.js';
import { CommandQueue } from './command-queue.js';
import { SmmuInterrupts, unconnectedLines } from './interrupts.js';
import type { Invalidator } from '../translation/invalidation.js';
import type { TlbiOperand } from '../translation/types.js';
import { RegisterState } from './register-state.js';

const Q = 0x10000; // queue base

class Recorder implements Invalidator {
  calls: string[] = [];
  private op(o: TlbiOperand): string {
    const a = (BigInt(o.addrHi) << 32n) | BigInt(o.addrLo);
    return `vmid=${o.vmid} asid=${o.asid} addr=0x${a.toString(16)} leaf=${o.leaf} tg=${o.tg} num=${o.num} scale=${o.scale} ttl=${o.ttl}`;
  }
  cfgiSte(sid: number, leaf: boolean): void { this.calls.push(`cfgiSte ${sid} ${leaf}`); }
  cfgiSteRange(sid: number, range: number): void { this.calls.push(`cfgiSteRange ${sid} ${range}`); }
  cfgiCd(sid: number, ssid: number, leaf: boolean): void { this.calls.push(`cfgiCd ${sid} ${ssid} ${leaf}`); }
  cfgiCdAll(sid: number): void { this.calls.push(`cfgiCdAll ${sid}`); }
  cfgiAll(): void { this.calls.push('cfgiAll'); }
  tlbiNhAll(vmid: number): void { this.calls.push(`tlbiNhAll ${vmid}`); }
  tlbiNhAsid(vmid: number, asid: number): void { this.calls.push(`tlbiNhAsid ${vmid} ${asid}`); }
  tlbiNhVa(o: TlbiOperand): void { this.calls.push(`tlbiNhVa ${this.op(o)}`); }
  tlbiNhVaa(o: TlbiOperand): void { this.calls.push(`tlbiNhVaa ${this.op(o)}`); }
  tlbiEl2All(): void { this.calls.push('tlbiEl2All'); }
  tlbiEl2Asid(asid: number): void { this.calls.push(`tlbiEl2Asid ${asid}`); }
  tlbiEl2Va(o: TlbiOperand): void { this.calls.push(`tlbiEl2Va ${this.op(o)}`); }
  tlbiEl2Vaa(o: TlbiOperand): void { this.calls.push(`tlbiEl2Vaa ${this.op(o)}`); }
  tlbiS12Vmall(vmid: number): void { this.calls.push(`tlbiS12Vmall ${vmid}`); }
  tlbiS2Ipa(o: TlbiOperand): void { this.calls.push(`tlbiS2Ipa ${this.op(o)}`); }
  tlbiNsnhAll(): void { this.calls.push('tlbiNsnhAll'); }
}

function setup(features: SmmuFeatures = DEFAULT_FEATURES, log2 = 4) {
  const mem = new GuestMemory();
  mem.addRam(0, 0x40000);
  const regs = new RegisterState();
  const msis: [number, number][] = [];
  const irq = new SmmuInterrupts(regs, features, unconnectedLines(), {
    msiWrite: (a, d): MsiOutcome => {
      msis.push([a, d]);
      return mem.write32(a, d) ? 'memory' : 'aborted';
    },
  }, null);
  const rec = new Recorder();
  const stalls: string[] = [];
  const cq = new CommandQueue(mem, regs, features, irq, rec, {
    resume: (sid, stag, retry, abort) => stalls.push(`resume ${sid} ${stag} ${retry} ${abort}`),
    stallTerm: (sid) => stalls.push(`term ${sid}`),
    priResp: () => {},
  });
  regs.set('CMDQ_BASE', Q | log2);
  regs.set('CR0', 0x8 | 0x1); // CMDQEN | SMMUEN
  let prod = 0;
  const push = (cmd: [bigint, bigint]): void => {
    const slot = Q + (prod & ((1 << log2) - 1)) * 16;
    mem.write64(slot, Number(cmd[0] & 0xffff_ffffn), Number(cmd[0] >> 32n));
    mem.write64(slot + 8, Number(cmd[1] & 0xffff_ffffn), Number(cmd[1] >> 32n));
    prod = (prod + 1) & ((2 << log2) - 1);
  };
  const run = (): void => {
    regs.set('CMDQ_PROD', prod);
    cq.process();
  };
  const cons = (): number => regs.get('CMDQ_CONS');
  return { mem, regs, irq, rec, cq, push, run, cons, msis, stalls };
}

function one(name: CommandName, fields: Partial<Record<CmdFieldName, number | bigint>>, features?: SmmuFeatures) {
  const s = setup(features);
  s.push(encodeCommand(name, fields));
  s.run();
  return s;
}

test('configuration invalidations reach the invalidator with their operands', () => {
  assert.deepEqual(one('CFGI_STE', { SID: 8, LEAF: 1 }).rec.calls, ['cfgiSte 8 true']);
  assert.deepEqual(one('CFGI_STE_RANGE', { SID: 0x100, RANGE: 7 }).rec.calls, ['cfgiSteRange 256 7']);
  assert.deepEqual(one('CFGI_STE_RANGE', { RANGE: 31 }).rec.calls, ['cfgiAll']);
  assert.deepEqual(one('CFGI_CD', { SID: 3, SSID: 9, LEAF: 0 }).rec.calls, ['cfgiCd 3 9 false']);
  assert.deepEqual(one('CFGI_CD_ALL', { SID: 4 }).rec.calls, ['cfgiCdAll 4']);
});

test('TLB invalidations: NH_ALL/ASID/VA/VAA, S12_VMALL, S2_IPA, NSNH_ALL', () => {
  assert.deepEqual(one('TLBI_NH_ALL', { VMID: 5 }).rec.calls, ['tlbiNhAll 5']);
  assert.deepEqual(one('TLBI_NH_ASID', { VMID: 0, ASID: 1 }).rec.calls, ['tlbiNhAsid 0 1']);
  // Linux RIL form: 4 pages at 0x10000, ASID 1 (qw0 0x0001000000200012, qw1 0x10701).
  const s = setup();
  s.push([0x0001000000200012n, 0x10701n]);
  s.run();
  assert.deepEqual(s.rec.calls, ['tlbiNhVa vmid=0 asid=1 addr=0x10000 leaf=true tg=1 num=0 scale=2 ttl=3']);
  assert.deepEqual(one('TLBI_NH_VAA', { VA: 0xfffffn, LEAF: 1 }).rec.calls, ['tlbiNhVaa vmid=0 asid=-1 addr=0xfffff000 leaf=true tg=0 num=0 scale=0 ttl=0']);
  assert.deepEqual(one('TLBI_S12_VMALL', { VMID: 7 }).rec.calls, ['tlbiS12Vmall 7']);
  assert.deepEqual(one('TLBI_S2_IPA', { VMID: 7, IPA: 0x40000n, TG: 1, TTL: 3 }).rec.calls, ['tlbiS2Ipa vmid=7 asid=-1 addr=0x40000000 leaf=false tg=1 num=0 scale=0 ttl=3']);
  assert.deepEqual(one('TLBI_NSNH_ALL', {}).rec.calls, ['tlbiNsnhAll']);
});

test('range fields are ignored without RIL, and the reserved TG/NUM/SCALE/TTL combination is CERROR_ILL', () => {
  const noRil = one('TLBI_NH_VA', { ASID: 1, VA: 0x10n, TG: 1, SCALE: 2, TTL: 3 }, { ...DEFAULT_FEATURES, ril: false });
  assert.deepEqual(noRil.rec.calls, ['tlbiNhVa vmid=0 asid=1 addr=0x10000 leaf=false tg=0 num=0 scale=0 ttl=0']);
  const bad = one('TLBI_NH_VA', { ASID: 1, VA: 0x10n, TG: 1 });
  assert.deepEqual(bad.rec.calls, []);
  assert.equal(bad.cons() >>> 24, CERROR.ILL);
});

test('commands for features that are not implemented are CERROR_ILL', () => {
  const q = QEMU_7_2_FEATURES; // no S2, no HYP, no ATS, no PRI, no stall
  for (const [name, f] of [
    ['TLBI_S12_VMALL', q], ['TLBI_S2_IPA', q], ['TLBI_EL2_ALL', DEFAULT_FEATURES], ['ATC_INV', DEFAULT_FEATURES],
    ['PRI_RESP', DEFAULT_FEATURES], ['RESUME', DEFAULT_FEATURES], ['STALL_TERM', DEFAULT_FEATURES],
    ['TLBI_EL3_ALL', DEFAULT_FEATURES], ['CFGI_VMS_PIDM', DEFAULT_FEATURES], ['DPTI_ALL', DEFAULT_FEATURES], ['TLBI_SNH_ALL', DEFAULT_FEATURES],
  ] as [CommandName, SmmuFeatures][]) {
    const s = one(name, {}, f);
    assert.equal(s.cons(), (CERROR.ILL << 24) | 0, name);
    assert.equal(s.irq.active() & 1, 1, `${name} activates GERROR.CMDQ_ERR`);
  }
  const ssec = one('CFGI_STE', { SID: 1, SSEC: 1 });
  assert.equal(ssec.cons() >>> 24, CERROR.ILL);
  const reserved = setup();
  reserved.push([0x08n, 0n]);
  reserved.run();
  assert.equal(reserved.cons() >>> 24, CERROR.ILL);
});

test('HYP profile accepts TLBI_EL2_*; stall profile accepts RESUME/STALL_TERM', () => {
  assert.deepEqual(one('TLBI_EL2_ASID', { ASID: 3 }, { ...DEFAULT_FEATURES, hyp: true }).rec.calls, ['tlbiEl2Asid 3']);
  const st = one('RESUME', { SID: 2, STAG: 9, AC: 1 }, { ...DEFAULT_FEATURES, stallModel: 'stall', termModel: false });
  assert.deepEqual(st.stalls, ['resume 2 9 true false']);
  assert.equal(st.cons(), 1);
});

test('CMD_SYNC CS=IRQ writes MSIData to MSIAddr (Linux MSI polling); CS=SEV signals; CS=3 is ILL', () => {
  const s = setup();
  s.mem.write32(0x20000, 0xdeadbeef);
  s.push(encodeCommand('SYNC', { CS: 1, MSH: 3, MSIATTR: 0xf, MSIDATA: 0, MSIADDR: 0x20000n >> 2n }));
  s.push(encodeCommand('SYNC', { CS: 2 }));
  s.run();
  assert.deepEqual(s.msis, [[0x20000, 0]]);
  assert.equal(s.mem.read32(0x20000), 0);
  assert.equal(s.irq.counts.sev, 1);
  assert.equal(s.cons(), 2);
  const bad = one('SYNC', { CS: 3 });
  assert.equal(bad.cons() >>> 24, CERROR.ILL);
});

test('CMDQ error stops processing until GERRORN is toggled; Linux recovery overwrites the slot with CMD_SYNC', () => {
  const s = setup();
  s.push(encodeCommand('CFGI_STE', { SID: 1, LEAF: 1 }));
  s.push([0x0ffn, 0n]); // reserved opcode at index 1
  s.push(encodeCommand('CFGI_STE', { SID: 2, LEAF: 1 }));
  s.run();
  assert.deepEqual(s.rec.calls, ['cfgiSte 1 true']);
  assert.equal(s.cons(), (CERROR.ILL << 24) | 1);
  s.run(); // still stopped
  assert.deepEqual(s.rec.calls, ['cfgiSte 1 true']);
  // Linux: read CONS, overwrite the slot at CONS with CMD_SYNC, then GERRORN = GERROR.
  const sync = encodeCommand('SYNC', { CS: 0 });
  s.mem.write64(Q + 16, Number(sync[0]), 0);
  s.mem.write64(Q + 24, 0, 0);
  s.regs.set('GERRORN', s.regs.get('GERROR'));
  s.cq.process();
  assert.deepEqual(s.rec.calls, ['cfgiSte 1 true', 'cfgiSte 2 true']);
  assert.equal(s.cons(), 3);
});

test('a command fetch abort is CERROR_ABT', () => {
  const s = setup();
  s.regs.set('CMDQ_BASE', 0x80000 | 4); // outside RAM
  s.regs.set('CMDQ_PROD', 1);
  s.cq.process();
  assert.equal(s.cons() >>> 24, CERROR.ABT);
});

test('fuzz: any queue contents and PROD values end in commands or errors, bounded by one pass', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })), { maxLength: 40 }), fc.integer({ min: 0, max: 0xfffff }), fc.integer({ min: 0, max: 0xfffff }), (cmds, prod, cons) => {
      const s = setup(DEFAULT_FEATURES, 5);
      for (const c of cmds) s.push(c);
      s.regs.set('CMDQ_CONS', cons & 0x3f);
      s.regs.set('CMDQ_PROD', prod);
      s.cq.process();
      assert.ok(s.cq.stats.executed + s.cq.stats.errors <= 32);
      const c = s.cons();
      assert.ok((c & 0xfffff) < 64);
    }),
    { numRuns: 300 },
  );
});

test('IDR0.SEV: a full command queue that becomes non-full sends a wake-up event', () => {
  const s = setup(DEFAULT_FEATURES, 2); // 4 entries
  for (let i = 0; i < 4; i++) s.push(encodeCommand('CFGI_STE', { SID: i, LEAF: 1 }));
  s.run();
  assert.equal(s.cons(), 4);
  assert.equal(s.irq.counts.sev, 1);
  const noSev = setup({ ...DEFAULT_FEATURES, sev: false }, 2);
  for (let i = 0; i < 4; i++) noSev.push(encodeCommand('CFGI_STE', { SID: i, LEAF: 1 }));
  noSev.run();
  assert.equal(noSev.irq.counts.sev, 0);
});

test('CMD_SYNC MSIAddress: the zero check covers all of [55:2]; the address is truncated to the OAS (§4.7.3)', () => {
  const s = setup(); // OAS 48
  s.push(encodeCommand('SYNC', { CS: 1, MSIADDR: (1n << 53n) >> 2n })); // only bit 53 set
  s.push(encodeCommand('SYNC', { CS: 1, MSIADDR: ((1n << 40n) | 0x20000n) >> 2n }));
  s.push(encodeCommand('SYNC', { CS: 1, MSIADDR: 0n })); // zero: no MSI
  s.run();
  assert.deepEqual(s.msis, [[0, 0], [2 ** 40 + 0x20000, 0]]);
  assert.equal(s.cons(), 3);
});
