// Enumeration through ECAM the way Linux's generic ECAM host driver does it: a root complex with
// root ports, a switch and a multi-function endpoint; bus numbers assigned depth-first by the
// "guest"; type-0/1 header contents; BAR sizing known answers; bridge windows and memory decoding
// of BARs (MSI-X table reached through a root port's window).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GuestMemory } from '../../src/memory/guest-memory.js';
import { EndpointFunction, PcieDevice, PcieSwitch, RootComplex, formatTopology, topologyTree } from '../../src/pcie/index.js';
import { EcamGuest } from '../support/pcie-fakes.js';

function nvmeLike(name: string): PcieDevice {
  return new PcieDevice(name, [
    { vendorId: 0x1b36, pciDeviceId: 0x0010, classCode: 0x010802, bars: [{ index: 0, size: 0x4000 }], msix: { vectors: 4, tableBar: 0, tableOffset: 0x2000, pbaOffset: 0x3000 } },
  ]);
}

function build(): { rc: RootComplex; g: EcamGuest; sw: PcieSwitch; mf: PcieDevice } {
  const rc = new RootComplex({ name: 'pcie0', segment: 0, buses: { start: 0, end: 0xff }, memory: new GuestMemory() });
  const rp0 = rc.addRootPort('rp0', 1);
  const rp1 = rc.addRootPort('rp1', 2);
  rc.addRootPort('rp2', 3); // empty
  const sw = new PcieSwitch('sw0', { downstreamPorts: 2 });
  rp0.plug(sw, 'cold');
  const mf = new PcieDevice('mf', [
    { vendorId: 0x8086, pciDeviceId: 0x1000, classCode: 0x020000, bars: [{ index: 0, size: 0x10_0000, prefetchable: true }] },
    { vendorId: 0x8086, pciDeviceId: 0x1001, classCode: 0x020000, bars: [{ index: 0, size: 0x4000, kind: 'mem32' }] },
    { vendorId: 0x8086, pciDeviceId: 0x1002, classCode: 0x020000 },
  ]);
  sw.downstream[0]!.plug(mf, 'cold');
  rp1.plug(nvmeLike('nvme0'), 'cold');
  return { rc, g: new EcamGuest(rc.ecam, 0), sw, mf };
}

test('ECAM window size is one MiB per bus of the range', () => {
  const rc = new RootComplex({ name: 'x', segment: 1, buses: { start: 0x80, end: 0x8f }, memory: new GuestMemory() });
  assert.equal(rc.ecam.mmioSize, 16 << 20);
});

test('depth-first enumeration finds every function at the expected bus:devfn', () => {
  const { g, rc } = build();
  const found = g.enumerate();
  // Bus 0: rp0 08, rp1 10, rp2 18. rp0 -> bus 1 (switch up), bus 2 (internal: dp0 fn0, dp1 fn1),
  // dp0 -> bus 3 (mf .0 .1 .2), dp1 -> bus 4 (empty), rp1 -> bus 5 (nvme), rp2 -> bus 6 (empty).
  const expect = new Map<string, number>([
    ['0:8', 0x000c1b36],
    ['0:16', 0x000c1b36],
    ['0:24', 0x000c1b36],
    ['1:0', 0x000d1b36],
    ['2:0', 0x000e1b36],
    ['2:1', 0x000e1b36],
    ['3:0', 0x10008086],
    ['3:1', 0x10018086],
    ['3:2', 0x10028086],
    ['5:0', 0x00101b36],
  ]);
  assert.deepEqual(found, expect);
  // The topology agrees: identities resolve to the same BDFs.
  const ids = new Map(rc.functions().map((f) => [f.name, f.requesterId()]));
  assert.equal(ids.get('mf.2'), 0x0302);
  assert.equal(ids.get('nvme0'), 0x0500);
  assert.equal(ids.get('sw0.dp1'), 0x0201);
  // Bridge registers as programmed.
  assert.equal(g.read(0, 8, 0x18), 0x00040100); // rp0: primary 0, secondary 1, subordinate 4
  assert.equal(g.read(0, 16, 0x18), 0x00050500);
});

