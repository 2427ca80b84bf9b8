// Stage-2 translation tables for the differential tests (VMSAv8-64 stage 2, IHI 0070 §5.2 STE
// S2* fields): 4, 16 or 64 KiB granule, an explicit start level, concatenated start tables when
// the IPA size leaves more bits at the start level than one table resolves (up to 16 tables), and
// the STE fields that describe them. Descriptors come from src/spec/smmuv3/pagetable.ts and are
// written through the Machine, so QEMU and our model see the same bytes.
import { encodeS2Leaf, GRANULES, s2Sl0Of, startTableEntries, tg0Of } from '../../../src/spec/smmuv3/pagetable.js';
import { inPlace } from '../../../src/spec/bits.js';
import { TableBuilder, type TableWrite } from '../../../src/guest/table-builder.js';
import { STE, STE_CONFIG } from '../../../src/spec/smmuv3/ste.js';
import type { Machine } from './machine.js';
import { steWords } from './smmu-driver.js';

export interface S2LeafAttrs {
  /** S2AP: bit 0 read, bit 1 write; default 0b11. */
  readonly s2ap?: number;
  /** Access flag; default true. */
  readonly af?: boolean;
  /** XN[1:0]; default 0. */
  readonly xn?: number;
}

/** The STE fields of a stage-2 configuration beyond the table geometry. */
export interface S2SteOptions {
  readonly vmid: number;
  /** STE.S2R: record faults (default true). */
  readonly record?: boolean;
  /** STE.S2AFFD: an access-flag fault is not generated for AF = 0 (default false). */
  readonly affd?: boolean;
  /** STE.S2PS (PA size encoding, as IDR5.OAS); default 4 (44 bits, QEMU's OAS). */
  readonly ps?: number;
}

export class S2Tables {
  readonly root: number;
  readonly stride: number;
  /** Entries in the (possibly concatenated) start table. */
  readonly startEntries: number;
  private readonly builder: TableBuilder;

  constructor(
    private readonly m: Machine,
    private readonly alloc: { next: number },
    /** IPA size in bits (S2T0SZ = 64 - ia). */
    readonly ia: number,
    readonly granule: 12 | 14 | 16,
    readonly startLevel: number,
  ) {
    this.stride = GRANULES[granule].stride;
    // The start table is aligned to its own size (IHI 0070 §5.2 S2TTB), and takes a whole granule.
    const entries = startTableEntries(ia, granule, startLevel);
    const root = this.take(Math.max(2 ** granule, entries * 8));
    this.builder = new TableBuilder({ granuleShift: granule, inputBits: ia, startLevel, root, alloc: (size) => this.take(size) });
    this.root = root;
    this.startEntries = this.builder.startEntries;
  }

  private take(size: number): number {
    const a = Math.ceil(this.alloc.next / size) * size;
    this.alloc.next = a + size;
    return a;
  }

  private async apply(writes: readonly TableWrite[]): Promise<void> {
    for (const w of writes) await this.m.write64(w.addr, w.value);
  }

  /** Where the descriptor for `ipa` at `level` lives (creating tables above it). */
  async descriptorAddress(ipa: bigint, level = 3): Promise<number> {
    const writes: TableWrite[] = [];
    const at = this.builder.slot(ipa, level, writes);
    await this.apply(writes);
    return at;
  }

  /** Maps `ipa` to `pa` with a page (level 3) or block (level < 3). */
  async map(ipa: bigint, pa: bigint, level = 3, a: S2LeafAttrs = {}): Promise<void> {
    const leaf = encodeS2Leaf({ oa: pa, level3: level === 3, granuleShift: this.granule, s2ap: a.s2ap ?? 3, af: a.af ?? true, xn: a.xn ?? 0, sh: 3 });
    await this.apply(this.builder.map(ipa, leaf, level));
  }

  async unmap(ipa: bigint, level = 3): Promise<void> {
    await this.m.write64(await this.descriptorAddress(ipa, level), 0n);
  }

  /** STE.S2SL0: 4 KiB granule level 2 - SL0, 16/64 KiB granules level 3 - SL0 (§5.2). */
  get sl0(): number {
    return s2Sl0Of(this.granule, this.startLevel);
  }

  /** STE.S2TG: 0 = 4 KiB, 1 = 64 KiB, 2 = 16 KiB. */
  get s2tg(): number {
    return tg0Of(this.granule);
  }

  /** The S2* fields of an STE using these tables. */
  steFields(o: S2SteOptions): Partial<Record<keyof typeof STE, bigint | number | boolean>> {
    return {
      S2VMID: o.vmid,
      S2T0SZ: 64 - this.ia,
      S2SL0: this.sl0,
      S2IR0: 1,
      S2OR0: 1,
      S2SH0: 3,
      S2TG: this.s2tg,
      S2PS: o.ps ?? 4,
      S2AA64: 1,
      S2AFFD: o.affd ?? false,
      S2R: o.record ?? true,
      S2TTB: inPlace(STE.S2TTB, this.root),
    };
  }
}

/** A stage-2-only STE (Config = 0b110). */
export const STE_S2 = (t: S2Tables, o: S2SteOptions): bigint[] => steWords({ V: 1, CONFIG: STE_CONFIG.S2, ...t.steFields(o) });

/** A nested STE (Config = 0b111): the CD at IPA `cdIpa`, stage 2 from `t`. */
export const STE_NESTED = (cdIpa: number, t: S2Tables, o: S2SteOptions): bigint[] =>
  steWords({ V: 1, CONFIG: STE_CONFIG.NESTED, s1ContextAddr: cdIpa, ...t.steFields(o) });
