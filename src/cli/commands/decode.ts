// `vsmmu decode FILE [--json]`: decodes an ACPI IORT or MADT (e.g. /sys/firmware/acpi/tables/IORT,
// QEMU's tables) or a flattened device tree (e.g. QEMU's dumpdtb), recognised by signature /
// magic, into readable text (DTS for a device tree) or JSON. Unusable input exits 2.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { iortToJson, iortToText, madtToJson, madtToText, type Json } from '../../firmware/acpi/index.js';
import { fdtToJson, toDts } from '../../firmware/fdt/index.js';
import { decodeFirmware, type DecodedFirmware } from '../../firmware/lint/index.js';
import { UserInputError } from '../../util/errors.js';

export function readInputFile(file: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(file));
  } catch (e) {
    throw new UserInputError(`cannot read file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, file);
  }
}

export function decodedToJson(d: DecodedFirmware): Json {
  switch (d.kind) {
    case 'iort':
      return iortToJson(d.iort);
    case 'madt':
      return madtToJson(d.madt);
    case 'dtb':
      return fdtToJson(d.fdt);
  }
}

export function decodedToText(d: DecodedFirmware): string {
  switch (d.kind) {
    case 'iort':
      return iortToText(d.iort);
    case 'madt':
      return madtToText(d.madt);
    case 'dtb':
      return toDts(d.fdt);
  }
}

export function register(program: Command): void {
  program
    .command('decode')
    .description('decode an IORT, MADT (APIC) or DTB file into readable text or JSON')
    .argument('<file>', 'table or device tree blob')
    .option('--json', 'print JSON')
    .action((file: string, o: { json?: boolean }) => {
      const d = decodeFirmware(file, readInputFile(file));
      process.stdout.write(o.json ? JSON.stringify(decodedToJson(d), null, 2) + '\n' : decodedToText(d));
    });
}
