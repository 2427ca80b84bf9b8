// SVG drawing of a report's topology. Layout first (`layoutTopology`: boxes with their text lines,
// and line segments, in canvas coordinates), then drawing (`renderSvg`). Rows from the top: the
// MSI controller across the whole width; the SMMUs, each spanning the columns of the root
// complexes it translates; one column per root complex: a header box with its ID mappings and
// its functions as an indented tree (BDF, RID, stream ID, DeviceID). Arrows run vertically in the
// gaps between rows (root complex -> SMMU -> MSI controller, dashed straight to the MSI controller
// for a root complex without an SMMU), tree connectors run left of the boxes they join, so no line
// crosses a box or its text. Text is ASCII in a monospace font; boxes are sized from the font's
// advance width, so every line fits inside its box. Self-contained SVG 1.1.
import type { ReportFunction, ReportRootComplex, ScenarioReport } from './report.js';

/** Advance width of the monospace fonts named below, in em (DejaVu Sans Mono / Menlo 0.602, Courier 0.6, Consolas 0.55). */
export const ADVANCE_EM = 0.61;
/** Font families, the first being the one the layout is measured for. */
export const FONT_FAMILY = "'DejaVu Sans Mono', Menlo, Consolas, 'Liberation Mono', 'Courier New', monospace";

const MARGIN = 16;
export const PAD_X = 8;
const PAD_Y = 5;
const ROW_GAP = 40;
const COL_GAP = 24;
const TREE_GAP = 6;
const INDENT = 18;
/** Line box per font size: from line top to baseline, and line height. */
const ASCENT = 1.0;
const LINE = 1.35;

export interface TextLine {
  readonly text: string;
  readonly size: number;
  readonly bold?: boolean;
  readonly color?: string;
}

export interface LayoutBox {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
  readonly fill: string;
  readonly lines: readonly TextLine[];
}

export interface LayoutLine {
  readonly points: readonly (readonly [number, number])[];
  readonly arrow: boolean;
  readonly dashed: boolean;
  readonly color: string;
}

export interface TopologyLayout {
  readonly width: number;
  readonly height: number;
  readonly boxes: readonly LayoutBox[];
  readonly lines: readonly LayoutLine[];
  /** Free text (the caption): its left end, baseline and line. */
  readonly captions: readonly { readonly x: number; readonly y: number; readonly line: TextLine }[];
}

const FILL: Record<string, string> = {
  'root-port': '#dbeafe',
  'switch-upstream': '#e0e7ff',
  'switch-downstream': '#e0e7ff',
  endpoint: '#dcfce7',
};

/** Only printable ASCII reaches the drawing (anything else would have an unknown width). */
const ascii = (s: string): string => s.replace(/→/g, '->').replace(/[^\x20-\x7e]/g, '?');

/** Width of a line of text, from the advance width. */
export function textWidth(l: TextLine): number {
  return l.text.length * l.size * ADVANCE_EM;
}

function boxSize(lines: readonly TextLine[]): { w: number; h: number } {
  return { w: 2 * PAD_X + Math.max(0, ...lines.map(textWidth)), h: 2 * PAD_Y + lines.reduce((a, l) => a + l.size * LINE, 0) };
}

/** Baselines of a box's lines. */
export function baselines(b: LayoutBox): number[] {
  let y = b.y + PAD_Y;
  return b.lines.map((l) => {
    const base = y + l.size * ASCENT;
    y += l.size * LINE;
    return base;
  });
}

function fnLines(f: ReportFunction): TextLine[] {
  const kind = f.kind === 'endpoint' ? f.model : f.kind;
  const ids = [f.bdf ?? 'no bus number', f.rid ? `RID ${f.rid}` : null, f.streamId !== null ? `SID ${f.streamId}` : 'no SMMU', f.deviceId !== null ? `DevID ${f.deviceId}` : null];
  return [
    { text: ascii(`${f.name} [${kind}]`), size: 11, bold: true },
    { text: ascii(ids.filter(Boolean).join('  ')), size: 10, color: '#334155' },
  ];
}

function rcLines(rc: ReportRootComplex, r: ScenarioReport): TextLine[] {
  const out: TextLine[] = [
    { text: ascii(`${rc.name}: segment ${rc.segment}, buses ${rc.buses}`), size: 12, bold: true },
    { text: ascii(`ECAM ${rc.ecam}`), size: 10, color: '#334155' },
  ];
  for (const m of rc.toSmmu) out.push({ text: ascii(`RID ${m.rids} -> ${m.smmu} SID ${m.streamIds}`), size: 10, color: '#9d174d' });
  if (!rc.smmu) out.push({ text: 'no SMMU: DMA is not translated', size: 10, color: '#334155' });
  for (const m of rc.toMsi) out.push({ text: ascii(`RID ${m.rids} -> ${m.its} DevID ${m.deviceIds}`), size: 10, color: '#92400e' });
  if (r.platform.v2mSpis && r.platform.v2m) out.push({ text: ascii(`MSIs -> ${r.platform.v2m.split(' ')[0]}: SPIs, no DeviceID`), size: 10, color: '#92400e' });
  return out;
}

