// The firmware linter: IORT, MADT and device tree files of one platform, alone and cross-checked
// (rules in ./types.ts LINT_RULES). `vsmmu lint FILE...` is a thin wrapper over `lintFiles`.
import { hex } from '../../util/hex.js';
import type { MadtTable } from '../acpi/madt.js';
import { crossDtIort, crossIortMadt } from './cross.js';
import { dtHostBridges } from './dt-maps.js';
import { decodeFirmware, type DecodedFirmware } from './input.js';
import { lintIort } from './iort-rules.js';
import type { Finding, LintReport } from './types.js';

export { LINT_RULES, type Finding, type LintReport, type LintRule, type Severity, type InputKind } from './types.js';
export { decodeFirmware, detectKind, type DecodedFirmware } from './input.js';
export { lintIort } from './iort-rules.js';
export { crossDtIort, crossIortMadt } from './cross.js';
export { dtHostBridges, dtMapRid, type DtHostBridge, type DtMapEntry } from './dt-maps.js';

function lintMadt(t: MadtTable, file: string): Finding[] {
  const out: Finding[] = t.issues.map((i) => ({ rule: i.kind, severity: 'error' as const, file, at: hex(i.offset), message: i.message }));
  const seen = new Map<number, number>();
  for (const e of t.entries) {
    if (e.kind !== 'gic-its') continue;
    if (seen.has(e.translationId)) out.push({ rule: 'its-id-mismatch', severity: 'error', file, at: hex(e.offset), message: `GIC ITS translation ID ${e.translationId} appears twice (also @${hex(seen.get(e.translationId)!)})` });
    seen.set(e.translationId, e.offset);
  }
  return out;
}

/** Lints decoded files; cross-checks pair the first IORT with the first MADT and first DTB. */
export function lintDecoded(files: readonly DecodedFirmware[]): LintReport {
  const findings: Finding[] = [];
  const iort = files.find((f) => f.kind === 'iort');
  const madt = files.find((f) => f.kind === 'madt');
  const dtb = files.find((f) => f.kind === 'dtb');
  const madtHasMsi = madt?.kind === 'madt' ? madt.madt.entries.some((e) => e.kind === 'gic-its' || e.kind === 'gic-msi-frame') : undefined;
  for (const f of files) {
    if (f.kind === 'iort') findings.push(...lintIort(f.iort, f.file, madtHasMsi === undefined ? {} : { madtHasMsiController: madtHasMsi }));
    else if (f.kind === 'madt') findings.push(...lintMadt(f.madt, f.file));
    // The DTB that is cross-checked reports its map problems through crossDtIort.
    else if (!(iort && f === dtb)) for (const b of dtHostBridges(f.fdt)) for (const p of b.problems) findings.push({ rule: 'dt-map', severity: 'error', file: f.file, at: b.path, message: p });
  }
  if (iort?.kind === 'iort' && madt?.kind === 'madt') findings.push(...crossIortMadt(iort.iort, madt.madt, iort.file, madt.file));
  if (iort?.kind === 'iort' && dtb?.kind === 'dtb') findings.push(...crossDtIort(dtb.fdt, iort.iort, dtb.file, iort.file));
  return { files: files.map((f) => ({ file: f.file, kind: f.kind })), findings };
}

/** Decodes and lints files given as bytes (throws UserInputError for unusable input). */
export function lintFiles(inputs: readonly { readonly file: string; readonly bytes: Uint8Array }[]): LintReport {
  return lintDecoded(inputs.map((i) => decodeFirmware(i.file, i.bytes)));
}

/** One line per finding: `FILE[@where]: severity [rule] message`. */
export function formatFindings(r: LintReport): string {
  return r.findings.map((f) => `${f.file}${f.at ? `@${f.at}` : ''}: ${f.severity} [${f.rule}] ${f.message}`).join('\n') + (r.findings.length ? '\n' : '');
}
