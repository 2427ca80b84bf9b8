// The QEMU builds the differential tests compare our models with, each with the feature profiles
// that reproduce its SMMU and ITS and the list of departures from the architecture it shows
// (./qemu-departures.ts). A departure not on a peer's list must not show on that peer: the
// comparison then requires QEMU and our model to agree.
import type { SmmuProfileName } from '../../../src/platform/description.js';
import type { ItsProfileName } from '../../../src/intc/its-config.js';
import { SYSTEM_QEMU, type QemuBinary } from '../../../src/host/qemu.js';
import { ensureQemu10 } from './qemu10.js';
import type { DepartureId } from './qemu-departures.js';

export type PeerId = 'qemu-7.2' | 'qemu-10.0';

export interface Peer {
  readonly id: PeerId;
  /** "QEMU 7.2", for test names. */
  readonly title: string;
  readonly smmuProfile: SmmuProfileName;
  readonly itsProfile: ItsProfileName;
  readonly departures: readonly DepartureId[];
  /** The binary to run (fetched on first use where the system does not provide it). */
  binary(): QemuBinary;
}

export const QEMU_7_2: Peer = Object.freeze<Peer>({
  id: 'qemu-7.2',
  title: 'QEMU 7.2',
  smmuProfile: 'qemu-7.2',
  itsProfile: 'qemu-7.2',
  departures: [
    'fault-per-4-bytes',
    'event-class-zero',
    'recinvsid-ignored',
    'access-flag-ignored',
    'ap1-ignored',
    'block-at-level-0',
    'iova-above-48-bits',
    'l1std-span',
    'cd-fetch-address-slot',
    'eventq-overflow-gerror',
  ],
  binary: () => SYSTEM_QEMU,
});

export const QEMU_10_0: Peer = Object.freeze<Peer>({
  id: 'qemu-10.0',
  title: 'QEMU 10.0',
  smmuProfile: 'qemu-10.0',
  itsProfile: 'qemu-7.2',
  departures: [
    'fault-per-4-bytes',
    'recinvsid-ignored',
    'ap1-ignored',
    'block-at-level-0',
    'l1std-span',
    'cd-fetch-address-slot',
    'eventq-overflow-gerror',
    's2-concat-first-table-only',
    'tlb-hit-read-unchecked',
    's2-cd-fetch-rnw',
    'tt-fault-as-stage-1',
  ],
  binary: ensureQemu10,
});

export const PEERS: readonly Peer[] = [QEMU_7_2, QEMU_10_0];
