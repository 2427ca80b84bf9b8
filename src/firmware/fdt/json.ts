// A device tree as typed JSON (`vsmmu decode --json` of a DTB): every node with its path, and each
// property decoded by what the Devicetree Specification (v0.4 §2.3, §2.4) and the PCI, IOMMU and
// MSI bindings say it holds — strings, numbers, `reg` as address/size pairs in the parent's cell
// sizes, `interrupts` in the interrupt parent's format, `iommu-map`/`msi-map` as RID ranges with
// their target nodes, phandle references with the path they point at. What is not recognised is
// given as dtc would guess it. The tree is walked once and phandles are indexed once.
import { hex } from '../../util/hex.js';
import { guessValueType } from './dts.js';
import { getProp, walk, type Fdt, type FdtNode } from './tree.js';

export type FdtJson = null | boolean | number | string | FdtJson[] | { [k: string]: FdtJson };

interface Indexed {
  readonly path: string;
  readonly node: FdtNode;
  readonly parent: Indexed | null;
}

const STRING_PROPS = new Set(['compatible', 'model', 'status', 'device_type', 'name', 'bootargs', 'stdout-path', 'stdin-path', 'enable-method', 'method', 'clock-names', 'interrupt-names', 'reg-names', 'clock-output-names', 'label', 'entry-method']);
const NUMBER_PROPS = new Set(['phandle', 'linux,phandle', 'linux,pci-domain', 'clock-frequency', 'timebase-frequency', 'iommu-map-mask', 'msi-map-mask', 'arm,msi-base-spi', 'arm,msi-num-spis', 'linux,initrd-start', 'linux,initrd-end']);
const PHANDLE_PROPS = new Set(['interrupt-parent', 'msi-parent', 'iommus', 'clocks']);

function u32s(v: Uint8Array): number[] | null {
  if (v.length % 4 !== 0) return null;
  const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
  const out: number[] = [];
  for (let i = 0; i < v.length; i += 4) out.push(dv.getUint32(i));
  return out;
}

function strs(v: Uint8Array): string[] | null {
  if (v.length === 0 || v[v.length - 1] !== 0) return null;
  return new TextDecoder('latin1').decode(v.subarray(0, v.length - 1)).split('\0');
}

/** The value of `n` cells from `c` at `i` as "0x..." (null for zero cells). */
function wide(c: readonly number[], i: number, n: number): FdtJson {
  if (n === 0) return null;
  let v = 0n;
  for (let k = 0; k < n; k++) v = (v << 32n) | BigInt(c[i + k]!);
  return hex(v);
}

function raw(v: Uint8Array): FdtJson {
  if (v.length === 0) return true;
  const g = guessValueType(v);
  if (g === 'string') {
    const s = strs(v)!;
    return s.length === 1 ? s[0]! : s;
  }
  if (g === 'cells') return u32s(v)!;
  return { bytes: Array.from(v, (b) => b.toString(16).padStart(2, '0')).join('') };
}

class Decoder {
  private readonly byPhandle = new Map<number, Indexed>();
  readonly nodes: Indexed[] = [];

  constructor(fdt: Fdt) {
    const parentOf = new Map<FdtNode, Indexed>();
    for (const { path, node } of walk(fdt.root)) {
      const e: Indexed = { path, node, parent: parentOf.get(node) ?? null };
      for (const c of node.children) parentOf.set(c, e);
      this.nodes.push(e);
      const ph = this.cell(node, 'phandle') ?? this.cell(node, 'linux,phandle');
      if (ph !== null && !this.byPhandle.has(ph)) this.byPhandle.set(ph, e);
    }
  }

  private cell(n: FdtNode, name: string): number | null {
    const v = getProp(n, name);
    const c = v ? u32s(v) : null;
    return c && c.length === 1 ? c[0]! : null;
  }

  /** A #...-cells value of `n`, or `dflt` when absent. */
  private cellsOf(n: FdtNode | undefined, name: string, dflt: number): number {
    return (n && this.cell(n, name)) ?? dflt;
  }

  private target(ph: number): FdtJson {
    return this.byPhandle.get(ph)?.path ?? null;
  }

  /** The interrupt parent of `e`: its own or its nearest ancestor's `interrupt-parent`. */
  private interruptParent(e: Indexed): Indexed | null {
    for (let a: Indexed | null = e; a; a = a.parent) {
      const ph = this.cell(a.node, 'interrupt-parent');
      if (ph !== null) return this.byPhandle.get(ph) ?? null;
    }
    return null;
  }

