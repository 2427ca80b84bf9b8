// SVG drawing of a report's topology: one column per root complex with its functions as an
// indented tree (ports, switches, endpoints with BDF / stream ID / DeviceID), the SMMU box each
// covered root complex routes to (RID -> stream ID ranges on the edge), and the MSI controller box
// (RID or stream ID -> DeviceID ranges). Self-contained SVG 1.1, no external resources.
import type { ReportFunction, ScenarioReport } from './report.js';

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const COL_W = 360;
const ROW_H = 34;
const TOP = 170;
const FILL: Record<string, string> = {
  'root-port': '#dbeafe',
  'switch-upstream': '#e0e7ff',
  'switch-downstream': '#e0e7ff',
  endpoint: '#dcfce7',
};

export function renderSvg(r: ScenarioReport): string {
  const parts: string[] = [];
  const cols = Math.max(1, r.topology.length);
  let maxRows = 0;
  const rcX = (i: number): number => 20 + i * (COL_W + 30);
  const box = (x: number, y: number, w: number, h: number, fill: string, lines: string[], bold = false): void => {
    parts.push(`<rect x="${x}" y="${y}" width="${w}" height="${h}" rx="6" fill="${fill}" stroke="#334155"/>`);
    lines.forEach((t, i) => parts.push(`<text x="${x + 8}" y="${y + 15 + i * 13}" font-size="${i === 0 ? 12 : 10}"${bold && i === 0 ? ' font-weight="bold"' : ''}>${esc(t)}</text>`));
  };
  const line = (x1: number, y1: number, x2: number, y2: number, label?: string, dash = false): void => {
    parts.push(`<line x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" stroke="#475569" stroke-width="1.5"${dash ? ' stroke-dasharray="4 3"' : ''} marker-end="url(#arrow)"/>`);
    if (label) parts.push(`<text x="${(x1 + x2) / 2 + 4}" y="${(y1 + y2) / 2 - 3}" font-size="9" fill="#475569">${esc(label)}</text>`);
  };

  // Interrupt controller and SMMUs along the top.
  const width = 40 + cols * (COL_W + 30);
  const msiLabel = r.platform.its ?? r.platform.v2m ?? `MSI controller: ${r.platform.msiController}`;
  const msiX = width - 250;
  box(msiX, 10, 220, 40, '#fde68a', [msiLabel, r.platform.its ? 'GICv3 ITS (GITS_TRANSLATER +0x10040)' : 'GICv2m / none'], true);
  const smmuPos = new Map<string, { x: number; y: number }>();
  r.platform.smmus.forEach((s, i) => {
    const x = 20 + i * 260;
    smmuPos.set(s.name, { x, y: 70 });
    box(x, 70, 230, 40, '#fbcfe8', [`SMMUv3 ${s.name} @ ${s.base}`, `features ${s.features}`], true);
    line(x + 230, 90, msiX, 40, 'stream ID → DeviceID');
  });

  r.topology.forEach((rc, i) => {
    const x = rcX(i);
    box(x, TOP - 40, COL_W, 32, '#f1f5f9', [`${rc.name} — segment ${rc.segment}, buses ${rc.buses}`, `ECAM ${rc.ecam}`], true);
    const sp = rc.smmu ? smmuPos.get(rc.smmu) : undefined;
    if (sp) line(x + COL_W / 2, TOP - 40, sp.x + 115, 110, rc.toSmmu.map((m) => `RID ${m.rids} → SID ${m.streamIds}`).join(', '));
    else if (rc.toMsi.length) line(x + COL_W - 10, TOP - 40, msiX + 110, 50, rc.toMsi.map((m) => `RID ${m.rids} → DevID ${m.deviceIds}`).join(', '), true);
    // Tree rows.
    const byName = new Map(rc.functions.map((f) => [f.name, f]));
    const childOf = new Set(rc.functions.flatMap((f) => f.children));
    let row = 0;
    const visit = (f: ReportFunction, depth: number): void => {
      if (depth > 16) return;
      const y = TOP + row * ROW_H;
      const fx = x + 10 + depth * 18;
      const ids = [f.bdf ?? 'no bus', f.streamId !== null ? `SID ${f.streamId}` : 'no SMMU', f.deviceId !== null ? `DevID ${f.deviceId}` : ''].filter(Boolean).join('  ');
      box(fx, y, COL_W - 20 - depth * 18, ROW_H - 6, FILL[f.kind] ?? '#f8fafc', [`${f.name} [${f.kind === 'endpoint' ? f.model : f.kind}]`, ids]);
      if (depth > 0) parts.push(`<line x1="${fx - 9}" y1="${y - 6}" x2="${fx - 9}" y2="${y + 14}" stroke="#94a3b8"/><line x1="${fx - 9}" y1="${y + 14}" x2="${fx}" y2="${y + 14}" stroke="#94a3b8"/>`);
      row++;
      for (const k of f.children) {
        const kf = byName.get(k);
        if (kf) visit(kf, depth + 1);
      }
    };
    for (const f of rc.functions.filter((g) => !childOf.has(g.name))) visit(f, 0);
    maxRows = Math.max(maxRows, row);
  });

  const height = TOP + maxRows * ROW_H + 30;
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="monospace">`,
    `<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#475569"/></marker></defs>`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="20" y="${height - 10}" font-size="10" fill="#64748b">${esc(`vsmmu run — ${r.scenario.name}`)}</text>`,
    ...parts,
    `</svg>`,
    '',
  ].join('\n');
}
