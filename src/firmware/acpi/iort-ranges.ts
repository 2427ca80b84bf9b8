// IORT ID resolution for whole ranges of IDs at once, with exactly the per-ID semantics of
// `mapId`/`mapStep` in ./iort-resolve.ts (Linux 6.1's iort_node_map_id).
//
// One node's mapping step is piecewise: its result (which mapping applies, hence the output node
// and "output = input + delta" or a single mapping's constant) can only change at the first or
// last ID of one of its ranges, because every comparison mapStep makes is against those two
// values. So the ID space [0, 2^32) splits into elementary pieces — each range end point alone,
// and the open intervals between them — and evaluating mapStep once per piece gives the step for
// every ID of the piece. A walk then carries ranges of requester IDs from node to node, splitting
// them only where a node's pieces do. Work is proportional to the pieces visited, not to the
// number of IDs, and every walk is bounded by the node count as in mapId (a reference cycle ends
// as "no mapping").
import type { IortIdMap, IortNode, IortTable } from './iort-types.js';
import { mapStep, nodeByOffset, type NodeTypeMask } from './iort-resolve.js';
import { intervalIndex } from '../../util/interval-index.js';

const ID_MAX = 0xffff_ffff;

/** Where the IDs `lo..hi` (of the walk's start node) end up. */
export interface IortRangePiece {
  readonly lo: number;
  readonly hi: number;
  /** The node of a wanted type reached, or null (no mapping, a NULL or dangling reference, a cycle). */
  readonly node: IortNode | null;
  /** The output ID of `lo`. */
  readonly id: number;
  /** True when the output is `id + (input - lo)`; false when every input maps to `id` (a single mapping on the way). */
  readonly linear: boolean;
}

/** The output ID of `input` in a piece. */
export function pieceId(p: IortRangePiece, input: number): number {
  return p.linear ? p.id + (input - p.lo) : p.id;
}

interface StepPieces {
  /** Piece i covers starts[i] .. starts[i+1]-1 (the last one up to 2^32 - 1). */
  readonly starts: number[];
  /** The mapping that applies in piece i, or null (no mapping). */
  readonly maps: (IortIdMap | null)[];
  /** Output minus input in piece i (unused for single mappings). */
  readonly deltas: number[];
}

interface WalkItem {
  node: IortNode | undefined;
  idLo: number;
  idHi: number;
  ridLo: number;
  ridHi: number;
  hops: number;
}

/** Range resolution over one table; per-node pieces are computed once, on first use. */
export class IortRangeResolver {
  private readonly nodes: Map<number, IortNode>;
  private readonly pieces = new Map<IortNode, StepPieces>();
  /** Pieces visited and mapStep evaluations made (bounded-work tests count these). */
  work = 0;

  constructor(private readonly t: IortTable, nodes?: Map<number, IortNode>) {
    this.nodes = nodes ?? nodeByOffset(t);
  }

  private stepPieces(n: IortNode): StepPieces {
    const cached = this.pieces.get(n);
    if (cached) return cached;
    const points = new Set<number>();
    for (const m of n.mappings) {
      if (m.single) continue;
      if (m.inputBase <= ID_MAX) points.add(m.inputBase);
      if (m.inputBase + m.idCount <= ID_MAX) points.add(m.inputBase + m.idCount);
    }
    const sorted = [...points].sort((a, b) => a - b);
    const starts: number[] = [];
    const add = (s: number): void => {
      if (starts.length === 0 || starts[starts.length - 1]! < s) starts.push(s);
    };
    add(0);
    for (const p of sorted) {
      add(p);
      if (p < ID_MAX) add(p + 1);
    }
    const maps: (IortIdMap | null)[] = [];
    const deltas: number[] = [];
    const outStarts: number[] = [];
    for (const s of starts) {
      this.work += 1 + n.mappings.length;
      const step = mapStep(n, s);
      const m = step ? step.mapping : null;
      const delta = step && !m!.single ? step.id - s : 0;
      const last = maps.length - 1;
      // Neighbouring pieces with the same outcome merge (the same mapping gives the same delta,
      // except across the 2^32 wrap, which the walk splits itself).
      if (last >= 0 && maps[last] === m && deltas[last] === delta) continue;
      outStarts.push(s);
      maps.push(m);
      deltas.push(delta);
    }
    const r = { starts: outStarts, maps, deltas };
    this.pieces.set(n, r);
    return r;
  }