function msiLines(r: ScenarioReport): TextLine[] {
  const p = r.platform;
  if (p.its) return [
    { text: ascii(`${p.its}: GICv3 ITS`), size: 12, bold: true },
    { text: 'MSIs write GITS_TRANSLATER; DeviceID + EventID select an LPI', size: 10, color: '#334155' },
  ];
  if (p.v2m && p.v2mSpis) {
    const last = p.v2mSpis.first + p.v2mSpis.count - 1;
    return [
      { text: ascii(`${p.v2m}: GICv2m MSI frame`), size: 12, bold: true },
      { text: `MSIs are SPIs: INTID ${p.v2mSpis.first}..${last} (the data selects the SPI; no DeviceID)`, size: 10, color: '#334155' },
    ];
  }
  return [
    { text: ascii(`no MSI controller (gic.msi: ${p.msiController})`), size: 12, bold: true },
    { text: 'devices and SMMUs signal wired interrupts only', size: 10, color: '#334155' },
  ];
}

/** Places every box and line. */
export function layoutTopology(r: ScenarioReport): TopologyLayout {
  const boxes: LayoutBox[] = [];
  const lines: LayoutLine[] = [];

  // Columns grouped by SMMU (each SMMU's root complexes side by side), then root complexes without one.
  const placed = new Set<string>();
  const groups: { smmu: ScenarioReport['platform']['smmus'][number] | null; rcs: ReportRootComplex[] }[] = [];
  for (const s of r.platform.smmus) {
    const rcs = r.topology.filter((rc) => rc.smmu === s.name && !placed.has(rc.name));
    rcs.forEach((rc) => placed.add(rc.name));
    groups.push({ smmu: s, rcs });
  }
  const bare = r.topology.filter((rc) => !placed.has(rc.name));
  if (bare.length) groups.push({ smmu: null, rcs: bare });

  // Column contents and widths.
  interface Row {
    f: ReportFunction;
    depth: number;
    lines: TextLine[];
    parent: number;
  }
  const columns = groups.flatMap((g) =>
    g.rcs.map((rc) => {
      const byName = new Map(rc.functions.map((f) => [f.name, f]));
      const childOf = new Set(rc.functions.flatMap((f) => f.children));
      const rows: Row[] = [];
      const visit = (f: ReportFunction, depth: number, parent: number): void => {
        if (depth > 16) return;
        const me = rows.length;
        rows.push({ f, depth, lines: fnLines(f), parent });
        for (const k of f.children) {
          const kf = byName.get(k);
          if (kf) visit(kf, depth + 1, me);
        }
      };
      for (const f of rc.functions.filter((g2) => !childOf.has(g2.name))) visit(f, 0, -1);
      const header = rcLines(rc, r);
      const width = Math.max(boxSize(header).w, ...rows.map((row) => row.depth * INDENT + boxSize(row.lines).w));
      return { rc, header, rows, width };
    }),
  );
  // An SMMU spans its columns; a wider SMMU box widens its last column.
  const smmuLines = (s: NonNullable<(typeof groups)[number]['smmu']>): TextLine[] => [
    { text: ascii(`SMMUv3 ${s.name} @ ${s.base}`), size: 12, bold: true },
    { text: ascii(`features ${s.features}`), size: 10, color: '#334155' },
  ];
  let ci = 0;
  const groupCols = groups.map((g) => {
    const cols = columns.slice(ci, ci + g.rcs.length);
    ci += g.rcs.length;
    if (g.smmu) {
      const need = boxSize(smmuLines(g.smmu)).w;
      const span = cols.reduce((a, c) => a + c.width, 0) + COL_GAP * Math.max(0, cols.length - 1);
      if (cols.length && span < need) cols[cols.length - 1]!.width += need - span;
    }
    return cols;
  });

  // Rows: MSI controller, SMMUs, root complexes.
  const msi = msiLines(r);
  const msiH = boxSize(msi).h;
  const smmuH = Math.max(0, ...r.platform.smmus.map((s) => boxSize(smmuLines(s)).h));
  const msiY = MARGIN;
  const smmuY = msiY + msiH + ROW_GAP;
  const rcY = smmuY + (smmuH > 0 ? smmuH + ROW_GAP : 0);

  let x = MARGIN;
  let bottom = rcY;
  const smmuBoxes: { box: LayoutBox; cols: { cx: number; top: number }[] }[] = [];
  const bareTops: { cx: number; top: number }[] = [];
  groups.forEach((g, gi) => {
    const cols = groupCols[gi]!;
    const gx = x;
    const tops: { cx: number; top: number }[] = [];
    for (const c of cols) {
      const hs = boxSize(c.header);
      boxes.push({ x, y: rcY, w: c.width, h: hs.h, fill: '#f1f5f9', lines: c.header });
      tops.push({ cx: x + c.width / 2, top: rcY });
      let y = rcY + hs.h + TREE_GAP * 2;
      const placedRows: LayoutBox[] = [];
      for (const row of c.rows) {
        const bx = x + row.depth * INDENT;
        const bs = boxSize(row.lines);
        const b: LayoutBox = { x: bx, y, w: c.width - row.depth * INDENT, h: bs.h, fill: FILL[row.f.kind] ?? '#f8fafc', lines: row.lines };
        boxes.push(b);
        placedRows.push(b);
        if (row.parent >= 0) {
          const p = placedRows[row.parent]!;
          const lx = p.x + INDENT / 2;
          lines.push({ points: [[lx, p.y + p.h], [lx, y + bs.h / 2], [bx, y + bs.h / 2]], arrow: false, dashed: false, color: '#94a3b8' });
        }
        y += bs.h + TREE_GAP;
      }
      bottom = Math.max(bottom, y);
      x += c.width + COL_GAP;
    }
    if (g.smmu) {
      const lines2 = smmuLines(g.smmu);
      const w = cols.length ? x - COL_GAP - gx : boxSize(lines2).w;
      if (!cols.length) x += w + COL_GAP;
      smmuBoxes.push({ box: { x: gx, y: smmuY, w, h: boxSize(lines2).h, fill: '#fbcfe8', lines: lines2 }, cols: tops });
    } else bareTops.push(...tops);
  });
  const contentW = Math.max(x - COL_GAP - MARGIN, boxSize(msi).w);
  const msiBox: LayoutBox = { x: MARGIN, y: msiY, w: contentW, h: msiH, fill: '#fde68a', lines: msi };
  boxes.unshift(msiBox);
  const hasMsi = r.platform.its !== null || r.platform.v2m !== null;
  for (const s of smmuBoxes) {
    boxes.splice(1, 0, s.box);
    for (const c of s.cols) lines.push({ points: [[c.cx, c.top], [c.cx, s.box.y + s.box.h]], arrow: true, dashed: false, color: '#475569' });
    if (hasMsi) lines.push({ points: [[s.box.x + s.box.w / 2, s.box.y], [s.box.x + s.box.w / 2, msiBox.y + msiBox.h]], arrow: true, dashed: false, color: '#475569' });
  }
  if (hasMsi) for (const c of bareTops) lines.push({ points: [[c.cx, c.top], [c.cx, msiBox.y + msiBox.h]], arrow: true, dashed: true, color: '#475569' });

  const caption: TextLine = { text: ascii(`vsmmu run - ${r.scenario.name}`), size: 10, color: '#64748b' };
  const width = Math.ceil(MARGIN * 2 + contentW);
  const maxChars = Math.floor((width - 2 * MARGIN) / (caption.size * ADVANCE_EM));
  const cap = caption.text.length > maxChars ? { ...caption, text: `${caption.text.slice(0, Math.max(0, maxChars - 3))}...` } : caption;
  const capY = bottom + ROW_GAP / 2 + cap.size * ASCENT;
  const height = Math.ceil(capY + cap.size * (LINE - ASCENT) + MARGIN);
  return { width, height, boxes, lines, captions: [{ x: MARGIN, y: capY, line: cap }] };
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const num = (v: number): string => String(Math.round(v * 100) / 100);

function textEl(x: number, y: number, l: TextLine): string {
  return `<text x="${num(x)}" y="${num(y)}" font-size="${l.size}"${l.bold ? ' font-weight="bold"' : ''}${l.color ? ` fill="${l.color}"` : ''}>${esc(l.text)}</text>`;
}

export function renderSvg(r: ScenarioReport): string {
  const L = layoutTopology(r);
  const parts: string[] = [];
  for (const b of L.boxes) {
    const ys = baselines(b);
    parts.push(`<g><rect x="${num(b.x)}" y="${num(b.y)}" width="${num(b.w)}" height="${num(b.h)}" rx="5" fill="${b.fill}" stroke="#334155"/>`);
    b.lines.forEach((l, i) => parts.push(textEl(b.x + PAD_X, ys[i]!, l)));
    parts.push('</g>');
  }
  for (const l of L.lines) {
    const pts = l.points.map(([px, py]) => `${num(px)},${num(py)}`).join(' ');
    parts.push(`<polyline points="${pts}" fill="none" stroke="${l.color}" stroke-width="1.5"${l.dashed ? ' stroke-dasharray="5 4"' : ''}${l.arrow ? ' marker-end="url(#arrow)"' : ''}/>`);
  }
  for (const c of L.captions) parts.push(textEl(c.x, c.y, c.line));
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${L.width}" height="${L.height}" viewBox="0 0 ${L.width} ${L.height}" font-family="${esc(FONT_FAMILY)}">`,
    `<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto"><path d="M 0 0 L 10 5 L 0 10 z" fill="#475569"/></marker></defs>`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...parts,
    `</svg>`,
    '',
  ].join('\n');
}
