// Reads QEMU 7.2's `smmuv3_*` trace (log backend, `-trace events=FILE -D LOG`): the register values
// the guest driver programmed and read back (smmuv3_write_mmio / smmuv3_read_mmio) and the
// translations QEMU performed (smmuv3_translate_success). Register names and offsets come from
// src/spec/smmuv3/registers.ts (IHI 0070 §6.2); QEMU traces page-1 offsets with the page bit masked
// off (page 1 is an alias of page 0 in QEMU), so 0xa8/0xac are EVENTQ_PROD/CONS.
import { REG, type RegName } from '../../../src/spec/smmuv3/registers.js';

export interface TraceTranslation {
  readonly sid: number;
  readonly iova: bigint;
  readonly pa: bigint;
  /** QEMU's IOMMU permission: 1 read, 2 write, 3 both. */
  readonly perm: number;
}

export interface SmmuTrace {
  /** Last value seen for each register, from writes and reads in trace order. */
  readonly registers: Map<RegName, bigint>;
  readonly translations: TraceTranslation[];
  /** Stream IDs the driver invalidated with CMD_CFGI_STE, i.e. whose STEs it (re)configured. */
  readonly cfgiSteSids: number[];
}

const WIDE: ReadonlySet<RegName> = new Set<RegName>([
  'STRTAB_BASE',
  'CMDQ_BASE',
  'EVENTQ_BASE',
  'PRIQ_BASE',
  'GERROR_IRQ_CFG0',
  'EVENTQ_IRQ_CFG0',
  'PRIQ_IRQ_CFG0',
]);

/** Register containing `offset` (page bit ignored) and the byte lane of `offset` in it. */
function locate(offset: number): { name: RegName; lane: number } | null {
  const off = offset & 0xffff;
  for (const [name, o] of Object.entries(REG) as [RegName, number][]) {
    const base = o & 0xffff;
    const width = WIDE.has(name) ? 8 : 4;
    if (off >= base && off < base + width) return { name, lane: off - base };
  }
  return null;
}

const MMIO_RE = /smmuv3_(read|write)_mmio addr: (0x[0-9a-f]+) val:\s*(0x[0-9a-f]+) size: (0x[0-9a-f]+)/;
const CFGI_STE_RE = /smmuv3_cmdq_cfgi_ste streamid=\s*(0x[0-9a-f]+|\d+)/;
const XLATE_RE = /smmuv3_translate_success \S+ sid=(0x[0-9a-f]+) iova=(0x[0-9a-f]+) translated=(0x[0-9a-f]+) perm=(0x[0-9a-f]+)/;

export function parseSmmuTrace(text: string): SmmuTrace {
  const registers = new Map<RegName, bigint>();
  const translations: TraceTranslation[] = [];
  const cfgi = new Set<number>();
  for (const line of text.split('\n')) {
    const c = CFGI_STE_RE.exec(line);
    if (c?.[1]) {
      cfgi.add(Number(c[1]));
      continue;
    }
    const m = MMIO_RE.exec(line);
    if (m?.[2] && m[3] && m[4]) {
      const at = locate(Number(m[2]));
      if (!at) continue;
      const size = Number(m[4]);
      const bits = BigInt(size * 8);
      const shift = BigInt(at.lane * 8);
      const mask = ((1n << bits) - 1n) << shift;
      const old = registers.get(at.name) ?? 0n;
      registers.set(at.name, (old & ~mask) | ((BigInt(m[3]) << shift) & mask));
      continue;
    }
    const t = XLATE_RE.exec(line);
    if (t?.[1] && t[2] && t[3] && t[4]) {
      translations.push({ sid: Number(t[1]), iova: BigInt(t[2]), pa: BigInt(t[3]), perm: Number(t[4]) });
    }
  }
  return { registers, translations, cfgiSteSids: [...cfgi].sort((a, b) => a - b) };
}

/** The REGS.json object `vsmmu inspect --regs` takes: names as the spec spells them, hex values. */
export function regsJson(trace: SmmuTrace): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, v] of trace.registers) out[name] = '0x' + v.toString(16);
  return out;
}

/**
 * The last translation QEMU made for each (SID, 4 KiB IOVA page), as page-aligned IOVA -> PA.
 * Later translations win: Linux (strict mode) unmaps and reuses IOVAs, and the SMMU state at stop
 * time is what `vsmmu inspect` sees.
 */
export function lastTranslationPerPage(trace: SmmuTrace): Map<string, TraceTranslation> {
  const out = new Map<string, TraceTranslation>();
  for (const t of trace.translations) {
    const page = t.iova & ~0xfffn;
    out.set(`${t.sid}:${page}`, { sid: t.sid, iova: page, pa: t.pa & ~0xfffn, perm: t.perm });
  }
  return out;
}
