// The hosted SMMU driven the way Linux drives it, through a register window file and a shared RAM
// file only (no QEMU): what the guest would read back, in what order, and when interrupts go out.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadPreset } from '../platform/presets/index.js';
import { HOSTED_WINDOW } from '../platform/presets/qemu-hosted.js';
import { CR0, GERROR, IRQ_CTRL, REG } from '../spec/smmuv3/registers.js';
import { OP } from '../spec/smmuv3/commands.js';
import { HOSTED_FEATURES } from './profile.js';
import { HostedMachine } from './hosted-machine.js';
import { sharedFileMemory } from './shared-ram.js';
import { FileWindow } from './window-bridge.js';

const dir = mkdtempSync(join(tmpdir(), 'vsmmu-hosted-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const RAM = 0x4000_0000;
const CMDQ = RAM + 0x1_0000;

function rig(): { m: HostedMachine; win: FileWindow; spis: { intid: number; gerror: number }[]; close(): void } {
  const ramPath = join(dir, `ram${Math.random().toString(36).slice(2)}`);
  writeFileSync(ramPath, Buffer.alloc(0x10_0000));
  const { memory, backing } = sharedFileMemory(ramPath, RAM);
  const win = new FileWindow(join(dir, `win${Math.random().toString(36).slice(2)}`), HOSTED_WINDOW.size);
  const spis: { intid: number; gerror: number }[] = [];
  const desc = { ...loadPreset('qemu-hosted'), virtioMmio: [] };
  const m = new HostedMachine({
    desc,
    memory,
    window: win,
    windowBase: HOSTED_WINDOW.base,
    features: HOSTED_FEATURES,
    smmuIrqs: 'wired',
    // The guest's handler runs when the SPI is pended: record what it would read then.
    interrupts: { pendSpi: (intid) => spis.push({ intid, gerror: rd(win, REG.GERROR) }), msi: () => assert.fail('no MSI expected') },
    devices: [],
  });
  m.bridge.start();
  return { m, win, spis, close: () => (win.close(), backing.close()) };
}

function rd(win: FileWindow, off: number): number {
  const b = Buffer.alloc(4);
  win.read(off, b);
  return b.readUInt32LE();
}
function wr(win: FileWindow, off: number, v: number | bigint, width: 4 | 8 = 4): void {
  const b = Buffer.alloc(width);
  if (width === 4) b.writeUInt32LE(Number(v) >>> 0);
  else b.writeBigUInt64LE(BigInt(v));
  win.write(off, b);
}

function command(m: HostedMachine, index: number, op: number): void {
  m.smmu.mem.write64(CMDQ + index * 16, op, 0);
  m.smmu.mem.write64(CMDQ + index * 16 + 8, 0, 0);
}

test('ID registers are in the window before the guest starts', () => {
  const { m, win, close } = rig();
  assert.equal(rd(win, REG.IDR0), m.smmu.idRegs.idr0);
  assert.notEqual(rd(win, REG.IDR0), 0);
  assert.equal(rd(win, REG.IDR5), m.smmu.idRegs.idr5);
  close();
});

test('CMDQ_BASE with RA (bit 62) set, then CR0.CMDQEN in the same poll: the queue works at the masked address', () => {
  const { m, win, close } = rig();
  wr(win, REG.CMDQ_BASE, (1n << 62n) | BigInt(CMDQ) | 4n, 8); // RA | ADDR | LOG2SIZE 4
  wr(win, REG.CR0, 1 << CR0.CMDQEN.lsb);
  m.bridge.poll();
  assert.equal(rd(win, REG.CR0ACK), 1 << CR0.CMDQEN.lsb, 'CR0ACK written back');
  command(m, 0, OP.SYNC);
  command(m, 1, OP.SYNC);
  wr(win, REG.CMDQ_PROD, 2);
  m.bridge.poll();
  assert.equal(rd(win, REG.CMDQ_CONS), 2, 'both CMD_SYNCs consumed, CONS visible to the guest');
  assert.equal(m.smmu.cmdq.stats.syncs, 2);
  close();
});

test('a command error: GERROR is in the window when the gerror interrupt is delivered', () => {
  const { m, win, spis, close } = rig();
  wr(win, REG.CMDQ_BASE, BigInt(CMDQ) | 4n, 8);
  wr(win, REG.IRQ_CTRL, 1 << IRQ_CTRL.GERROR_IRQEN.lsb);
  wr(win, REG.CR0, 1 << CR0.CMDQEN.lsb);
  m.bridge.poll();
  command(m, 0, 0x7f); // not an opcode: CERROR_ILL
  wr(win, REG.CMDQ_PROD, 1);
  m.bridge.poll();
  const gerrorSpi = loadPreset('qemu-hosted').smmus[0]!.interrupts.gerror!.spi + 32;
  assert.deepEqual(spis, [{ intid: gerrorSpi, gerror: 1 << GERROR.CMDQ_ERR.lsb }]);
  assert.equal(rd(win, REG.CMDQ_CONS) >>> 24, 1, 'CMDQ_CONS.ERR = CERROR_ILL');
  close();
});
