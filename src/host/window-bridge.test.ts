import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { IrqLine, MmioDevice, Serviceable, U64 } from '../memory/types.js';
import { FileWindow, WindowBridge, type WindowIo } from './window-bridge.js';

const dir = mkdtempSync(join(tmpdir(), 'vsmmu-bridge-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// A toy device: BASE (64-bit, 0x08), PROD (0x10, doorbell), CONS (0x14, device-owned: follows PROD
// once BASE is set), CTRL (0x18, doorbell) and CTRLACK (0x1c, mirrors CTRL with bit 31 masked),
// SEL (0x20, selector) and DATA (0x24, reads back SEL * 2). ID at 0x00 is read-only.
class ToyDevice implements MmioDevice, Serviceable {
  readonly name = 'toy';
  readonly mmioSize = 0x100;
  log: string[] = [];
  base = 0;
  prod = 0;
  cons = 0;
  ctrl = 0;
  sel = 0;
  data = 0;
  pendingWork = 0;
  serviced = 0;
  irq: IrqLine | null = null;
  read(offset: number): number {
    switch (offset) {
      case 0x00: return 0x1234_5678;
      case 0x10: return this.prod;
      case 0x14: return this.cons;
      case 0x18: return this.ctrl;
      case 0x1c: return this.ctrl & 0x7fff_ffff;
      case 0x20: return this.sel;
      case 0x24: return this.sel * 2;
      default: return 0;
    }
  }
  write(offset: number, _size: 1 | 2 | 4, value: number): void {
    this.log.push(`w${offset.toString(16)}=${value.toString(16)}`);
    if (offset === 0x10) {
      this.prod = value;
      if (this.base !== 0) {
        this.pendingWork = value - this.cons;
        this.irq?.pulse();
      }
    } else if (offset === 0x18) this.ctrl = value >>> 0;
    else if (offset === 0x20) this.sel = value;
    else if (offset === 0x24) this.data = value;
  }
  read64(offset: number, out: U64): void {
    out.lo = offset === 0x08 ? this.base % 2 ** 32 : 0;
    out.hi = offset === 0x08 ? Math.floor(this.base / 2 ** 32) : 0;
  }
  write64(offset: number, lo: number, hi: number): void {
    this.log.push(`q${offset.toString(16)}=${hi.toString(16)}:${lo.toString(16)}`);
    if (offset === 0x08) this.base = hi * 2 ** 32 + lo;
  }
  service(): boolean {
    this.serviced++;
    if (this.pendingWork > 0) {
      this.cons++; // one unit of work per step: bounded
      this.pendingWork--;
    }
    return this.pendingWork > 0;
  }
}

const REGS = [
  { offset: 0x00, width: 4 },
  { offset: 0x08, width: 8 },
  { offset: 0x10, width: 4 },
  { offset: 0x14, width: 4 },
  { offset: 0x18, width: 4 },
  { offset: 0x1c, width: 4 },
  { offset: 0x20, width: 4 },
  { offset: 0x24, width: 4 },
] as const;

function setup(at = 0x1000): { win: FileWindow; dev: ToyDevice; bridge: WindowBridge; delivered: string[] } {
  const win = new FileWindow(join(dir, `w${Math.random().toString(36).slice(2)}`), 0x4000);
  const dev = new ToyDevice();
  const bridge = new WindowBridge(win, [{ device: dev, at, registers: REGS, applyFirst: [0x20], applyLast: [0x18, 0x10] }]);
  const delivered: string[] = [];
  dev.irq = bridge.irqLine(() => {
    // What a guest handler would read when the interrupt arrives.
    delivered.push(`cons=${guestRead(win, at + 0x14)}`);
  });
  bridge.start();
  return { win, dev, bridge, delivered };
}

function guestWrite(io: WindowIo, off: number, v: number, width: 4 | 8 = 4): void {
  const b = Buffer.alloc(width);
  if (width === 4) b.writeUInt32LE(v >>> 0);
  else b.writeBigUInt64LE(BigInt(v));
  io.write(off, b);
}

function guestRead(io: WindowIo, off: number, width: 4 | 8 = 4): number {
  const b = Buffer.alloc(width);
  io.read(off, b);
  return width === 4 ? b.readUInt32LE() : Number(b.readBigUInt64LE());
}

describe('WindowBridge', () => {
  test('start() publishes the device values (ID registers) into the window', () => {
    const { win } = setup();
    assert.equal(guestRead(win, 0x1000), 0x1234_5678);
    assert.equal(guestRead(win, 0x0), 0, 'bytes outside the device block untouched');
    win.close();
  });

  test('a poll with no guest store applies nothing and writes nothing back', () => {
    const { win, dev, bridge } = setup();
    assert.equal(bridge.poll(), 0);
    assert.deepEqual(dev.log, []);
    assert.equal(bridge.stats.writeBacks, REGS.length, 'only the start() publication');
    win.close();
  });

  test('doorbells are applied after the other registers that changed in the same poll, selectors first', () => {
    const { win, dev, bridge } = setup();
    // The guest stores in this order between two polls: doorbell first in address order.
    guestWrite(win, 0x1010, 3); // PROD (doorbell)
    guestWrite(win, 0x1018, 1); // CTRL (doorbell)
    guestWrite(win, 0x1024, 7); // DATA
    guestWrite(win, 0x1008, 0x1_2345_6000, 8); // BASE (64-bit)
    guestWrite(win, 0x1020, 5); // SEL (selector)
    assert.equal(bridge.poll(), 5);
    assert.deepEqual(dev.log, ['w20=5', 'q8=1:23456000', 'w24=7', 'w18=1', 'w10=3']);
    win.close();
  });

  test('a 64-bit register is one write64 with both halves', () => {
    const { win, dev, bridge } = setup();
    guestWrite(win, 0x100c, 0xabc); // only the high half changes
    bridge.poll();
    assert.deepEqual(dev.log, ['q8=abc:0']);
    assert.equal(dev.base, 0xabc * 2 ** 32);
    win.close();
  });

  test('device-owned values are in the window before the interrupt of the same poll is delivered', () => {
    const { win, dev, bridge, delivered } = setup();
    guestWrite(win, 0x1008, 0x4000_0000, 8);
    guestWrite(win, 0x1010, 1);
    bridge.poll();
    // The PROD write raised the interrupt; service() consumed one entry; the handler saw CONS = 1.
    assert.equal(dev.cons, 1);
    assert.deepEqual(delivered, ['cons=1']);
    assert.equal(bridge.stats.delivered, 1);
    win.close();
  });

  test('service() is called on every poll and its effects are written back', () => {
    const { win, dev, bridge } = setup();
    guestWrite(win, 0x1008, 0x4000_0000, 8);
    guestWrite(win, 0x1010, 4);
    for (let i = 0; i < 5; i++) bridge.poll();
    assert.equal(dev.serviced, 5);
    assert.equal(guestRead(win, 0x1014), 4);
    win.close();
  });

  test('values the device changes (masked bits, acknowledgements) replace what the guest stored', () => {
    const { win, bridge } = setup();
    guestWrite(win, 0x1018, 0x8000_0003);
    guestWrite(win, 0x1000, 0xdead); // read-only ID register: the device keeps its value
    bridge.poll();
    assert.equal(guestRead(win, 0x101c), 3, 'CTRLACK mirrors CTRL with bit 31 masked');
    assert.equal(guestRead(win, 0x1018), 0x8000_0003, 'CTRL keeps the stored value');
    assert.equal(guestRead(win, 0x1000), 0x1234_5678);
    win.close();
  });

  test('several assertions of one line in one poll are one delivery; a new poll delivers again', () => {
    const { win, dev, bridge, delivered } = setup();
    bridge.poll();
    dev.irq!.pulse();
    dev.irq!.pulse();
    dev.irq!.setLevel(true);
    bridge.poll();
    assert.equal(delivered.length, 1);
    dev.irq!.setLevel(true); // still asserted: no new edge
    bridge.poll();
    assert.equal(delivered.length, 1);
    dev.irq!.setLevel(false);
    dev.irq!.setLevel(true);
    bridge.poll();
    assert.equal(delivered.length, 2);
    win.close();
  });

  test('bad register lists are rejected at construction', () => {
    const win = new FileWindow(join(dir, 'bad'), 0x1000);
    const dev = new ToyDevice();
    assert.throws(() => new WindowBridge(win, [{ device: dev, at: 0, registers: [{ offset: 0x0c, width: 8 }] }]), /misaligned/);
    assert.throws(() => new WindowBridge(win, [{ device: dev, at: 0, registers: [{ offset: 0x100, width: 4 }] }]), /outside/);
    assert.throws(
      () => new WindowBridge(win, [
        { device: dev, at: 0, registers: [{ offset: 0x0, width: 4 }] },
        { device: new ToyDevice(), at: 0, registers: [{ offset: 0x0, width: 4 }] },
      ]),
      /overlap/,
    );
    win.close();
  });
});
