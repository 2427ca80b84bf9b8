// Every generated file of a platform, in memory: the device tree (DTB and DTS), IORT, MADT and
// ids.json, all from one description and one set of derived ID maps (docs/platform.md).

import { buildIort, buildMadt } from '../firmware/acpi/index.js';
import { buildDeviceTree } from '../firmware/dt/build.js';
import { toDts, writeDtb } from '../firmware/fdt/index.js';
import { deriveIdMaps, idsReport } from './derive-ids.js';
import type { PlatformDescription } from './description.js';

export interface PlatformArtifacts {
  readonly 'platform.dtb': Uint8Array;
  readonly 'platform.dts': string;
  readonly 'IORT.dat': Uint8Array;
  readonly 'MADT.dat': Uint8Array;
  readonly 'ids.json': string;
}

export function buildPlatformArtifacts(desc: PlatformDescription, iortRevision: 3 | 5 = 5): PlatformArtifacts {
  const maps = deriveIdMaps(desc);
  const fdt = buildDeviceTree(desc, maps);
  return {
    'platform.dtb': writeDtb(fdt),
    'platform.dts': toDts(fdt),
    'IORT.dat': buildIort(desc, { revision: iortRevision, idMaps: maps }),
    'MADT.dat': buildMadt(desc),
    'ids.json': JSON.stringify(idsReport(desc, maps), null, 2) + '\n',
  };
}
