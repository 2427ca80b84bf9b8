// In-memory device tree: nodes with ordered properties (raw big-endian bytes) and children, plus
// helpers to make and read property values. Used by the DTB writer/reader and the DT builder.
// Devicetree Specification v0.4 §2.2 (nodes, properties), §2.3 (standard property types).

export interface FdtProperty {
  readonly name: string;
  readonly value: Uint8Array;
}

export interface FdtNode {
  /** Node name with unit address, e.g. "pcie@4010000000"; "" for the root. */
  readonly name: string;
  readonly props: FdtProperty[];
  readonly children: FdtNode[];
}

export interface FdtReservation {
  readonly address: bigint;
  readonly size: bigint;
}

export interface Fdt {
  readonly root: FdtNode;
  readonly reservations: readonly FdtReservation[];
  readonly bootCpuidPhys: number;
}

// ------------------------------------------------------------------ value constructors

/** <u32 ...> cells. */
export function cells(...v: readonly number[]): Uint8Array {
  const b = new Uint8Array(v.length * 4);
  const dv = new DataView(b.buffer);
  v.forEach((x, i) => {
    if (!Number.isInteger(x) || x < 0 || x > 0xffff_ffff) throw new RangeError(`cell value ${x} out of range`);
    dv.setUint32(i * 4, x);
  });
  return b;
}

/** A 64-bit number (below 2^53) as two cells, high first. */
export function u64Cells(v: number): [number, number] {
  return [Math.floor(v / 0x1_0000_0000), v % 0x1_0000_0000];
}

/** NUL-terminated string list ("a\0b\0"). */
export function strings(...s: readonly string[]): Uint8Array {
  return new TextEncoder().encode(s.map((x) => x + '\0').join(''));
}

export const EMPTY: Uint8Array = new Uint8Array(0);

export function node(name: string, props: readonly (readonly [string, Uint8Array])[] = [], children: FdtNode[] = []): FdtNode {
  return { name, props: props.map(([n, value]) => ({ name: n, value })), children };
}

// ------------------------------------------------------------------ accessors

export function getProp(n: FdtNode, name: string): Uint8Array | null {
  return n.props.find((p) => p.name === name)?.value ?? null;
}

/** Property as u32 cells, or null when absent or not a multiple of 4 bytes. */
export function propCells(n: FdtNode, name: string): number[] | null {
  const v = getProp(n, name);
  if (!v || v.length % 4 !== 0) return null;
  const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
  const out: number[] = [];
  for (let i = 0; i < v.length; i += 4) out.push(dv.getUint32(i));
  return out;
}

/** Property as a string list, or null when absent or not NUL-terminated. */
export function propStrings(n: FdtNode, name: string): string[] | null {
  const v = getProp(n, name);
  if (!v || v.length === 0 || v[v.length - 1] !== 0) return null;
  return new TextDecoder().decode(v.subarray(0, v.length - 1)).split('\0');
}

export function child(n: FdtNode, name: string): FdtNode | null {
  return n.children.find((c) => c.name === name) ?? null;
}

/** Node at an absolute path ("/", "/intc@8000000/its@8080000"), or null. */
export function findNode(root: FdtNode, path: string): FdtNode | null {
  let cur: FdtNode | null = root;
  for (const part of path.split('/').filter((p) => p !== '')) {
    if (!cur) return null;
    cur = child(cur, part);
  }
  return cur;
}

/** Every node (depth-first, pre-order) with its absolute path. */
export function walk(root: FdtNode): { path: string; node: FdtNode }[] {
  const out: { path: string; node: FdtNode }[] = [];
  const stack: { path: string; node: FdtNode }[] = [{ path: '/', node: root }];
  while (stack.length > 0) {
    const e = stack.pop() as { path: string; node: FdtNode };
    out.push(e);
    for (let i = e.node.children.length - 1; i >= 0; i--) {
      const c = e.node.children[i] as FdtNode;
      stack.push({ path: (e.path === '/' ? '' : e.path) + '/' + c.name, node: c });
    }
  }
  return out;
}

/** The node whose `phandle` property is `ph`, or null. */
export function byPhandle(root: FdtNode, ph: number): { path: string; node: FdtNode } | null {
  return walk(root).find((e) => propCells(e.node, 'phandle')?.[0] === ph) ?? null;
}
