// Recognises and decodes firmware files by signature / magic: ACPI IORT, ACPI MADT ("APIC"),
// flattened device tree (0xd00dfeed). Used by `vsmmu decode` and `vsmmu lint`. Anything else, or
// input too broken to decode, is a UserInputError naming the file.
import { decodeIort } from '../acpi/iort-decode.js';
import type { IortTable } from '../acpi/iort-types.js';
import { decodeMadt, type MadtTable } from '../acpi/madt.js';
import { isDtb, parseDtb, type Fdt } from '../fdt/index.js';
import { UserInputError } from '../../util/errors.js';
import type { InputKind } from './types.js';

export type DecodedFirmware =
  | { readonly kind: 'iort'; readonly file: string; readonly iort: IortTable }
  | { readonly kind: 'madt'; readonly file: string; readonly madt: MadtTable }
  | { readonly kind: 'dtb'; readonly file: string; readonly fdt: Fdt };

export function detectKind(bytes: Uint8Array): InputKind | null {
  if (isDtb(bytes)) return 'dtb';
  const sig = String.fromCharCode(...bytes.subarray(0, 4));
  if (sig === 'IORT') return 'iort';
  if (sig === 'APIC') return 'madt';
  return null;
}

export function decodeFirmware(file: string, bytes: Uint8Array): DecodedFirmware {
  const kind = detectKind(bytes);
  try {
    switch (kind) {
      case 'iort':
        return { kind, file, iort: decodeIort(bytes) };
      case 'madt':
        return { kind, file, madt: decodeMadt(bytes) };
      case 'dtb':
        return { kind, file, fdt: parseDtb(bytes) };
      default: {
        const shown = Array.from(bytes.subarray(0, 4), (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
        throw new UserInputError(`not an IORT, MADT (APIC) or DTB file (starts with "${shown}")`, file);
      }
    }
  } catch (e) {
    if (e instanceof UserInputError && !e.message.startsWith(file)) throw new UserInputError(e.message, file);
    throw e;
  }
}
