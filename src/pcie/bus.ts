// A PCI bus segment of the topology: the root bus of a root complex, or the secondary bus of a
// Type 1 function (root port, switch upstream or downstream port). Holds the functions by devfn
// and resolves, lazily and without allocation, the bus number the guest assigned.
//
// Unassigned bus (the decision, after PCIe Base r5.0 §2.2.6.2 and §7.5.1.3.3-5): a function
// captures its bus number from configuration requests routed to it, which requires every bridge
// on its path to carry a consistent [secondary, subordinate] window. Until then the function has
// no requester ID. We treat such a function as having none: its DMA fails ('no-requester-id')
// and its MSIs are dropped with a diagnostic. (The OpenVMM original instead let it bypass the
// SMMU untranslated, i.e. unchecked DMA before enumeration; we do not.)
//
// A bus numbered `sec` (the secondary bus of bridge B on a bus numbered p whose reachable window
// is [p, L]) is assigned when p < sec <= L; its own reachable window is then
// [sec, min(max(subordinate, sec), L)] (the root bus's window is the root complex's bus range).
// This is exactly when configuration requests for bus `sec` reach it: a bridge converts a Type 1
// request whose bus equals its secondary bus number to Type 0, and forwards buses in
// (secondary, subordinate] (PCI-to-PCI Bridge Architecture r1.2 §3.1.2.1; QEMU 7.2 behaves the
// same, test/pcie/qemu-ecam.test.ts). Overlapping sibling windows are undefined; we take the
// lowest devfn. Requests from below
// a bridge are forwarded upstream only when the bridge's Bus Master Enable is set (§7.5.1.1.3,
// Type 1 semantics), which `resolve` reports in `pathBlocked`.
import { HDR1 } from '../spec/pcie/config-header.js';
import type { PciFunction } from './function.js';
import type { RootComplex } from './root-complex.js';
import { routingChanged } from './routing-epoch.js';

export const NO_BUS = -1;

/** The minimal view of a Type 1 function a bus needs. */
export interface BridgeLike {
  readonly name: string;
  bus: PciBus | null;
  readonly busMaster: boolean;
  readonly config: { get(offset: number, size: 1 | 2 | 4): number };
  readonly secondary: PciBus;
}

export class PciBus {
  /** Functions by devfn. */
  readonly slots: (PciFunction | null)[] = new Array<PciFunction | null>(256).fill(null);
  /** The Type 1 functions on this bus (their secondary buses hang below). */
  readonly bridges: BridgeLike[] = [];
  /** Subordinate bus number of the last successful `resolve` (the window's end). */
  limit = 0;
  /** After `resolve`: some bridge between this bus and the root has Bus Master Enable clear. */
  pathBlocked = false;

  constructor(
    private readonly root: RootComplex | null,
    /** The bridge whose secondary bus this is; null for a root bus. */
    readonly bridge: BridgeLike | null,
  ) {}

  /** The root complex this bus currently belongs to, or null when detached. */
  get rc(): RootComplex | null {
    if (this.root !== null) return this.root;
    let b: PciBus | null = this.bridge?.bus ?? null;
    for (let depth = 0; b !== null && depth < 256; depth++) {
      if (b.root !== null) return b.root;
      b = b.bridge?.bus ?? null;
    }
    return null;
  }

  /**
   * The bus number the guest assigned to this bus, or NO_BUS. Sets `limit` and `pathBlocked`.
   * Bounded by the topology depth (each level's secondary is strictly above its parent's).
   */
  resolve(): number {
    const br = this.bridge;
    if (br === null) {
      const rc = this.root;
      if (rc === null) return NO_BUS;
      this.limit = rc.busEnd;
      this.pathBlocked = false;
      return rc.busStart;
    }
    const parent = br.bus;
    if (parent === null) return NO_BUS;
    const own = parent.resolve();
    if (own < 0) return NO_BUS;
    const sec = br.config.get(HDR1.SECONDARY_BUS.offset, 1);
    const sub = br.config.get(HDR1.SUBORDINATE_BUS.offset, 1);
    const lim = parent.limit;
    if (sec <= own || sec > lim) return NO_BUS;
    const top = sub > sec ? sub : sec;
    this.limit = top < lim ? top : lim;
    this.pathBlocked = parent.pathBlocked || !br.busMaster;
    return sec;
  }

  /** Function at `devfn` on the bus numbered `target` below this bus (numbered `own`), or null. */
  find(own: number, limit: number, target: number, devfn: number): PciFunction | null {
    let bus: PciBus = this;
    let num = own;
    let lim = limit;
    // Each step moves to a bus with a strictly larger number, so at most 256 steps.
    for (let steps = 0; steps < 257; steps++) {
      if (num === target) return bus.slots[devfn] ?? null;
      let next: PciBus | null = null;
      for (const br of bus.bridges) {
        const sec = br.config.get(HDR1.SECONDARY_BUS.offset, 1);
        const sub = br.config.get(HDR1.SUBORDINATE_BUS.offset, 1);
        const top = sub > sec ? sub : sec;
        if (sec > num && sec <= lim && target >= sec && target <= top && target <= lim) {
          next = br.secondary;
          num = sec;
          lim = top < lim ? top : lim;
          break;
        }
      }
      if (next === null) return null;
      bus = next;
    }
    return null;
  }

  /** Every function on this bus and below (depth-first), with its bus. For tools. */
  *walk(): Generator<PciFunction> {
    for (const f of this.slots) {
      if (f === null) continue;
      yield f;
    }
    for (const br of this.bridges) yield* br.secondary.walk();
  }

  attach(fn: PciFunction, devfn: number): void {
    if (!(Number.isInteger(devfn) && devfn >= 0 && devfn < 256)) throw new RangeError(`bad devfn ${devfn}`);
    if (this.slots[devfn]) throw new RangeError(`devfn ${devfn} already occupied by ${this.slots[devfn]!.name}`);
    if (fn.bus !== null) throw new RangeError(`${fn.name} is already attached`);
    this.slots[devfn] = fn;
    fn.bus = this;
    fn.devfn = devfn;
    if (isBridge(fn)) this.bridges.push(fn);
    routingChanged();
  }

  detach(fn: PciFunction): void {
    if (fn.bus !== this) return;
    this.slots[fn.devfn] = null;
    fn.bus = null;
    const i = this.bridges.indexOf(fn as unknown as BridgeLike);
    if (i >= 0) this.bridges.splice(i, 1);
    routingChanged();
  }
}

function isBridge(fn: PciFunction): fn is PciFunction & BridgeLike {
  return (fn as Partial<BridgeLike>).secondary instanceof PciBus;
}
