// QEMU 7.2 as an oracle for configuration routing: the same topology (host bridge, a root port
// with a switch whose downstream ports are functions 0 and 1 of device 0, an edu behind one and a
// two-function edu behind the other, an empty root port) is built in QEMU (-M virt, driven over
// qtest on its ECAM at 0x40_1000_0000) and in our model; the same guest sequence — depth-first
// enumeration, then renumbering, inconsistent windows, out-of-window buses — must find the same
// functions at the same bus/devfn with the same header types and class codes, and BAR sizing of
// edu's 1 MiB BAR0 must read back the same. Skipped when qemu-system-aarch64 is not installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { GuestMemory } from '../../src/memory/guest-memory.js';
import { PcieDevice, PcieSwitch, RootComplex, type EndpointFunctionOptions } from '../../src/pcie/index.js';
import { tempDir } from '../interop/lib/paths.js';
import { QEMU, startQemu } from '../../src/host/qemu.js';
import { QtestClient } from '../../src/host/qtest.js';
import { ecamOff } from '../support/pcie-fakes.js';

const ECAM = 0x40_1000_0000;
const haveQemu = spawnSync(QEMU, ['--version'], { encoding: 'utf8' }).status === 0;

interface Cfg {
  read(bus: number, devfn: number, reg: number, size: 1 | 2 | 4): Promise<number>;
  write(bus: number, devfn: number, reg: number, size: 1 | 2 | 4, v: number): Promise<void>;
}

const SUFFIX = { 1: 'b', 2: 'w', 4: 'l' } as const;

function qemuCfg(qt: QtestClient): Cfg {
  const addr = (b: number, d: number, r: number): string => `0x${(ECAM + ecamOff(b, d >> 3, d & 7, r)).toString(16)}`;
  return {
    read: async (b, d, r, s) => Number(await qt.cmd(`read${SUFFIX[s]} ${addr(b, d, r)}`)),
    write: async (b, d, r, s, v) => void (await qt.cmd(`write${SUFFIX[s]} ${addr(b, d, r)} 0x${v.toString(16)}`)),
  };
}

function modelCfg(rc: RootComplex): Cfg {
  return {
    read: async (b, d, r, s) => rc.ecam.read(ecamOff(b, d >> 3, d & 7, r), s),
    write: async (b, d, r, s, v) => rc.ecam.write(ecamOff(b, d >> 3, d & 7, r), s, v),
  };
}

const edu: EndpointFunctionOptions = { vendorId: 0x1234, pciDeviceId: 0x11e8, revision: 0x10, classCode: 0x00ff00, bars: [{ index: 0, size: 0x10_0000, kind: 'mem32' }], msi: { vectors: 1 } };

function model(): RootComplex {
  const rc = new RootComplex({ name: 'pcie.0', segment: 0, buses: { start: 0, end: 0xff }, memory: new GuestMemory() });
  rc.addIntegratedDevice(new PcieDevice('gpex-root', [{ vendorId: 0x1b36, pciDeviceId: 0x0008, classCode: 0x060000 }]), 0);
  const rp0 = rc.addRootPort('rp0', 1);
  rc.addRootPort('rp1', 2);
  const sw = new PcieSwitch('up0', { downstreamPorts: 2 });
  rp0.plug(sw, 'cold');
  sw.downstream[0]!.plug(new PcieDevice('edu0', [edu]), 'cold');
  sw.downstream[1]!.plug(new PcieDevice('edu1', [edu, edu]), 'cold');
  return rc;
}

