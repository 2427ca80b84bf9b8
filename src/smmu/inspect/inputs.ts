// Inputs of `vsmmu inspect`: RAM images given as FILE@BASE (read on demand through FileBacking,
// never whole), the REGS.json register dump (SMMUv3 register names as IHI 0070 chapter 6 spells
// them, values as numbers or hex strings), and --translate / --mappings query strings.
// Every problem is a UserInputError naming the place.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { GuestMemory } from '../../memory/guest-memory.js';
import { FileBacking } from '../../memory/file-backing.js';
import { REG, type RegName } from '../../spec/smmuv3/registers.js';
import { UserInputError } from '../../util/errors.js';
import { parseIntLike } from '../../util/hex.js';

export interface RamImage {
  readonly path: string;
  readonly base: number;
}

/** Parses `FILE@BASE` (BASE decimal or 0x-hex). */
export function parseRamArg(arg: string): RamImage {
  const at = arg.lastIndexOf('@');
  if (at <= 0 || at === arg.length - 1) throw new UserInputError(`expected FILE@BASE, got '${arg}'`, '--ram');
  const path = arg.slice(0, at);
  const base = parseIntLike(arg.slice(at + 1));
  if (base === null || base > BigInt(Number.MAX_SAFE_INTEGER)) throw new UserInputError(`bad base address '${arg.slice(at + 1)}'`, `--ram ${arg}`);
  return { path, base: Number(base) };
}

/** "ram.img at 0x40000000-0x4fffffff, ..." for messages. */
export function describeImages(mem: GuestMemory): string {
  const list = mem.ramRegions.map((r) => `${r.name} at 0x${r.base.toString(16)}-0x${(r.base + r.size - 1).toString(16)}`);
  return `every RAM image (${list.join(', ')})`;
}

/** Builds guest memory from RAM images (file-backed, read on demand). */
export function loadRam(images: readonly RamImage[]): GuestMemory {
  const mem = new GuestMemory();
  for (const img of images) {
    if (!existsSync(img.path)) throw new UserInputError(`no such file`, `--ram ${img.path}`);
    if (!statSync(img.path).isFile()) throw new UserInputError(`not a regular file`, `--ram ${img.path}`);
    const backing = new FileBacking(img.path);
    if (backing.size === 0) throw new UserInputError(`empty image`, `--ram ${img.path}`);
    try {
      mem.addBacking(img.base, backing, img.path);
    } catch (e) {
      throw new UserInputError(e instanceof Error ? e.message : String(e), `--ram ${img.path}@0x${img.base.toString(16)}`);
    }
  }
  return mem;
}

/** ID register names accepted in REGS.json besides the REG table. */
const ID_NAMES = ['IDR0', 'IDR1', 'IDR2', 'IDR3', 'IDR4', 'IDR5', 'IIDR', 'AIDR'] as const;

/** A register dump: name -> 64-bit value. */
export type RegisterDump = Map<RegName, bigint>;

/** Accepts `CR0`, `SMMU_CR0` and lower-case spellings. */
function canonicalName(k: string): RegName | null {
  const n = k.trim().toUpperCase().replace(/^SMMU_/, '');
  if ((n as RegName) in REG) return n as RegName;
  if ((ID_NAMES as readonly string[]).includes(n)) return n as RegName;
  return null;
}

export function parseRegisterDump(text: string, where: string): RegisterDump {
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    throw new UserInputError(`malformed JSON (${e instanceof Error ? e.message : String(e)})`, where);
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new UserInputError('expected a JSON object of register names to values', where);
  const out: RegisterDump = new Map();
  for (const [k, v] of Object.entries(obj)) {
    const name = canonicalName(k);
    if (name === null) throw new UserInputError(`unknown SMMUv3 register '${k}'`, where);
    const val = parseIntLike(v);
    if (val === null || val >= 1n << 64n) throw new UserInputError(`register ${k}: expected a number or hex string, got ${JSON.stringify(v)}`, where);
    out.set(name, val);
  }
  return out;
}

export function readRegisterDump(path: string): RegisterDump {
  if (!existsSync(path)) throw new UserInputError('no such file', `--regs ${path}`);
  return parseRegisterDump(readFileSync(path, 'utf8'), `--regs ${path}`);
}

export interface TranslateQuery {
  readonly sid: number;
  readonly ssid: number | null;
  readonly iova: bigint;
  readonly access: 'r' | 'w' | 'x';
  readonly priv: boolean;
  readonly text: string;
}

function num(s: string | undefined, what: string, where: string, max: bigint): bigint {
  const v = s === undefined ? null : parseIntLike(s);
  if (v === null || v > max) throw new UserInputError(`bad ${what} '${s ?? ''}'`, where);
  return v;
}

/** Parses `SID[:SSID]:IOVA[:r|w|x][:priv]`. */
export function parseTranslateQuery(q: string): TranslateQuery {
  const where = `--translate ${q}`;
  const parts = q.split(':');
  let priv = false;
  let access: 'r' | 'w' | 'x' = 'r';
  if (parts.length > 1 && parts[parts.length - 1] === 'priv') {
    priv = true;
    parts.pop();
  }
  const last = parts[parts.length - 1];
  if (parts.length > 1 && (last === 'r' || last === 'w' || last === 'x')) {
    access = last;
    parts.pop();
  }
  if (parts.length !== 2 && parts.length !== 3) throw new UserInputError('expected SID[:SSID]:IOVA[:r|w|x][:priv]', where);
  const sid = Number(num(parts[0], 'stream ID', where, 0xffff_ffffn));
  const ssid = parts.length === 3 ? Number(num(parts[1], 'substream ID', where, 0xfffffn)) : null;
  const iova = num(parts[parts.length - 1], 'IOVA', where, (1n << 64n) - 1n);
  return { sid, ssid, iova, access, priv, text: q };
}

/** Parses the optional `SID[:SSID]` of --mappings. */
export function parseStreamSelector(s: string): { sid: number; ssid: number | null } {
  const where = `--mappings ${s}`;
  const parts = s.split(':');
  if (parts.length > 2) throw new UserInputError('expected SID[:SSID]', where);
  const sid = Number(num(parts[0], 'stream ID', where, 0xffff_ffffn));
  const ssid = parts.length === 2 ? Number(num(parts[1], 'substream ID', where, 0xfffffn)) : null;
  return { sid, ssid };
}

/** An inclusive range of IDs or indexes. */
export interface IdRange {
  readonly first: number;
  readonly last: number;
}

/** Parses `N` or `FIRST-LAST` (decimal or 0x-hex, inclusive) for `flag`. */
export function parseIdRange(s: string, flag: string, max = 0xffff_ffff): IdRange {
  const where = `${flag} ${s}`;
  const parts = s.split('-');
  if (parts.length > 2) throw new UserInputError('expected N or FIRST-LAST', where);
  const first = Number(num(parts[0]?.trim(), 'range start', where, BigInt(max)));
  const last = parts.length === 2 ? Number(num(parts[1]?.trim(), 'range end', where, BigInt(max))) : first;
  if (last < first) throw new UserInputError(`range end ${last} is below its start ${first}`, where);
  return { first, last };
}

/** Parses `--limit N` (0 = no limit). */
export function parseLimit(s: string): number {
  const v = parseIntLike(s);
  if (v === null || v > 0xffff_ffffn) throw new UserInputError(`expected a count (0 = no limit), got '${s}'`, '--limit');
  return Number(v);
}
