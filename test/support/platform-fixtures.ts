// Shared fixtures for the platform tests: descriptions derived from the qemu-virt preset with a
// root port, a switch and test devices, and a Platform + ReferenceGuest pair.
import type { PlatformDescription } from '../../src/platform/description.js';
import { QEMU_VIRT_INPUT } from '../../src/platform/presets/qemu-virt.js';
import { validatePlatform, type PlatformInput } from '../../src/platform/schema.js';
import { Platform } from '../../src/platform/runtime/platform.js';
import { ReferenceGuest } from '../../src/guest/guest.js';
import { LpiRecorder, SpiRecorder } from '../../src/intc/sinks.js';
import { deviceFactory, type DeviceModels } from '../../src/platform/devices/factory.js';

export function toDescription(input: PlatformInput): PlatformDescription {
  const r = validatePlatform(input);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.description;
}

/** qemu-virt + rp0 (hot-plug) with dma0, rp1 with a switch (dp0: nvme0, dp1 empty hot-plug). */
export function qemuVirtWithDevices(overrides: Partial<PlatformInput> = {}): PlatformDescription {
  const rc = QEMU_VIRT_INPUT.rootComplexes![0]!;
  return toDescription({
    ...QEMU_VIRT_INPUT,
    rootComplexes: [
      {
        ...rc,
        ports: [
          { name: 'rp0', device: 1, hotplug: true, child: { kind: 'endpoint', name: 'dma0' } },
          {
            name: 'rp1',
            device: 2,
            child: {
              kind: 'switch',
              name: 'sw0',
              downstreamPorts: [
                { name: 'dp0', child: { kind: 'endpoint', name: 'nvme0' } },
                { name: 'dp1', hotplug: true },
              ],
            },
          },
          { name: 'rp2', device: 3, hotplug: true },
        ],
      },
    ],
    ...overrides,
  });
}

export interface Rig {
  platform: Platform;
  guest: ReferenceGuest;
  lpis: LpiRecorder;
  spis: SpiRecorder;
  models: DeviceModels;
}

export function rig(desc: PlatformDescription, models: Record<string, 'dma-engine' | 'queue'> = { dma0: 'dma-engine', nvme0: 'queue' }): Rig {
  const lpis = new LpiRecorder();
  const spis = new SpiRecorder();
  const factory = deviceFactory(models);
  const platform = new Platform(desc, { callbacks: { lpi: lpis, spi: spis }, endpoint: factory.endpoint });
  const guest = new ReferenceGuest(desc, platform.bus, platform.memory);
  return { platform, guest, lpis, spis, models: factory.models };
}
