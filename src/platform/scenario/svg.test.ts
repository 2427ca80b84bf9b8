// The topology drawing reads well: every text line lies inside its box (off the border) and
// inside the canvas, no two boxes or text lines overlap, no line crosses a box or a text line.
// Checked twice: exactly on the layout with the metrics of DejaVu Sans Mono (advance 0.602 em,
// ascent 0.928 em, descent 0.236 em), and on the drawing as a real SVG renderer (resvg) lays it
// out: the ink extent of each text element comes from the renderer. GICv2m MSIs are SPIs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import { loadScenarioFile, parseScenario } from './load.js';
import type { ScenarioReport } from './report.js';
import { runScenario } from './runner.js';
import { baselines, layoutTopology, PAD_X, renderSvg } from './svg.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const FONT_DIR = '/usr/share/fonts/truetype/dejavu';
const FONTS = [join(FONT_DIR, 'DejaVuSansMono.ttf'), join(FONT_DIR, 'DejaVuSansMono-Bold.ttf')];

interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}
type Seg = [number, number, number, number];

const overlap = (a: Rect, b: Rect): boolean => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
const inside = (a: Rect, b: Rect, inset: number): boolean => a.x >= b.x + inset && a.y >= b.y + inset && a.x + a.w <= b.x + b.w - inset && a.y + a.h <= b.y + b.h - inset;
const grow = (r: Rect, d: number): Rect => ({ x: r.x - d, y: r.y - d, w: r.w + 2 * d, h: r.h + 2 * d });
const show = (r: Rect): string => `(${r.x.toFixed(1)},${r.y.toFixed(1)} ${r.w.toFixed(1)}x${r.h.toFixed(1)})`;

/** Does the segment pass through the open interior of the rectangle (Liang-Barsky clipping)? */
function crosses([x1, y1, x2, y2]: Seg, r: Rect): boolean {
  let t0 = 0;
  let t1 = 1;
  const dx = x2 - x1;
  const dy = y2 - y1;
  const clips: [number, number][] = [
    [-dx, x1 - r.x],
    [dx, r.x + r.w - x1],
    [-dy, y1 - r.y],
    [dy, r.y + r.h - y1],
  ];
  for (const [p, q] of clips) {
    if (p === 0) {
      if (q <= 0) return false;
    } else {
      const t = q / p;
      if (p < 0) t0 = Math.max(t0, t);
      else t1 = Math.min(t1, t);
    }
  }
  return t1 - t0 > 1e-9;
}

function reports(): [string, ScenarioReport][] {
  const out: [string, ScenarioReport][] = [];
  for (const f of ['default', 'gicv2m', 'two-segments']) {
    const { scenario, platform } = loadScenarioFile(join(ROOT, 'examples/scenarios', `${f}.yaml`));
    out.push([f, runScenario(scenario, platform)]);
  }
  // No MSI controller, two SMMUs and a root complex without one, long names, a deep switch chain.
  const text = `
name: a scenario with a rather long name to see that the caption stays on the canvas whatever it says
platform:
  description:
    memory: [{ base: 0x40000000, size: 0x10000000 }]
    cpus: { count: 1 }
    gic: { version: 3, distributor: { base: 0x08000000, size: 0x10000 }, redistributors: [{ base: 0x080a0000, size: 0x20000 }], msi: none }
    smmus:
      - { name: smmu-with-a-long-name, base: 0x09050000, rootComplexes: [a], features: qemu-7.2, interrupts: { eventq: { spi: 74 }, gerror: { spi: 77 } } }
      - { name: s1, base: 0x09100000, rootComplexes: [b], features: qemu-7.2, interrupts: { eventq: { spi: 78 }, gerror: { spi: 79 } } }
    rootComplexes:
      - name: a
        ecam: { base: 0x4010000000, size: 0x1000000 }
        buses: { start: 0, end: 15 }
        mmio32: { base: 0x10000000, size: 0x1000000 }
        ports: [{ name: r, device: 1, child: { kind: switch, name: sw, downstreamPorts: [{ name: d, child: { kind: switch, name: sw2, downstreamPorts: [{ name: d2, child: { kind: endpoint, name: an-endpoint-with-a-very-long-name-indeed, functions: 2 } }] } }] } }]
      - { name: b, segment: 1, ecam: { base: 0x4020000000, size: 0x1000000 }, buses: { start: 0, end: 15 }, mmio32: { base: 0x11000000, size: 0x1000000 }, ports: [{ name: r, device: 1, child: { kind: endpoint, name: e } }] }
      - { name: c, segment: 2, ecam: { base: 0x4030000000, size: 0x1000000 }, buses: { start: 0, end: 15 }, mmio32: { base: 0x12000000, size: 0x1000000 }, ports: [{ name: r, device: 1 }] }
steps: [{ note: x }]
`;
  const { scenario, platform } = parseScenario(text, 'wide.yaml');
  out.push(['wide', runScenario(scenario, platform)]);
  return out;
}

const ALL = reports();

