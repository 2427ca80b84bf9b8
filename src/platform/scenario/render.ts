// Text rendering of a scenario report: topology tree with RID / stream ID / DeviceID, the steps
// with expectation results, per-device DMA and MSI outcomes, decoded events, interrupts, cache
// statistics, guest driver messages and a summary; failed expectations as an expected/actual
// diff. Colour through picocolors (off when the stream is not a TTY or NO_COLOR is set).
// Long runs stay short: each step of the file is one line (a repeated step with its count and its
// first / last result), events are grouped with counts when there are many; `verbose` lists every
// executed step and every event the report kept.
import pc from 'picocolors';
import Table from 'cli-table3';
import type { ReportFunction, ReportStep, ScenarioReport } from './report.js';

/** At most this many events are listed one by one without `verbose` (more: grouped). */
const EVENTS_LISTED = 20;
/** Failed expectations and guest log lines listed without `verbose`. */
const FAILURES_LISTED = 20;
const MESSAGES_LISTED = 40;

export interface RenderOptions {
  readonly color: boolean;
  /** Every executed step and every kept event instead of the per-step summary and groups. */
  readonly verbose?: boolean;
}

type Colors = ReturnType<typeof pc.createColors>;

function table(head: string[], c: Colors): Table.Table {
  return new Table({ head: head.map((h) => c.bold(h)), style: { head: [], border: [], 'padding-left': 1, 'padding-right': 1, compact: true } });
}

function fnLabel(f: ReportFunction, c: Colors): string {
  const ids = [f.bdf ? c.cyan(f.bdf) : c.dim('(no bus number)'), f.rid ? `RID ${f.rid}` : null, f.streamId !== null ? c.magenta(`SID ${f.streamId}`) : c.dim('no SMMU'), f.deviceId !== null ? c.yellow(`DevID ${f.deviceId}`) : null];
  const kind = f.kind === 'endpoint' ? f.model : f.kind;
  return `${c.bold(f.name)} ${c.dim(`[${kind}]`)} ${ids.filter(Boolean).join(' ')}`;
}

/** The topology tree of one root complex, indented by the port hierarchy. */
function tree(rc: ScenarioReport['topology'][number], c: Colors): string[] {
  const byName = new Map(rc.functions.map((f) => [f.name, f]));
  const childOf = new Set(rc.functions.flatMap((f) => f.children));
  const out: string[] = [];
  const visit = (f: ReportFunction, prefix: string, last: boolean, depth: number): void => {
    out.push(`${prefix}${last ? '└─ ' : '├─ '}${fnLabel(f, c)}`);
    if (depth > 16) return;
    const kids = f.children.map((n) => byName.get(n)).filter((x): x is ReportFunction => x !== undefined);
    kids.forEach((k, i) => visit(k, prefix + (last ? '   ' : '│  '), i === kids.length - 1, depth + 1));
  };
  const roots = rc.functions.filter((f) => !childOf.has(f.name));
  roots.forEach((f, i) => visit(f, '  ', i === roots.length - 1, 0));
  return out;
}

const n = (x: number): string => x.toLocaleString('en-US');
const plural = (k: number, word: string): string => `${n(k)} ${word}${k === 1 ? '' : 's'}`;

/** The line of one step of the file: mark, count when repeated, first and last result. */
function stepLine(s: ReportStep, c: Colors): string {
  const mark = s.kind === 'repeat' ? c.cyan('↻') : s.status === 'ok' ? c.green('✔') : s.status === 'failed' ? c.red('✘') : c.dim('•');
  const indent = '  '.repeat(s.depth);
  const line = c.dim(`line ${String(s.line).padStart(4)}`);
  if (s.runs === 0) return `${line} ${indent}${c.dim('-')} ${c.dim(`${s.kind} (not run)`)}`;
  const text = s.kind === 'note' ? c.bold(s.summary) : s.status === 'failed' && s.runs === 1 ? c.red(s.summary) : s.summary;
  if (s.runs === 1 || s.kind === 'repeat') return `${line} ${indent}${mark} ${text}`;
  const tally = s.kind === 'expect' ? `${n(s.ok)} of ${n(s.runs)} met` : `× ${n(s.runs)}`;
  const head = `${line} ${indent}${mark} ${s.failed ? c.red(`[${tally}]`) : c.dim(`[${tally}]`)} ${text}`;
  return s.last === null ? head : `${head}\n${' '.repeat(10)}${indent}  ${c.dim('last:')} ${s.last}`;
}