  /**
   * Maps the IDs `lo..hi` from node `start` until nodes whose type is in `mask` are reached:
   * pieces covering `lo..hi` in order, each as `mapId` would resolve every ID in it.
   */
  mapRange(start: IortNode, lo: number, hi: number, mask: NodeTypeMask): IortRangePiece[] {
    const out: IortRangePiece[] = [];
    const stack: WalkItem[] = [{ node: start, idLo: lo, idHi: hi, ridLo: lo, ridHi: hi, hops: 0 }];
    const limit = this.t.nodes.length;
    while (stack.length > 0) {
      const it = stack.pop()!;
      this.work++;
      const linear = it.idHi - it.idLo === it.ridHi - it.ridLo;
      const node = it.node;
      if (!node || it.hops > limit) {
        out.push({ lo: it.ridLo, hi: it.ridHi, node: null, id: 0, linear: true });
        continue;
      }
      if ((1 << node.type) & mask) {
        out.push({ lo: it.ridLo, hi: it.ridHi, node, id: it.idLo, linear: linear && it.ridHi > it.ridLo });
        continue;
      }
      const p = this.stepPieces(node);
      const a = intervalIndex(p.starts, it.idLo);
      const next: WalkItem[] = [];
      for (let i = a; i < p.starts.length && p.starts[i]! <= it.idHi; i++) {
        this.work++;
        const sLo = Math.max(it.idLo, p.starts[i]!);
        const sHi = Math.min(it.idHi, i + 1 < p.starts.length ? p.starts[i + 1]! - 1 : ID_MAX);
        const rLo = linear ? it.ridLo + (sLo - it.idLo) : it.ridLo;
        const rHi = linear ? it.ridLo + (sHi - it.idLo) : it.ridHi;
        const m = p.maps[i]!;
        if (m === null || m.outputReference === 0) {
          next.push({ node: undefined, idLo: 0, idHi: 0, ridLo: rLo, ridHi: rHi, hops: it.hops });
          continue;
        }
        const target = this.nodes.get(m.outputReference);
        if (m.single) {
          next.push({ node: target, idLo: m.outputBase, idHi: m.outputBase, ridLo: rLo, ridHi: rHi, hops: it.hops + 1 });
          continue;
        }
        const oLo = (((sLo + p.deltas[i]!) % 0x1_0000_0000) + 0x1_0000_0000) % 0x1_0000_0000;
        const len = sHi - sLo;
        if (oLo + len <= ID_MAX) {
          next.push({ node: target, idLo: oLo, idHi: oLo + len, ridLo: rLo, ridHi: rHi, hops: it.hops + 1 });
        } else {
          // The output wraps past 2^32 - 1 (mapStep's >>> 0): two ranges. Only a linear range can
          // span more than one output ID here, so its requester IDs split at the same place.
          const first = ID_MAX - oLo;
          next.push({ node: target, idLo: oLo, idHi: ID_MAX, ridLo: rLo, ridHi: rLo + first, hops: it.hops + 1 });
          next.push({ node: target, idLo: 0, idHi: len - first - 1, ridLo: rLo + first + 1, ridHi: rHi, hops: it.hops + 1 });
        }
      }
      for (let i = next.length - 1; i >= 0; i--) stack.push(next[i]!);
    }
    // A constant (single-mapped) range reached through several pieces can appear more than once
    // in requester-ID order; the stack keeps pieces in order, so only adjacent pieces can repeat.
    return mergeAdjacent(out);
  }
}

function mergeAdjacent(ps: IortRangePiece[]): IortRangePiece[] {
  const out: IortRangePiece[] = [];
  for (const p of ps) {
    const q = out[out.length - 1];
    if (q && q.hi + 1 === p.lo && q.node === p.node && (q.node === null || (q.linear && p.linear && pieceId(q, p.lo) === p.id))) {
      out[out.length - 1] = { ...q, hi: p.hi, linear: q.node === null ? true : q.linear };
    } else out.push(p);
  }
  return out;
}
