// Builds the IORT of a platform description (DEN 0049; table revision 5 = E.d or 3 = E.b).
// Node order (as QEMU and the original emit it): ITS group, SMMUv3 nodes, root complexes, then RMR
// nodes. Every ID mapping comes from deriveIdMaps (src/platform/derive-ids.ts), the one
// definition of the platform's ID routing: an RC covered by an SMMU maps its covered ranges to
// that SMMU, the rest to the ITS when there is one, and nothing otherwise — never a reference to
// a node that does not exist (the original's review bug). Node identifiers are unique (0, 1, ...
// in node order).
import { spiIntid, type PlatformDescription, type SpiInterrupt } from '../../platform/description.js';
import { deriveIdMaps, type IdMaps } from '../../platform/derive-ids.js';
import type { IdMapping } from '../../pcie/id-map.js';
import { IORT_MEMORY_ACCESS_FLAGS, IORT_RMR_ATTR_NORMAL_WB_ISH, type IortTableRevision } from '../../spec/acpi/iort.js';
import { UserInputError } from '../../util/errors.js';
import { withBits } from './bytes.js';
import { encodeIort } from './iort-encode.js';
import type { IortMappingSpec, IortNodeSpec } from './iort-types.js';
import type { OemInfo } from './sdt.js';

/** A reserved memory range that devices behind an SMMU keep accessing (RMR node, rev 5 only). */
export interface RmrDesc {
  /** SMMU whose stream IDs the ranges apply to. */
  readonly smmu: string;
  /** First stream ID and number of stream IDs (Linux 6.1 skips RMR mappings of a single ID). */
  readonly streamIdBase: number;
  readonly streamIdCount: number;
  /** Physical ranges (64 KiB aligned per DEN 0049). */
  readonly ranges: readonly { readonly base: number; readonly length: number }[];
  readonly remapPermitted?: boolean;
  readonly privileged?: boolean;
  readonly accessAttributes?: number;
}

export interface BuildIortOptions {
  /** Table revision: 5 (DEN 0049 E.d, default) or 3 (E.b, for older consumers). */
  readonly revision?: IortTableRevision;
  /** RMR nodes (revision 5 only). */
  readonly rmrs?: readonly RmrDesc[];
  /** Precomputed maps (default: deriveIdMaps(desc)). */
  readonly idMaps?: IdMaps;
  readonly oem?: Partial<OemInfo>;
}

const gsiv = (i: SpiInterrupt | null): number => (i ? spiIntid(i) : 0);

function toSpecs(maps: readonly IdMapping[]): IortMappingSpec[] {
  return maps.map((m) => ({ inputBase: m.inputBase, count: m.count, outputBase: m.outputBase, target: m.target }));
}

/** The IORT node structures of a platform (what `buildIort` encodes). */
export function iortNodesFor(desc: PlatformDescription, opts: BuildIortOptions = {}): IortNodeSpec[] {
  const revision = opts.revision ?? 5;
  const maps = opts.idMaps ?? deriveIdMaps(desc);
  const nodes: IortNodeSpec[] = [];
  let ident = 0;
  const its = desc.gic.msi === 'its' ? desc.gic.its : null;
  if (its) nodes.push({ kind: 'its-group', key: its.name, identifier: ident++, itsIds: [its.id] });

  for (const s of desc.smmus) {
    const sm = maps.smmus.find((m) => m.smmu === s.name);
    const mappings = toSpecs(sm?.toMsi ?? []);
    const g = { event: gsiv(s.interrupts.eventq), pri: gsiv(s.interrupts.priq), gerr: gsiv(s.interrupts.gerror), sync: gsiv(s.interrupts.cmdqSync) };
    let deviceIdMappingIndex: number | null = null;
    if (sm?.ownMsi) {
      deviceIdMappingIndex = mappings.length;
      // The SMMU's own MSIs: a single mapping (input ignored) to the ITS group; DEN 0049 §3.9.
      // deriveIdMaps provides it whenever Linux would honour the index (not all GSIVs wired).
      mappings.push({ inputBase: 0, count: 1, outputBase: sm.ownMsi.deviceId, target: sm.ownMsi.target, single: true });
    }
    nodes.push({
      kind: 'smmuv3',
      key: s.name,
      identifier: ident++,
      baseAddress: s.base,
      coherent: s.coherent,
      gsiv: g,
      proximityDomain: s.proximityDomain,
      mappings,
      deviceIdMappingIndex,
    });
  }

  for (const rc of desc.rootComplexes) {
    const rm = maps.rootComplexes.find((m) => m.rootComplex === rc.name);
    let maf = withBits(0, IORT_MEMORY_ACCESS_FLAGS.cpm, rc.dmaCoherent ? 1 : 0);
    maf = withBits(maf, IORT_MEMORY_ACCESS_FLAGS.dacs, rc.dmaCoherent ? 1 : 0);
    nodes.push({
      kind: 'root-complex',
      key: rc.name,
      identifier: ident++,
      cacheCoherent: rc.dmaCoherent,
      memoryAccessFlags: maf,
      ats: rc.ats,
      segment: rc.segment,
      memoryAddressLimit: rc.addressLimitBits,
      mappings: toSpecs(rm?.iort ?? []),
    });
  }

  const rmrs = opts.rmrs ?? [];
  if (rmrs.length > 0 && revision < 5) throw new UserInputError(`RMR (reserved memory range) nodes need IORT revision 5; revision ${revision} cannot describe them`, 'rmr');
  rmrs.forEach((r, i) => {
    if (!desc.smmus.some((s) => s.name === r.smmu)) throw new UserInputError(`RMR ${i} names unknown SMMU '${r.smmu}'`, 'rmr');
    nodes.push({
      kind: 'rmr',
      key: `rmr${i}`,
      identifier: ident++,
      remapPermitted: r.remapPermitted ?? false,
      privileged: r.privileged ?? false,
      accessAttributes: r.accessAttributes ?? IORT_RMR_ATTR_NORMAL_WB_ISH,
      mappings: [{ inputBase: r.streamIdBase, count: r.streamIdCount, outputBase: r.streamIdBase, target: r.smmu }],
      ranges: r.ranges,
    });
  });
  return nodes;
}

/** The IORT (table bytes, checksum set) of a platform description. */
export function buildIort(desc: PlatformDescription, opts: BuildIortOptions = {}): Uint8Array {
  const revision = opts.revision ?? 5;
  return encodeIort(iortNodesFor(desc, opts), { revision, ...(opts.oem ? { oem: opts.oem } : {}) });
}