/** What a guest sees; the same code runs against both. */
async function scenario(c: Cfg): Promise<unknown[]> {
  const log: unknown[] = [];
  const snapshot = async (label: string): Promise<void> => {
    const seen: string[] = [];
    for (let bus = 0; bus < 11; bus++) {
      for (let devfn = 0; devfn < 24; devfn++) {
        const id = await c.read(bus, devfn, 0, 4);
        if (id === 0xffff_ffff) continue;
        const ht = await c.read(bus, devfn, 0x0e, 1);
        const cls = (await c.read(bus, devfn, 0x08, 4)) >>> 16;
        seen.push(`${bus}:${devfn} ht=${ht.toString(16)} class=${cls.toString(16)}`);
      }
    }
    log.push({ label, seen });
  };
  await snapshot('before numbering');
  // Depth-first numbering (Linux's pci_scan_bridge): secondary = next free bus, subordinate 0xff
  // while scanning below, then the last bus used.
  let next = 1;
  const scan = async (bus: number): Promise<void> => {
    for (let dev = 0; dev < 32; dev++) {
      for (let fn = 0; fn < 8; fn++) {
        const devfn = (dev << 3) | fn;
        if ((await c.read(bus, devfn, 0, 4)) === 0xffff_ffff) {
          if (fn === 0) break;
          continue;
        }
        const ht = await c.read(bus, devfn, 0x0e, 1);
        if ((ht & 0x7f) === 1) {
          const sec = next++;
          await c.write(bus, devfn, 0x18, 4, bus | (sec << 8) | (0xff << 16));
          await scan(sec);
          await c.write(bus, devfn, 0x1a, 1, next - 1);
          log.push({ bridge: `${bus}:${devfn}`, buses: (await c.read(bus, devfn, 0x18, 4)) & 0xffffff });
        }
        if (fn === 0 && (ht & 0x80) === 0) break;
      }
    }
  };
  await scan(0);
  await snapshot('after numbering');
  // BAR sizing of edu0 (bus 3 after numbering): all-ones, read, restore.
  for (let bar = 0; bar < 6; bar++) {
    await c.write(3, 0, 0x10 + 4 * bar, 4, 0xffff_ffff);
    log.push({ bar, size: await c.read(3, 0, 0x10 + 4 * bar, 4) });
  }
  // Renumber: rp1 5 -> 9, then rp0's hierarchy 1..4 -> 5..8 (switch internal bus 6, dp0 -> 7,
  // dp1 -> 8). Sibling windows never overlap (routing is then undefined; QEMU and we differ).
  await c.write(0, 16, 0x18, 4, 0x00090900);
  await c.write(0, 8, 0x18, 4, 0x00080500);
  await c.write(5, 0, 0x18, 4, 0x00080605);
  await c.write(6, 0, 0x18, 4, 0x00070706);
  await c.write(6, 1, 0x18, 4, 0x00080806);
  await snapshot('after renumbering');
  // dp1 window inconsistent (subordinate < secondary): its device disappears.
  await c.write(6, 1, 0x18, 4, 0x00070806);
  await snapshot('dp1 subordinate < secondary');
  // rp0 window shrunk below dp0's bus: dp0's device is out of reach.
  await c.write(0, 8, 0x1a, 1, 6);
  await snapshot('rp0 window shrunk');
  return log;
}

test('QEMU 7.2 and the model route configuration requests identically through enumeration and renumbering', { skip: haveQemu ? false : 'qemu-system-aarch64 not installed', timeout: 60_000 }, async () => {
  const tmp = tempDir('pcie-ecam');
  const sock = join(tmp.path, 'qtest.sock');
  const listener = QtestClient.listen(sock);
  const proc = startQemu(
    [
      '-M', 'virt,gic-version=3', '-cpu', 'cortex-a57', '-m', '128M', '-S',
      '-nodefaults', '-display', 'none', '-serial', 'none', '-monitor', 'none',
      '-qtest', `unix:${sock}`, '-qtest-log', 'none',
      '-device', 'pcie-root-port,id=rp0,bus=pcie.0,addr=1.0,chassis=1,slot=1',
      '-device', 'pcie-root-port,id=rp1,bus=pcie.0,addr=2.0,chassis=2,slot=2',
      '-device', 'x3130-upstream,id=up0,bus=rp0',
      '-device', 'xio3130-downstream,id=dp0,bus=up0,addr=0.0,multifunction=on,chassis=3,slot=3',
      '-device', 'xio3130-downstream,id=dp1,bus=up0,addr=0.1,chassis=4,slot=4',
      '-device', 'edu,bus=dp0,addr=0.0',
      '-device', 'edu,bus=dp1,addr=0.0,multifunction=on',
      '-device', 'edu,bus=dp1,addr=0.1',
    ],
    { timeoutMs: 60_000 },
  );
  try {
    const qt = await Promise.race([
      listener.accepted(15_000),
      proc.exited.then(() => {
        throw new Error(`QEMU exited: ${proc.stderr()}`);
      }),
    ]);
    const fromQemu = await scenario(qemuCfg(qt));
    const fromModel = await scenario(modelCfg(model()));
    assert.deepEqual(fromModel, fromQemu);
    qt.close();
  } finally {
    listener.server.close();
    await proc.kill();
    tmp.cleanup();
  }
});
