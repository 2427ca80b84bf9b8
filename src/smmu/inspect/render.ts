// Human-readable rendering of an inspect report (tables with colour). The JSON form is the stable
// contract; this text form is for people and may change.
import Table from 'cli-table3';
import pc from 'picocolors';
import type { Json } from './inspect.js';

type Obj = { [k: string]: Json };

function s(v: Json | undefined): string {
  if (v === null || v === undefined) return '-';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function table(head: string[]): Table.Table {
  return new Table({ head: head.map((h) => pc.bold(h)), style: { head: [], border: [] } });
}

function eventText(e: Json | undefined): string {
  if (e === null || e === undefined) return pc.yellow('terminated (no event)');
  const o = e as Obj;
  return pc.red(`${s(o.type)} (${s(o.code)})`) + ' ' + pc.dim((o.record as Json[]).map(s).join(' '));
}

export function renderReport(r: Record<string, Json>): string {
  const out: string[] = [];
  if (r.streams !== undefined) {
    out.push(pc.cyan(pc.bold('Streams')));
    const t = table(['SID', 'config', 'STE', 'fault', 'CDs']);
    for (const st of r.streams as Obj[]) {
      const ste = st.ste as Obj | null;
      const cds = (st.cds as Obj[]).map((c) => {
        const f = c.fields as Obj | null;
        const bits = f ? `asid=${s(f.ASID)} ttb0=${s(f.TTB0)} t0sz=${s(f.T0SZ)} tg0=${s(f.TG0)}` : '';
        return `ssid ${s(c.ssid)} @${s(c.address)} ${c.fault ? eventText(c.fault) : pc.green('valid')} ${pc.dim(bits)}`;
      });
      t.push([s(st.sid), pc.green(s(st.config)), ste ? `${s(ste.address)}\n${pc.dim((ste.words as Json[]).slice(0, 4).map(s).join(' '))}` : '-', st.fault ? eventText(st.fault) : '-', cds.join('\n') || '-']);
    }
    out.push(t.toString());
  }
  if (r.mappings !== undefined) {
    for (const m of r.mappings as Obj[]) {
      out.push(pc.cyan(pc.bold(`Mappings of SID ${s(m.sid)}${m.ssid === null ? '' : ` SSID ${s(m.ssid)}`}`)));
      const t = table(['IOVA', 'end', 'PA', 'size', 'perm (unpriv/priv)']);
      for (const x of m.ranges as Obj[]) t.push([s(x.iova), s(x.end), s(x.pa), s(x.size), `${s(x.permUnpriv)} / ${s(x.permPriv)}`]);
      if ((m.ranges as Json[]).length === 0) out.push(pc.dim('  (nothing mapped)'));
      else out.push(t.toString());
    }
  }
  if (r.queues !== undefined) {
    const q = r.queues as Obj;
    const cmdq = q.cmdq as Obj;
    out.push(pc.cyan(pc.bold(`Command queue`)) + pc.dim(` base ${s(cmdq.base)} 2^${s(cmdq.log2size)} prod ${s(cmdq.prod)} cons ${s(cmdq.cons)} err ${s(cmdq.err)}`));
    const t = table(['index', 'command', 'fields']);
    for (const e of cmdq.entries as Obj[]) {
      const f = Object.entries((e.fields as Obj | null) ?? {}).map(([k, v]) => `${k}=${s(v)}`).join(' ');
      t.push([s(e.index), pc.green(s(e.command)), f]);
    }
    out.push((cmdq.entries as Json[]).length ? t.toString() : pc.dim('  (empty)'));
    const evq = q.eventq as Obj;
    out.push(pc.cyan(pc.bold(`Event queue`)) + pc.dim(` base ${s(evq.base)} 2^${s(evq.log2size)} prod ${s(evq.prod)} cons ${s(evq.cons)}${evq.overflow ? ' OVERFLOW' : ''}`));
    const te = table(['index', 'event', 'SID', 'SSID', 'input address', 'record']);
    for (const e of evq.entries as Obj[]) te.push([s(e.index), pc.red(`${s(e.type)} (${s(e.code)})`), s(e.sid), s(e.ssid), s(e.inputAddr), pc.dim((e.record as Json[]).map(s).join(' '))]);
    out.push((evq.entries as Json[]).length ? te.toString() : pc.dim('  (empty)'));
  }
  if (r.translations !== undefined) {
    for (const x of r.translations as Obj[]) {
      const who = `SID ${s(x.sid)}${x.ssid === null ? '' : ` SSID ${s(x.ssid)}`} ${s(x.iova)} (${s(x.access)})`;
      out.push(pc.cyan(pc.bold(`Translate ${who}`)) + ' -> ' + (x.ok ? pc.green(`${s(x.pa)} size ${s(x.size)} perm ${s(x.perm)}`) : eventText(x.event)));
      const steps = x.steps as Obj[];
      if (steps.length > 0) {
        const t = table(['step', 'stage', 'level', 'table', 'index', 'descriptor address', 'value']);
        for (const st of steps) t.push([s(st.kind), s(st.stage), s(st.level), s(st.table), s(st.index), s(st.address), s(st.value)]);
        out.push(t.toString());
      }
    }
  }
  return out.join('\n') + '\n';
}