test('absent functions read all-ones; writes to them are ignored; non-zero device below a port is absent', () => {
  const { g } = build();
  g.enumerate();
  assert.equal(g.read(0, 0, 0), 0xffff_ffff);
  assert.equal(g.read(0, 8 + 1, 0, 2), 0xffff); // rp0 is single-function
  assert.equal(g.read(5, 8, 0), 0xffff_ffff); // device 1 below rp1
  assert.equal(g.read(7, 0, 0), 0xffff_ffff); // bus not behind any bridge
  assert.equal(g.read(5, 0, 0x100), 0, 'no extended capabilities: Linux sees a 4 KiB space with an empty list');
  g.write(7, 0, 0x04, 2, 0xffff);
  assert.equal(g.read(7, 0, 0x04, 2), 0xffff);
});

test('header types, class codes, multi-function bit and PCIe port types', () => {
  const { g } = build();
  g.enumerate();
  assert.equal(g.read(0, 8, 0x0e, 1), 0x01); // root port: type 1
  assert.equal(g.read(0, 8, 0x08) >>> 8, 0x060400);
  assert.equal(g.read(2, 0, 0x0e, 1), 0x81); // dp0: type 1, multi-function
  assert.equal(g.read(3, 0, 0x0e, 1), 0x80); // mf.0: type 0, multi-function
  assert.equal(g.read(3, 1, 0x0e, 1), 0x00);
  const portType = (bus: number, devfn: number): number => {
    let p = g.read(bus, devfn, 0x34, 1);
    for (let i = 0; i < 48 && p !== 0; i++) {
      if (g.read(bus, devfn, p, 1) === 0x10) return (g.read(bus, devfn, p + 2, 2) >>> 4) & 0xf;
      p = g.read(bus, devfn, p + 1, 1);
    }
    return -1;
  };
  assert.equal(portType(0, 8), 4);
  assert.equal(portType(1, 0), 5);
  assert.equal(portType(2, 1), 6);
  assert.equal(portType(3, 0), 0);
});

test('BAR sizing known answers: 64-bit prefetchable 1 MiB, 32-bit 16 KiB, unimplemented BAR', () => {
  const { g } = build();
  g.enumerate();
  g.write(3, 0, 0x10, 4, 0xffff_ffff);
  g.write(3, 0, 0x14, 4, 0xffff_ffff);
  assert.equal(g.read(3, 0, 0x10), 0xfff0_000c);
  assert.equal(g.read(3, 0, 0x14), 0xffff_ffff);
  g.write(3, 1, 0x10, 4, 0xffff_ffff);
  assert.equal(g.read(3, 1, 0x10), 0xffff_c000);
  g.write(3, 1, 0x14, 4, 0xffff_ffff);
  assert.equal(g.read(3, 1, 0x14), 0);
  g.write(3, 1, 0x30, 4, 0xffff_ffff); // expansion ROM not implemented
  assert.equal(g.read(3, 1, 0x30), 0);
});

test('a bridge window routes CPU accesses to a BAR below it; MSI-X table reachable, memory enable honoured', () => {
  const { g, rc } = build();
  g.enumerate();
  // nvme0 at 05:00.0 below rp1 (00:02.0): BAR0 (64-bit, 16 KiB) at 0x1010_0000.
  g.write(5, 0, 0x10, 4, 0x1010_0000);
  g.write(5, 0, 0x14, 4, 0);
  assert.equal(rc.mmioRead(0x1010_2000 + 0xc, 4), 0xffff_ffff, 'no window yet: unclaimed');
  g.write(0, 16, 0x20, 2, 0x1010); // memory base 0x1010_0000
  g.write(0, 16, 0x22, 2, 0x1010); // memory limit 0x101f_ffff
  g.enable(0, 16);
  assert.equal(rc.mmioRead(0x1010_2000 + 0xc, 4), 0xffff_ffff, 'endpoint memory space still disabled');
  g.enable(5, 0);
  assert.equal(rc.mmioRead(0x1010_2000 + 0xc, 4), 1, 'vector 0 control: masked at reset');
  const win = rc.mmioWindow(0x1000_0000, 0x100_0000);
  win.write(0x10_2000 + 8, 4, 0xabcd);
  assert.equal(win.read(0x10_2000 + 8, 4), 0xabcd);
  const d = rc.decodeMemory(0x1010_2008);
  assert.equal(d?.fn.name, 'nvme0');
  assert.equal(d?.bar, 0);
  assert.equal(d?.offset, 0x2008);
});