export function renderReport(r: ScenarioReport, opts: RenderOptions): string {
  const c = pc.createColors(opts.color);
  const L: string[] = [];
  const h = (s: string): void => {
    L.push('', c.bold(c.underline(s)));
  };
  L.push(c.bold(`vsmmu run — ${r.scenario.name}`) + c.dim(`  (${r.scenario.file})`));
  if (r.scenario.description) L.push(c.dim(r.scenario.description));

  h('Platform');
  const spis = r.platform.v2mSpis;
  L.push(
    `${r.platform.model}; MSI controller: ${r.platform.msiController}${r.platform.its ? ` (${r.platform.its})` : ''}${r.platform.v2m ? ` (${r.platform.v2m})` : ''}${spis ? `: MSIs are SPIs, INTID ${spis.first}..${spis.first + spis.count - 1}` : ''}`,
  );
  for (const s of r.platform.smmus) L.push(`SMMU ${c.bold(s.name)} @ ${s.base}, features ${s.features}, covers ${s.rootComplexes.join(', ')}`);

  h('Topology');
  for (const rc of r.topology) {
    L.push(`${c.bold(rc.name)} segment ${rc.segment} buses ${rc.buses} ECAM ${rc.ecam} ${rc.smmu ? c.magenta(`→ ${rc.smmu}`) : c.dim('(no SMMU)')}`);
    for (const m of rc.toSmmu) L.push(c.dim(`  RID ${m.rids} → ${m.smmu} stream ${m.streamIds}`));
    for (const m of rc.toMsi) L.push(c.dim(`  RID ${m.rids} → ${m.its} DeviceID ${m.deviceIds}`));
    L.push(...tree(rc, c));
  }

  const verbose = opts.verbose === true;
  if (verbose) {
    h(`Steps run (${n(r.summary.steps)}; scenario line, ✔ expectation met, ✘ failed, • action)`);
    for (const x of r.executions) {
      const mark = x.status === 'ok' ? c.green('✔') : x.status === 'failed' ? c.red('✘') : c.dim('•');
      const text = x.kind === 'note' ? c.bold(x.summary) : x.status === 'failed' ? c.red(x.summary) : x.summary;
      L.push(`${c.dim(`#${String(x.step).padEnd(6)} line ${String(x.line).padStart(4)}`)} ${mark} ${text}`);
    }
    if (r.detail.omitted.executions) L.push(c.dim(`... ${plural(r.detail.omitted.executions, 'more step')} not kept (the report keeps ${n(r.detail.limit)})`));
  } else {
    h(`Steps (scenario line, ✔ expectation met, ✘ failed, • action, ↻ repeat; --verbose lists every step run)`);
    for (const s of r.steps) L.push(stepLine(s, c));
  }

  h('Devices');
  const dt = table(['device', 'model', 'BDF', 'stream', 'DevID', 'DMA ok', 'DMA faults', 'bytes', 'MSI delivered', 'MSI dropped/aborted', 'last fault'], c);
  for (const d of r.devices) {
    dt.push([d.removed ? `${d.name} (removed)` : d.name, d.model, d.bdf ?? '-', d.streamId ?? '-', d.deviceId ?? '-', d.dma.ok, d.dma.faults ? c.yellow(String(d.dma.faults)) : 0, d.dma.bytes, d.msi.delivered, `${d.msi.dropped}/${d.msi.aborted}`, d.dma.lastFault ?? '']);
  }
  L.push(dt.toString());

  h(`SMMU events (${n(r.summary.events)})`);
  if (r.summary.events === 0) L.push(c.dim('none'));
  else if (verbose || r.summary.events <= EVENTS_LISTED) {
    const et = table(['line', 'SMMU', 'event', 'stream', 'device', 'address', 'access'], c);
    for (const e of r.events) et.push([e.line, e.smmu, c.yellow(`${e.type} (${e.code})`), e.streamId, e.device ?? '-', e.address ?? '-', e.access ?? '-']);
    L.push(et.toString());
    if (r.detail.omitted.events) L.push(c.dim(`... ${plural(r.detail.omitted.events, 'more event')} not kept (the report keeps ${n(r.detail.limit)})`));
  } else {
    const et = table(['count', 'SMMU', 'event', 'stream', 'device', 'first (line, address)', 'last (line, address)'], c);
    for (const g of r.eventGroups) {
      et.push([n(g.count), g.smmu, c.yellow(`${g.type} (${g.code})`), g.streamId, g.device ?? '-', `${g.first.line}, ${g.first.address ?? '-'}`, `${g.last.line}, ${g.last.address ?? '-'}`]);
    }
    L.push(et.toString());
    L.push(c.dim('(grouped by SMMU, event, stream and device; --verbose lists each event)'));
  }

  h(`Interrupts delivered (${n(r.summary.interrupts)})`);
  if (r.interruptGroups.length === 0) L.push(c.dim('none'));
  for (const g of r.interruptGroups) {
    const lines = g.first.line === g.last.line ? `line ${g.first.line}` : `lines ${g.first.line}..${g.last.line}`;
    L.push(`  ${g.kind.toUpperCase()} ${g.intid}${g.source ? ` — ${g.source}` : ''} ${c.dim(`× ${n(g.count)} (${lines})`)}`);
  }

  h('Translation caches');
  const ct = table(['SMMU', 'config hit/miss', 'TLB hit/miss', 'walks', 'table reads', 'invalidated (cfg/TLB)', 'entries (cfg/TLB)'], c);
  for (const [n, s] of Object.entries(r.caches)) {
    ct.push([n, `${s.configHits}/${s.configMisses}`, `${s.tlbHits}/${s.tlbMisses}`, s.walks, s.memReads, `${s.configInvalidations}/${s.tlbInvalidations}`, `${s.configEntries}/${s.tlbEntries}`]);
  }
  L.push(ct.toString());
  L.push(c.dim(`guest commands: ${Object.entries(r.guest.smmuCommands).map(([n, k]) => `${n} ${k} SMMU commands`).join(', ')}; ITS ${r.guest.itsCommands} commands`));

  if (r.guest.messages.length) {
    h('Guest driver log');
    const shown = verbose ? r.guest.messages : r.guest.messages.slice(0, MESSAGES_LISTED);
    for (const m of shown) L.push(`  ${m}`);
    const more = r.guest.messages.length - shown.length + r.detail.omitted.messages;
    if (more) L.push(c.dim(`  ... ${plural(more, 'more line')}`));
  }

  if (r.expectations.failed) {
    h('Failed expectations');
    const shown = verbose ? r.expectations.failures : r.expectations.failures.slice(0, FAILURES_LISTED);
    for (const f of shown) {
      L.push(`${c.red('✘')} step ${f.step} (line ${f.line}): ${f.what}`);
      L.push(c.green(`  - expected: ${f.expected}`));
      L.push(c.red(`  + actual:   ${f.actual}`));
    }
    const more = r.expectations.failed - shown.length;
    if (more) L.push(c.dim(`... ${plural(more, 'more failure')}${verbose ? '' : ' (--verbose lists them)'}`));
  }

  h('Summary');
  const s = r.summary;
  L.push(
    `${plural(s.steps, 'step')} run; DMA ${n(s.dmaOk)} ok, ${n(s.dmaFaults)} faulted; ${plural(s.events, 'SMMU event')}; ${plural(s.interrupts, 'interrupt')}; ${plural(s.hotplugs, 'hot-plug operation')}; ${plural(s.renumbers, 'renumbering')}`,
  );
  L.push(
    s.ok
      ? c.green(c.bold(`✔ all ${r.expectations.passed} expectations met`))
      : c.red(c.bold(`✘ ${r.expectations.failed} of ${r.expectations.passed + r.expectations.failed} expectations failed`)),
  );
  return L.join('\n') + '\n';
}