test('layout: text inside its box and the canvas, nothing overlaps, no line crosses a box (DejaVu Sans Mono metrics)', () => {
  const ADV = 0.602;
  const ASC = 0.928;
  const DESC = 0.236;
  for (const [name, r] of ALL) {
    const L = layoutTopology(r);
    const canvas = { x: 0, y: 0, w: L.width, h: L.height };
    const texts: Rect[] = [];
    L.boxes.forEach((b, i) => {
      assert.ok(inside(b, canvas, 0), `${name}: box ${i} ${show(b)} leaves the canvas ${L.width}x${L.height}`);
      L.boxes.slice(i + 1).forEach((o) => assert.ok(!overlap(b, o), `${name}: boxes ${show(b)} and ${show(o)} overlap`));
      const ys = baselines(b);
      b.lines.forEach((l, k) => {
        const t = { x: b.x + PAD_X, y: ys[k]! - ASC * l.size, w: l.text.length * ADV * l.size, h: (ASC + DESC) * l.size };
        assert.ok(inside(t, b, 1), `${name}: "${l.text}" ${show(t)} is not inside its box ${show(b)}`);
        texts.push(t);
      });
    });
    for (const c of L.captions) {
      const t = { x: c.x, y: c.y - ASC * c.line.size, w: c.line.text.length * ADV * c.line.size, h: (ASC + DESC) * c.line.size };
      assert.ok(inside(t, canvas, 1), `${name}: caption ${show(t)} leaves the canvas`);
      for (const b of L.boxes) assert.ok(!overlap(t, b), `${name}: caption over a box`);
    }
    for (const l of L.lines) {
      for (let k = 1; k < l.points.length; k++) {
        const seg: Seg = [...l.points[k - 1]!, ...l.points[k]!] as Seg;
        for (const b of L.boxes) assert.ok(!crosses(seg, b), `${name}: line ${seg.join(',')} crosses box ${show(b)}`);
        for (const t of texts) assert.ok(!crosses(seg, grow(t, 2)), `${name}: line ${seg.join(',')} crosses text ${show(t)}`);
      }
    }
    assert.ok(texts.length > 6);
  }
});

const fontsPresent = FONTS.every((f) => existsSync(f));

test('rendered: the ink of every text stays in its box and the canvas, no overlaps, no line over text (resvg)', () => {
  assert.ok(fontsPresent, `DejaVu Sans Mono is needed to render the drawing (Debian: apt-get install fonts-dejavu-core): ${FONTS.join(', ')}`);
  const font = { fontFiles: FONTS, loadSystemFonts: false, defaultFontFamily: 'DejaVu Sans Mono', monospaceFamily: 'DejaVu Sans Mono' };
  for (const [name, r] of ALL) {
    const svg = renderSvg(r);
    const root = /<svg [^>]*>/.exec(svg)![0];
    const width = Number(/width="(\d+)"/.exec(root)![1]);
    const height = Number(/height="(\d+)"/.exec(root)![1]);
    const canvas = { x: 0, y: 0, w: width, h: height };
    const full = new Resvg(svg, { font });
    assert.deepEqual([full.width, full.height], [width, height]);
    assert.ok(full.render().asPng().length > 1000);
    /** Ink extent of one text element, laid out by the renderer on the same canvas. */
    const ink = (el: string): Rect => {
      const bb = new Resvg(`${root}${el}</svg>`, { font }).getBBox();
      assert.ok(bb, `${name}: the renderer drew nothing for ${el}`);
      return { x: bb.x, y: bb.y, w: bb.width, h: bb.height };
    };
    const texts: { el: string; r: Rect }[] = [];
    const rects: Rect[] = [];
    for (const g of svg.matchAll(/<g><rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"[^>]*\/>([\s\S]*?)<\/g>/g)) {
      const box = { x: Number(g[1]), y: Number(g[2]), w: Number(g[3]), h: Number(g[4]) };
      rects.push(box);
      for (const t of g[5]!.matchAll(/<text [^>]*>[^<]*<\/text>/g)) {
        const e = ink(t[0]);
        assert.ok(inside(e, box, 1), `${name}: ${t[0]} ink ${show(e)} is not inside its box ${show(box)} (off the border)`);
        texts.push({ el: t[0], r: e });
      }
    }
    const outside = svg.replace(/<g>[\s\S]*?<\/g>/g, '');
    for (const t of outside.matchAll(/<text [^>]*>[^<]*<\/text>/g)) {
      const e = ink(t[0]);
      for (const b of rects) assert.ok(!overlap(e, b), `${name}: ${t[0]} lies over a box`);
      texts.push({ el: t[0], r: e });
    }
    assert.ok(texts.length > 6);
    texts.forEach((t, i) => {
      assert.ok(inside(t.r, canvas, 0), `${name}: ${t.el} ${show(t.r)} leaves the canvas ${width}x${height}`);
      for (const o of texts.slice(i + 1)) assert.ok(!overlap(t.r, o.r), `${name}: ${t.el} overlaps ${o.el}`);
    });
    for (const p of svg.matchAll(/<polyline points="([^"]+)"/g)) {
      const pts = p[1]!.split(' ').map((xy) => xy.split(',').map(Number) as [number, number]);
      for (let k = 1; k < pts.length; k++) {
        const seg: Seg = [...pts[k - 1]!, ...pts[k]!] as Seg;
        for (const t of texts) assert.ok(!crosses(seg, grow(t.r, 1)), `${name}: line ${seg.join(',')} crosses ${t.el}`);
      }
    }
  }
});

test('GICv2m: MSIs are drawn as SPIs, with no DeviceIDs', () => {
  const svg = renderSvg(ALL.find(([n]) => n === 'gicv2m')![1]);
  assert.ok(svg.includes('MSIs are SPIs: INTID 112..175'), svg);
  assert.ok(svg.includes('MSIs -&gt; v2m0: SPIs, no DeviceID'));
  assert.doesNotMatch(svg, /DevID|stream ID -&gt; DeviceID/);
  const its = renderSvg(ALL.find(([n]) => n === 'default')![1]);
  assert.ok(its.includes('RID 0x0..0x1fff -&gt; its0 DevID 0x10000..0x11fff'));
  assert.ok(its.includes('stroke-dasharray'), 'pcie1 (no SMMU) goes straight to the ITS');
});
