// Text rendering of a scenario report: topology tree with RID / stream ID / DeviceID, the steps
// with expectation results, per-device DMA and MSI outcomes, decoded events, interrupts, cache
// statistics, guest driver messages and a summary; failed expectations as an expected/actual
// diff. Colour through picocolors (off when the stream is not a TTY or NO_COLOR is set).
import pc from 'picocolors';
import Table from 'cli-table3';
import type { ReportFunction, ScenarioReport } from './report.js';

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

export function renderReport(r: ScenarioReport, opts: { color: boolean }): string {
  const c = pc.createColors(opts.color);
  const L: string[] = [];
  const h = (s: string): void => {
    L.push('', c.bold(c.underline(s)));
  };
  L.push(c.bold(`vsmmu run — ${r.scenario.name}`) + c.dim(`  (${r.scenario.file})`));
  if (r.scenario.description) L.push(c.dim(r.scenario.description));

  h('Platform');
  L.push(`${r.platform.model}; MSI controller: ${r.platform.msiController}${r.platform.its ? ` (${r.platform.its})` : ''}${r.platform.v2m ? ` (${r.platform.v2m})` : ''}`);
  for (const s of r.platform.smmus) L.push(`SMMU ${c.bold(s.name)} @ ${s.base}, features ${s.features}, covers ${s.rootComplexes.join(', ')}`);

  h('Topology');
  for (const rc of r.topology) {
    L.push(`${c.bold(rc.name)} segment ${rc.segment} buses ${rc.buses} ECAM ${rc.ecam} ${rc.smmu ? c.magenta(`→ ${rc.smmu}`) : c.dim('(no SMMU)')}`);
    for (const m of rc.toSmmu) L.push(c.dim(`  RID ${m.rids} → ${m.smmu} stream ${m.streamIds}`));
    for (const m of rc.toMsi) L.push(c.dim(`  RID ${m.rids} → ${m.its} DeviceID ${m.deviceIds}`));
    L.push(...tree(rc, c));
  }

  h('Steps');
  for (const s of r.steps) {
    const mark = s.status === 'ok' ? c.green('✔') : s.status === 'failed' ? c.red('✘') : c.dim('•');
    const text = s.kind === 'note' ? c.bold(s.summary) : s.status === 'failed' ? c.red(s.summary) : s.summary;
    L.push(`${c.dim(String(s.line).padStart(4))} ${mark} ${text}`);
  }

  h('Devices');
  const dt = table(['device', 'model', 'BDF', 'stream', 'DevID', 'DMA ok', 'DMA faults', 'bytes', 'MSI delivered', 'MSI dropped/aborted', 'last fault'], c);
  for (const d of r.devices) {
    dt.push([d.removed ? `${d.name} (removed)` : d.name, d.model, d.bdf ?? '-', d.streamId ?? '-', d.deviceId ?? '-', d.dma.ok, d.dma.faults ? c.yellow(String(d.dma.faults)) : 0, d.dma.bytes, d.msi.delivered, `${d.msi.dropped}/${d.msi.aborted}`, d.dma.lastFault ?? '']);
  }
  L.push(dt.toString());

  h(`SMMU events (${r.events.length})`);
  if (r.events.length === 0) L.push(c.dim('none'));
  else {
    const et = table(['line', 'SMMU', 'event', 'stream', 'device', 'address', 'access'], c);
    for (const e of r.events) et.push([e.line, e.smmu, c.yellow(`${e.type} (${e.code})`), e.streamId, e.device ?? '-', e.address ?? '-', e.access ?? '-']);
    L.push(et.toString());
  }

  h(`Interrupts delivered (${r.interrupts.length})`);
  const counts = new Map<string, number>();
  for (const i of r.interrupts) {
    const k = `${i.kind.toUpperCase()} ${i.intid}${i.source ? ` — ${i.source}` : ''}`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  if (counts.size === 0) L.push(c.dim('none'));
  for (const [k, n] of counts) L.push(`  ${k} ${c.dim(`× ${n}`)}`);

  h('Translation caches');
  const ct = table(['SMMU', 'config hit/miss', 'TLB hit/miss', 'walks', 'table reads', 'invalidated (cfg/TLB)', 'entries (cfg/TLB)'], c);
  for (const [n, s] of Object.entries(r.caches)) {
    ct.push([n, `${s.configHits}/${s.configMisses}`, `${s.tlbHits}/${s.tlbMisses}`, s.walks, s.memReads, `${s.configInvalidations}/${s.tlbInvalidations}`, `${s.configEntries}/${s.tlbEntries}`]);
  }
  L.push(ct.toString());
  L.push(c.dim(`guest commands: ${Object.entries(r.guest.smmuCommands).map(([n, k]) => `${n} ${k} SMMU commands`).join(', ')}; ITS ${r.guest.itsCommands} commands`));

  if (r.guest.messages.length) {
    h('Guest driver log');
    for (const m of r.guest.messages) L.push(`  ${m}`);
  }

  if (r.expectations.failures.length) {
    h('Failed expectations');
    for (const f of r.expectations.failures) {
      L.push(`${c.red('✘')} step ${f.step} (line ${f.line}): ${f.what}`);
      L.push(c.green(`  - expected: ${f.expected}`));
      L.push(c.red(`  + actual:   ${f.actual}`));
    }
  }

  h('Summary');
  const s = r.summary;
  L.push(
    `${s.steps} steps; DMA ${s.dmaOk} ok, ${s.dmaFaults} faulted; ${s.events} SMMU events; ${s.interrupts} interrupts; ${s.hotplugs} hot-plug operations; ${s.renumbers} renumbering${s.renumbers === 1 ? '' : 's'}`,
  );
  L.push(
    s.ok
      ? c.green(c.bold(`✔ all ${r.expectations.passed} expectations met`))
      : c.red(c.bold(`✘ ${r.expectations.failed} of ${r.expectations.passed + r.expectations.failed} expectations failed`)),
  );
  return L.join('\n') + '\n';
}
