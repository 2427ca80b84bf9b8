// ITS feature configuration and named profiles. GITS_TYPER, GITS_IIDR, the identification
// registers and the GITS_BASER reset values are derived from an ItsConfig. IHI 0069 §12.19.30
// (GITS_TYPER), §12.19.1 (GITS_BASER). The `qemu-7.2` profile reproduces QEMU 7.2's
// arm-gicv3-its register values (QEMU 7.2) for differential tests.

import { UserInputError } from '../util/errors.js';

export type ItsCommandErrorPolicy = 'skip' | 'stall';

export interface ItsConfig {
  /** DeviceID bits (GITS_TYPER.Devbits + 1), 1..32. */
  readonly deviceIdBits: number;
  /** EventID bits (GITS_TYPER.IDbits + 1), 1..32. */
  readonly eventIdBits: number;
  /** Collection ID bits, 1..16 (16 is advertised as CIL = 1, CIDbits = 15 as QEMU does). */
  readonly collectionIdBits: number;
  /** GITS_TYPER.HCC: collections held in the ITS itself (ICIDs below this need no table), 0..255. */
  readonly hcc: number;
  /** GITS_TYPER.PTA: RDbase is a physical address (true) or a processor number (false). */
  readonly pta: boolean;
  /** GITS_TYPER.ITT_entry_size + 1: bytes per ITE, 8..16. */
  readonly ittEntrySize: number;
  /** GITS_BASER<n>.Indirect is implemented (two-level device/collection tables). */
  readonly indirect: boolean;
  /**
   * What a command error does (GITS_TYPER.SEIS = 0, so IMPLEMENTATION DEFINED, IHI 0069 §6.3.2):
   * 'skip' ignores the command and advances GITS_CREADR (QEMU, KVM); 'stall' leaves CREADR on the
   * command and sets GITS_CREADR.Stalled.
   */
  readonly commandErrorPolicy: ItsCommandErrorPolicy;
  readonly iidr: number;
  /** PIDR0..PIDR4 of the ITS frame (PIDR2.ArchRev = 3). */
  readonly pidr: readonly [number, number, number, number, number];
}

export const ITS_PROFILES = Object.freeze({
  /** QEMU 7.2 arm-gicv3-its: GITS_TYPER 0x0000001f0001efb1, IIDR 0x43b, PIDR0 0x94, PIDR2 0x3b. */
  'qemu-7.2': Object.freeze<ItsConfig>({
    deviceIdBits: 16,
    eventIdBits: 16,
    collectionIdBits: 16,
    hcc: 0,
    pta: false,
    ittEntrySize: 12,
    indirect: true,
    commandErrorPolicy: 'skip',
    iidr: 0x43b,
    pidr: [0x94, 0xb4, 0x3b, 0x00, 0x44],
  }),
  /** The default: like qemu-7.2 but with 8-byte ITEs. */
  default: Object.freeze<ItsConfig>({
    deviceIdBits: 16,
    eventIdBits: 16,
    collectionIdBits: 16,
    hcc: 0,
    pta: false,
    ittEntrySize: 8,
    indirect: true,
    commandErrorPolicy: 'skip',
    iidr: 0x43b,
    pidr: [0x94, 0xb4, 0x3b, 0x00, 0x44],
  }),
});

export type ItsProfileName = keyof typeof ITS_PROFILES;

export type ItsOptions = Partial<ItsConfig> & { readonly profile?: ItsProfileName };

function checkInt(v: number, min: number, max: number, where: string): void {
  if (!Number.isInteger(v) || v < min || v > max) throw new UserInputError(`must be an integer in ${min}..${max}, got ${String(v)}`, where);
}

/** Resolves options against a profile and validates them; bad values raise UserInputError. */
export function resolveItsConfig(opts: ItsOptions = {}): ItsConfig {
  const name = opts.profile ?? 'default';
  const base = ITS_PROFILES[name] as ItsConfig | undefined;
  if (!base) throw new UserInputError(`unknown ITS profile "${String(name)}" (known: ${Object.keys(ITS_PROFILES).join(', ')})`, 'its.profile');
  const { profile: _p, ...rest } = opts;
  const c: ItsConfig = { ...base, ...(rest as Partial<ItsConfig>) };
  checkInt(c.deviceIdBits, 1, 32, 'its.deviceIdBits');
  checkInt(c.eventIdBits, 1, 32, 'its.eventIdBits');
  checkInt(c.collectionIdBits, 1, 16, 'its.collectionIdBits');
  checkInt(c.hcc, 0, 255, 'its.hcc');
  checkInt(c.ittEntrySize, 8, 16, 'its.ittEntrySize');
  if (c.commandErrorPolicy !== 'skip' && c.commandErrorPolicy !== 'stall') {
    throw new UserInputError(`must be "skip" or "stall"`, 'its.commandErrorPolicy');
  }
  checkInt(c.iidr, 0, 0xffff_ffff, 'its.iidr');
  if (c.pidr.length !== 5) throw new UserInputError('needs five values (PIDR0..PIDR4)', 'its.pidr');
  return Object.freeze(c);
}