test('an endpoint function can be shared by only one position; a device has 1..8 functions', () => {
  const f = new EndpointFunction('f', { vendorId: 1, pciDeviceId: 2, classCode: 0 });
  const rc = new RootComplex({ name: 'r', segment: 0, buses: { start: 0, end: 3 }, memory: new GuestMemory() });
  rc.addIntegratedDevice(new PcieDevice('d', [f]), 2);
  assert.throws(() => rc.addIntegratedDevice(new PcieDevice('e', [f]), 3), RangeError);
  assert.throws(() => new PcieDevice('z', []), RangeError);
  assert.equal(rc.findFunction(0, 16), f);
  assert.equal(f.requesterId(), 0x10); // 00:02.0, as QEMU's edu at addr=02.0
});

test('secondary bus reset and platform reset return functions below to their reset state', () => {
  const { g, rc } = build();
  g.enumerate();
  g.enable(5, 0);
  g.write(5, 0, 0x10, 4, 0x1010_0000);
  assert.equal(g.read(5, 0, 0x04, 2) & 0x6, 0x6);
  g.write(0, 16, 0x3e, 2, 0x40); // rp1: assert secondary bus reset
  g.write(0, 16, 0x3e, 2, 0x00);
  assert.equal(g.read(5, 0, 0x04, 2) & 0x6, 0, 'command register reset');
  assert.equal(g.read(5, 0, 0x10), 0x4, 'BAR reset (64-bit type bits only)');
  assert.equal(g.read(0, 16, 0x18), 0x00050500, 'the port itself keeps its bus numbers');
  rc.reset();
  assert.equal(g.read(0, 16, 0x18, 4), 0x0000_0000);
  assert.equal(g.read(0, 16, 0, 4), 0x000c1b36);
  assert.equal(rc.functions().find((f) => f.name === 'nvme0')!.requesterId(), -1, 'no bus numbers after reset');
});

test('topology tree reports every function with its current identity', () => {
  const { g, rc } = build();
  const before = formatTopology(topologyTree(rc));
  assert.equal(before[4], '        unassigned mf.0 (endpoint) rid - sid - devid -');
  g.enumerate();
  const t = topologyTree(rc);
  assert.equal(t.functions.length, 3);
  assert.equal(t.functions[0]!.kind, 'root-port');
  assert.equal(t.functions[0]!.children[0]!.kind, 'switch-upstream');
  assert.deepEqual(
    t.functions[0]!.children[0]!.children.map((n) => [n.name, n.kind, n.occupied, n.bdf]),
    [
      ['sw0.dp0', 'switch-downstream', true, '0000:02:00.0'],
      ['sw0.dp1', 'switch-downstream', false, '0000:02:00.1'],
    ],
  );
  assert.deepEqual(formatTopology(t), [
    'pcie0 (segment 0, buses 0-255)',
    '  0000:00:01.0 rp0 (root-port) rid 0x8 sid - devid 0x8',
    '    0000:01:00.0 sw0.up (switch-upstream) rid 0x100 sid - devid 0x100',
    '      0000:02:00.0 sw0.dp0 (switch-downstream) rid 0x200 sid - devid 0x200',
    '        0000:03:00.0 mf.0 (endpoint) rid 0x300 sid - devid 0x300',
    '        0000:03:00.1 mf.1 (endpoint) rid 0x301 sid - devid 0x301',
    '        0000:03:00.2 mf.2 (endpoint) rid 0x302 sid - devid 0x302',
    '      0000:02:00.1 sw0.dp1 (switch-downstream) rid 0x201 sid - devid 0x201 [empty slot]',
    '  0000:00:02.0 rp1 (root-port) rid 0x10 sid - devid 0x10',
    '    0000:05:00.0 nvme0 (endpoint) rid 0x500 sid - devid 0x500',
    '  0000:00:03.0 rp2 (root-port) rid 0x18 sid - devid 0x18 [empty slot]',
  ]);
});
