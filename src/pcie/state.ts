// Save/restore of a root complex's PCIe state to a JSON-serialisable object: every function's
// 4 KiB configuration space (base64; bus numbers, BARs, command, MSI/MSI-X registers, slot
// state), MSI-X tables and PBAs, and the ports' interrupt edge detectors. The topology itself
// (which devices sit where) is structural: restore into a root complex built the same way;
// functions are matched in walk order by name. Device models save their own BAR state.
import { PciePort } from './port.js';
import type { RootComplex } from './root-complex.js';

export const PCIE_STATE_VERSION = 1;

export interface PcieFunctionState {
  readonly name: string;
  /** 4096 bytes, base64. */
  readonly config: string;
  readonly msix?: { readonly table: number[]; readonly pba: number[] };
  readonly latches?: { readonly hotplugLine: boolean; readonly secondaryReset: boolean };
}

export interface PcieState {
  readonly version: number;
  readonly kind: 'pcie-root-complex';
  readonly rootComplex: string;
  readonly functions: readonly PcieFunctionState[];
}

export function savePcieState(rc: RootComplex): PcieState {
  return {
    version: PCIE_STATE_VERSION,
    kind: 'pcie-root-complex',
    rootComplex: rc.name,
    functions: rc.functions().map((f) => ({
      name: f.name,
      config: Buffer.from(f.config.bytes).toString('base64'),
      ...(f.msix ? { msix: f.msix.snapshot() } : {}),
      ...(f instanceof PciePort ? { latches: f.latches } : {}),
    })),
  };
}

/** Restores {@link savePcieState} output; throws RangeError on a malformed or mismatched state. */
export function restorePcieState(rc: RootComplex, state: unknown): void {
  if (typeof state !== 'object' || state === null) throw new RangeError('PCIe state: not an object');
  const s = state as Partial<PcieState>;
  if (s.kind !== 'pcie-root-complex' || s.version !== PCIE_STATE_VERSION) throw new RangeError('PCIe state: wrong kind or version');
  if (s.rootComplex !== rc.name) throw new RangeError(`PCIe state: saved from ${String(s.rootComplex)}, not ${rc.name}`);
  const fns = rc.functions();
  if (!Array.isArray(s.functions) || s.functions.length !== fns.length) throw new RangeError('PCIe state: the topology differs (function count)');
  const list = s.functions as unknown[];
  // Validate everything before changing anything.
  const images = fns.map((f, i) => {
    const e = list[i] as Partial<PcieFunctionState> | null;
    if (typeof e !== 'object' || e === null || e.name !== f.name) throw new RangeError(`PCIe state: function ${i} is not ${f.name}`);
    const img = typeof e.config === 'string' ? Buffer.from(e.config, 'base64') : null;
    if (img === null || img.length !== f.config.bytes.length) throw new RangeError(`PCIe state: ${f.name}: bad configuration space image`);
    if (f.msix !== null && (typeof e.msix !== 'object' || e.msix === null || !f.msix.fits(e.msix))) throw new RangeError(`PCIe state: ${f.name}: bad MSI-X state`);
    return { img, e };
  });
  fns.forEach((f, i) => {
    const { img, e } = images[i]!;
    f.config.load(new Uint8Array(img.buffer, img.byteOffset, img.length));
    if (f.msix !== null) f.msix.load(e.msix as { table: unknown; pba: unknown });
    f.msi?.reset();
    if (f instanceof PciePort) {
      const l = e.latches;
      f.latches = { hotplugLine: l?.hotplugLine === true, secondaryReset: l?.secondaryReset === true };
    }
  });
}
