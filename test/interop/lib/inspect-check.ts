// Part 3 of the Linux interop test: after the guest's I/O, QEMU is stopped (QMP `stop`) and
// `vsmmu inspect` is pointed at the guest's RAM (the shared memory-backend file) and at the SMMU
// register values recovered from QEMU's smmuv3_* trace. It must find the streams Linux configured
// and translate the IOVAs QEMU translated to the same physical addresses. The inspect JSON
// JSON shape is {"translations":[{"sid","iova","ok","pa",...}|{...,"ok":false,"event":{...}}]}.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RAM_BASE } from './linux-boot.js';
import { lastTranslationPerPage, parseSmmuTrace, regsJson, type TraceTranslation } from './smmu-trace.js';
import { vsmmuOk } from './vsmmu-cli.js';

export interface InspectTranslation {
  readonly sid: number;
  readonly iova: bigint;
  readonly ok: boolean;
  readonly pa: bigint | null;
  readonly eventType: string | null;
}

export interface InspectComparison {
  /** Stream IDs `--streams` reported. */
  readonly streams: number[];
  /** Stream IDs Linux configured, from the CMD_CFGI_STE commands in QEMU's trace. */
  readonly configuredSids: number[];
  /** Pages QEMU translated (last translation per page). */
  readonly qemuPages: TraceTranslation[];
  /** Pages inspect translated to the same PA as QEMU. */
  readonly agree: TraceTranslation[];
  /** Pages inspect translated to a different PA: always a failure. */
  readonly disagree: Array<{ qemu: TraceTranslation; ours: InspectTranslation }>;
  /** Pages inspect could not translate (unmapped by Linux after QEMU's translation, or a bug). */
  readonly unmapped: Array<{ qemu: TraceTranslation; ours: InspectTranslation }>;
}

function num(v: unknown): bigint | null {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  if (typeof v === 'string' && /^(0x[0-9a-f]+|\d+)$/i.test(v)) return BigInt(v);
  return null;
}

/** The stream IDs of a `vsmmu inspect --streams --json` answer (`{"streams":[{"sid":..}]}`). */
export function streamIds(json: unknown): number[] {
  const streams = (json as { streams?: unknown }).streams;
  if (!Array.isArray(streams)) throw new Error(`inspect --streams --json has no "streams" array: ${JSON.stringify(json).slice(0, 500)}`);
  return streams.map((s: unknown) => Number(num((s as { sid?: unknown }).sid) ?? -1n));
}

export function translationsOf(json: unknown): InspectTranslation[] {
  const list = (json as { translations?: unknown }).translations;
  if (!Array.isArray(list)) throw new Error(`inspect --translate --json has no "translations" array: ${JSON.stringify(json).slice(0, 500)}`);
  return list.map((t: unknown) => {
    const o = t as { sid?: unknown; iova?: unknown; ok?: unknown; pa?: unknown; event?: { type?: unknown } };
    return {
      sid: Number(num(o.sid) ?? -1n),
      iova: num(o.iova) ?? -1n,
      ok: o.ok === true,
      pa: num(o.pa),
      eventType: typeof o.event?.type === 'string' ? o.event.type : null,
    };
  });
}

/** Runs `vsmmu inspect` on a stopped guest and compares it with QEMU's own translations. */
export async function inspectAgainstQemu(opts: { ramPath: string; traceLog: string; dir: string }): Promise<InspectComparison> {
  const trace = parseSmmuTrace(readFileSync(opts.traceLog, 'utf8'));
  const regsPath = join(opts.dir, 'regs.json');
  writeFileSync(regsPath, JSON.stringify(regsJson(trace), null, 2));
  const ram = `${opts.ramPath}@0x${RAM_BASE.toString(16)}`;
  const streams = streamIds(JSON.parse(await vsmmuOk(['inspect', '--ram', ram, '--regs', regsPath, '--streams', '--json'])));
  const qemuPages = [...lastTranslationPerPage(trace).values()];
  const agree: TraceTranslation[] = [];
  const disagree: InspectComparison['disagree'] = [];
  const unmapped: InspectComparison['unmapped'] = [];
  // Bounded batches keep each command line short.
  for (let i = 0; i < qemuPages.length; i += 256) {
    const batch = qemuPages.slice(i, i + 256);
    const args = ['inspect', '--ram', ram, '--regs', regsPath, '--json'];
    for (const q of batch) args.push('--translate', `0x${q.sid.toString(16)}:0x${q.iova.toString(16)}:r`);
    const ours = translationsOf(JSON.parse(await vsmmuOk(args)));
    if (ours.length !== batch.length) throw new Error(`inspect answered ${ours.length} translations for ${batch.length} queries`);
    batch.forEach((q, k) => {
      const o = ours[k]!;
      if (!o.ok) unmapped.push({ qemu: q, ours: o });
      else if (o.pa !== null && (o.pa & ~0xfffn) === q.pa) agree.push(q);
      else disagree.push({ qemu: q, ours: o });
    });
  }
  return { streams, configuredSids: trace.cfgiSteSids, qemuPages, agree, disagree, unmapped };
}