  private reg(e: Indexed, c: number[]): FdtJson {
    const ac = this.cellsOf(e.parent?.node, '#address-cells', 2);
    const sc = this.cellsOf(e.parent?.node, '#size-cells', 1);
    const step = ac + sc;
    if (step === 0 || c.length % step !== 0) return c;
    const out: FdtJson[] = [];
    for (let i = 0; i < c.length; i += step) out.push({ address: wide(c, i, ac), size: wide(c, i + ac, sc) });
    return out;
  }

  private interrupts(e: Indexed, c: number[]): FdtJson {
    const ip = this.interruptParent(e);
    const n = ip ? this.cellsOf(ip.node, '#interrupt-cells', 0) : 0;
    if (!ip || n === 0 || c.length % n !== 0) return c;
    const gic = (strs(getProp(ip.node, 'compatible') ?? new Uint8Array()) ?? []).some((s) => /^arm,(gic-v3|cortex-a15-gic|gic-400|cortex-a9-gic)$/.test(s));
    const out: FdtJson[] = [];
    for (let i = 0; i < c.length; i += n) {
      if (gic && n === 3) {
        // GIC binding: <type number flags>, type 0 = SPI (INTID number + 32), 1 = PPI (INTID number + 16).
        const type = c[i]!, num = c[i + 1]!, flags = c[i + 2]!;
        const kind = type === 0 ? 'SPI' : type === 1 ? 'PPI' : `type ${type}`;
        const trig = (flags & 0xf) === 1 ? 'edge-rising' : (flags & 0xf) === 2 ? 'edge-falling' : (flags & 0xf) === 4 ? 'level-high' : (flags & 0xf) === 8 ? 'level-low' : 'none';
        out.push({ type: kind, number: num, ...(type <= 1 ? { intid: num + (type === 0 ? 32 : 16) } : {}), flags: hex(flags), trigger: trig });
      } else out.push(c.slice(i, i + n));
    }
    return { parent: ip.path, interrupts: out };
  }

  /** iommu-map / msi-map: <rid-base phandle out-base length> tuples (#iommu-cells / #msi-cells = 1). */
  private idMap(c: number[]): FdtJson {
    if (c.length % 4 !== 0) return c;
    const out: FdtJson[] = [];
    for (let i = 0; i < c.length; i += 4) {
      out.push({ ridBase: hex(c[i]!), phandle: c[i + 1]!, target: this.target(c[i + 1]!), outputBase: hex(c[i + 2]!), length: hex(c[i + 3]!) });
    }
    return out;
  }

  /** A phandle list with arguments: each reference takes the target's #<kind>-cells arguments. */
  private references(name: string, c: number[]): FdtJson {
    const cellsName = name === 'iommus' ? '#iommu-cells' : name === 'msi-parent' ? '#msi-cells' : name === 'clocks' ? '#clock-cells' : null;
    const out: FdtJson[] = [];
    for (let i = 0; i < c.length; ) {
      const ph = c[i]!;
      const t = this.byPhandle.get(ph);
      const n = cellsName && t ? this.cellsOf(t.node, cellsName, 0) : 0;
      if (i + 1 + n > c.length) return c;
      out.push({ phandle: ph, target: t?.path ?? null, ...(n > 0 ? { args: c.slice(i + 1, i + 1 + n).map((v) => hex(v)) } : {}) });
      i += 1 + n;
    }
    return name === 'interrupt-parent' && out.length === 1 ? out[0]! : out;
  }

  property(e: Indexed, name: string, v: Uint8Array): FdtJson {
    if (v.length === 0) return true;
    if (STRING_PROPS.has(name)) {
      const s = strs(v);
      if (s) return name === 'compatible' || name.endsWith('-names') ? s : s.length === 1 ? s[0]! : s;
    }
    const c = u32s(v);
    if (c) {
      if (name.startsWith('#') || NUMBER_PROPS.has(name)) return c.length === 1 ? c[0]! : c;
      if (name === 'reg') return this.reg(e, c);
      if (name === 'interrupts') return this.interrupts(e, c);
      if (name === 'iommu-map' || name === 'msi-map') return this.idMap(c);
      if (PHANDLE_PROPS.has(name)) return this.references(name, c);
      if (name === 'bus-range' && c.length === 2) return { start: c[0]!, end: c[1]! };
    }
    return raw(v);
  }
}

/** The typed JSON document for a device tree. */
export function fdtToJson(fdt: Fdt): FdtJson {
  const d = new Decoder(fdt);
  return {
    format: 'dtb',
    bootCpuidPhys: fdt.bootCpuidPhys,
    reservations: fdt.reservations.map((r) => ({ address: hex(r.address), size: hex(r.size) })),
    nodes: d.nodes.map((e) => ({
      path: e.path,
      properties: Object.fromEntries(e.node.props.map((p) => [p.name, d.property(e, p.name, p.value)])),
    })),
  };
}
