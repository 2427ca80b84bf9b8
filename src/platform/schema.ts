// The platform description's input schema (zod), its normalisation into the typed
// `PlatformDescription` (defaults, 'auto' MSI resolution) and the semantic checks that a schema
// cannot express (names, references, ranges, overlaps). Every problem carries the path of the
// offending input value so the loader can name the file line (load.ts).
//
// Input keys equal the description's keys, so a path in the normalised description is also a
// path in the input document.

import { z } from 'zod';
import { parseIntLike, hex } from '../util/hex.js';
import { FEATURE_PROFILES } from '../smmu/features.js';
import type {
  AddressRange,
  BusRange,
  EndpointDesc,
  GicDesc,
  MsiChoice,
  MsiController,
  PlatformDescription,
  PortDesc,
  RootComplexDesc,
  SmmuDesc,
  SpiInterrupt,
  SwitchDesc,
  VirtioMmioDesc,
} from './description.js';
import { enumerateRootComplex } from './enumerate.js';
import { allGsivsWired } from './derive-ids.js';

export type IssuePath = ReadonlyArray<string | number>;
export interface DescriptionIssue {
  readonly path: IssuePath;
  readonly message: string;
}

// ------------------------------------------------------------------ input schema

/** Unsigned integer below 2^53, given as a number or a "0x.."/decimal string (underscores allowed). */
export const uint = z.preprocess(
  (v) => {
    if (typeof v === 'string') {
      const b = parseIntLike(v);
      return b !== null && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : v;
    }
    return v;
  },
  z.number({ error: 'expected an unsigned integer (number or "0x..." string)' }).int('expected an integer').nonnegative('expected a non-negative integer').max(Number.MAX_SAFE_INTEGER, 'value too large (must be below 2^53)'),
);

/** A value stored in a 32-bit firmware field (DT cell, IORT/MADT u32). */
const u32 = uint.refine((v) => v <= 0xffff_ffff, 'value does not fit 32 bits');

const name = z.string().regex(/^[A-Za-z][A-Za-z0-9_.-]*$/, 'names start with a letter and use letters, digits, "_", "." or "-"');
const trigger = z.enum(['edge', 'level']);
const range = z.strictObject({ base: uint, size: uint.refine((v) => v > 0, 'size must be > 0') });
const busRange = z.strictObject({ start: uint.refine((v) => v <= 255, 'bus numbers are 0..255'), end: uint.refine((v) => v <= 255, 'bus numbers are 0..255') });
const spi = z.strictObject({ spi: uint.refine((v) => v <= 987, 'SPI numbers are 0..987 (INTID 32..1019)'), trigger: trigger.default('level') });
const ppi = z.strictObject({ ppi: uint.refine((v) => v <= 15, 'PPI numbers are 0..15'), trigger: trigger.default('level') });

const endpointIn = z.strictObject({
  kind: z.literal('endpoint'),
  name,
  device: uint.refine((v) => v <= 31, 'device numbers are 0..31').optional(),
  functions: uint.refine((v) => v >= 1 && v <= 8, 'functions must be 1..8').default(1),
});
type EndpointIn = z.infer<typeof endpointIn>;

interface PortIn {
  name: string;
  device?: number | undefined;
  hotplug?: boolean | undefined;
  child?: EndpointIn | SwitchIn | null | undefined;
}
interface SwitchIn {
  kind: 'switch';
  name: string;
  downstreamPorts: PortIn[];
}

const portIn: z.ZodType<PortIn> = z.lazy(() =>
  z.strictObject({
    name,
    device: uint.refine((v) => v <= 31, 'device numbers are 0..31').optional(),
    hotplug: z.boolean().optional(),
    child: z.union([endpointIn, switchIn]).nullable().optional(),
  }),
) as z.ZodType<PortIn>;
const switchIn: z.ZodType<SwitchIn> = z.lazy(() =>
  z.strictObject({
    kind: z.literal('switch'),
    name,
    downstreamPorts: z.array(portIn).min(1, 'a switch needs at least one downstream port').max(8, 'at most 8 downstream ports (functions of device 0)'),
  }),
) as z.ZodType<SwitchIn>;

const rootComplexIn = z.strictObject({
  name,
  segment: uint.refine((v) => v <= 0xffff, 'segments are 0..0xffff').default(0),
  ecam: z.strictObject({ base: uint, size: uint.optional() }),
  buses: busRange.default({ start: 0, end: 255 }),
  mmio32: range.nullable().default(null),
  mmio64: range.nullable().default(null),
  io: range.nullable().default(null),
  streamIdBase: u32.default(0),
  deviceIdBase: u32.optional(),
  iommuBypass: z.array(busRange).default([]),
  ats: z.boolean().default(false),
  addressLimitBits: uint.refine((v) => v >= 32 && v <= 64, 'address limit is 32..64 bits').default(64),
  dmaCoherent: z.boolean().default(true),
  intx: z.strictObject({ spis: z.tuple([uint, uint, uint, uint]) }).nullable().default(null),
  ports: z.array(portIn).default([]),
  endpoints: z.array(endpointIn).default([]),
});

const smmuIn = z.strictObject({
  name,
  base: uint,
  rootComplexes: z.array(z.string()).default([]),
  interrupts: z
    .strictObject({ eventq: spi.nullable().default(null), priq: spi.nullable().default(null), cmdqSync: spi.nullable().default(null), gerror: spi.nullable().default(null) })
    .default({ eventq: null, priq: null, cmdqSync: null, gerror: null }),
  features: z.enum(['default', 'qemu-7.2', 'qemu-10.0']).default('default'),
  coherent: z.boolean().default(true),
  msi: z.boolean().optional(),
  msiDeviceId: u32.optional(),
  proximityDomain: u32.nullable().default(null),
});

const virtioMmioIn = z.strictObject({
  name,
  base: uint,
  size: uint.refine((v) => v >= 0x100, 'a virtio-mmio window is at least 0x100 bytes').default(0x200),
  interrupt: z.strictObject({ spi: uint.refine((v) => v <= 987, 'SPI numbers are 0..987 (INTID 32..1019)'), trigger: trigger.default('edge') }),
  smmu: z.string().nullable().default(null),
  streamId: u32.default(0),
  dmaCoherent: z.boolean().default(true),
});

const gicIn = z.strictObject({
  version: z.union([z.literal(2), z.literal(3)]),
  distributor: range,
  redistributors: z.array(range).default([]),
  cpuInterface: range.nullable().default(null),
  maintenance: ppi.default({ ppi: 9, trigger: 'level' }),
  its: z.strictObject({ name: name.default('its0'), base: uint, id: u32.default(0) }).nullable().default(null),
  v2m: z.strictObject({ name: name.default('v2m0'), base: uint, spiBase: uint.refine((v) => v <= 987, 'SPI numbers are 0..987'), spiCount: uint.refine((v) => v >= 1 && v <= 988, 'spiCount must be 1..988'), id: u32.default(0) }).nullable().default(null),
  msi: z.enum(['auto', 'its', 'v2m', 'none']).default('auto'),
});

export const platformInputSchema = z.strictObject({
  model: z.string().default('vsmmu platform'),
  compatible: z.array(z.string()).min(1).default(['linux,dummy-virt']),
  memory: z.array(range).min(1, 'at least one memory range'),
  cpus: z.strictObject({ count: uint.refine((v) => v >= 1 && v <= 512, 'cpus.count is 1..512'), compatible: z.string().default('arm,cortex-a57') }),
  psci: z.strictObject({ method: z.enum(['hvc', 'smc']) }).default({ method: 'hvc' }),
  timer: z
    .strictObject({ secure: ppi, nonSecure: ppi, virtual: ppi, hypervisor: ppi })
    .default({ secure: { ppi: 13, trigger: 'level' }, nonSecure: { ppi: 14, trigger: 'level' }, virtual: { ppi: 11, trigger: 'level' }, hypervisor: { ppi: 10, trigger: 'level' } }),
  gic: gicIn,
  uart: z.strictObject({ base: uint, size: uint.default(0x1000), interrupt: spi, clockHz: u32.default(24_000_000) }).nullable().default(null),
  smmus: z.array(smmuIn).default([]),
  rootComplexes: z.array(rootComplexIn).default([]),
  virtioMmio: z.array(virtioMmioIn).default([]),
  bootargs: z.string().nullable().default(null),
});

export type PlatformInput = z.input<typeof platformInputSchema>;
type Parsed = z.output<typeof platformInputSchema>;

// ------------------------------------------------------------------ normalisation

/** Resolves the MSI controller choice ('auto': ITS on GICv3 with an ITS frame, else v2m when there is a frame, else none). */
export function resolveMsi(choice: MsiChoice, gic: Pick<GicDesc, 'version' | 'its' | 'v2m'>): MsiController {
  if (choice !== 'auto') return choice;
  if (gic.version === 3 && gic.its) return 'its';
  if (gic.v2m) return 'v2m';
  return 'none';
}

function endpoint(e: EndpointIn, device: number): EndpointDesc {
  return { kind: 'endpoint', name: e.name, device, functions: e.functions };
}

function port(p: PortIn, device: number): PortDesc {
  const c = p.child ?? null;
  let child: EndpointDesc | SwitchDesc | null = null;
  if (c && c.kind === 'endpoint') child = endpoint(c, 0);
  else if (c) child = { kind: 'switch', name: c.name, downstreamPorts: c.downstreamPorts.map((d, i) => port(d, i)) };
  return { name: p.name, device, hotplug: p.hotplug ?? false, child };
}

function normalize(p: Parsed): PlatformDescription {
  const gicBase = { version: p.gic.version, its: p.gic.its, v2m: p.gic.v2m } as const;
  const gic: GicDesc = {
    version: p.gic.version,
    distributor: p.gic.distributor,
    redistributors: p.gic.redistributors,
    cpuInterface: p.gic.cpuInterface,
    maintenance: p.gic.maintenance,
    its: p.gic.its,
    v2m: p.gic.v2m,
    msiRequested: p.gic.msi,
    msi: resolveMsi(p.gic.msi, gicBase),
  };
  const rootComplexes: RootComplexDesc[] = p.rootComplexes.map((rc) => ({
    name: rc.name,
    segment: rc.segment,
    ecam: { base: rc.ecam.base, size: rc.ecam.size ?? (rc.buses.end - rc.buses.start + 1) * 0x10_0000 },
    buses: rc.buses,
    mmio32: rc.mmio32,
    mmio64: rc.mmio64,
    io: rc.io,
    streamIdBase: rc.streamIdBase,
    deviceIdBase: rc.deviceIdBase ?? rc.segment * 0x1_0000,
    iommuBypass: rc.iommuBypass,
    ats: rc.ats,
    addressLimitBits: rc.addressLimitBits,
    dmaCoherent: rc.dmaCoherent,
    intx: rc.intx ? { spis: rc.intx.spis } : null,
    ports: rc.ports.map((pt, i) => port(pt, pt.device ?? i)),
    endpoints: rc.endpoints.map((e, i) => endpoint(e, e.device ?? i)),
  }));
  // Default device ID of an SMMU's own MSIs: just above every root complex's device ID range,
  // one per SMMU, so it never collides with a requester's device ID.
  const top = rootComplexes.reduce((m, rc) => Math.max(m, rc.deviceIdBase + ((rc.buses.end + 1) << 8)), 0);
  const smmus: SmmuDesc[] = p.smmus.map((s, i) => ({
    name: s.name,
    base: s.base,
    rootComplexes: s.rootComplexes,
    interrupts: s.interrupts,
    features: s.features,
    coherent: s.coherent,
    msi: s.msi ?? FEATURE_PROFILES[s.features]?.msi === true,
    msiDeviceId: s.msiDeviceId ?? top + i,
    proximityDomain: s.proximityDomain,
  }));
  return {
    model: p.model,
    compatible: p.compatible,
    memory: p.memory,
    cpus: p.cpus,
    psci: p.psci,
    timer: p.timer,
    gic,
    uart: p.uart,
    smmus,
    rootComplexes,
    virtioMmio: p.virtioMmio.map((v): VirtioMmioDesc => ({ ...v })),
    bootargs: p.bootargs,
  };
}

// ------------------------------------------------------------------ semantic checks

function overlaps(a: AddressRange, b: AddressRange): boolean {
  return a.base < b.base + b.size && b.base < a.base + a.size;
}

function busOverlap(a: BusRange, b: BusRange): boolean {
  return a.start <= b.end && b.start <= a.end;
}

/**
 * Checks what the schema cannot: unique names, references between SMMUs and root complexes
 * (with the original's messages), GIC/MSI consistency, bus and ID ranges, address-window and SPI
 * overlaps, and that the topology fits its bus range. Returns every problem found.
 */
export function checkDescription(d: PlatformDescription): DescriptionIssue[] {
  const issues: DescriptionIssue[] = [];
  const add = (path: IssuePath, message: string): void => {
    issues.push({ path, message });
  };

  // GIC and MSI controller.
  const g = d.gic;
  if (g.version === 3 && g.redistributors.length === 0) add(['gic', 'redistributors'], 'GICv3 needs at least one redistributor region');
  if (g.version === 2 && !g.cpuInterface) add(['gic', 'cpuInterface'], 'GICv2 needs a CPU interface (cpuInterface)');
  if (g.version === 2 && g.msiRequested === 'its') add(['gic', 'msi'], 'ITS is incompatible with GICv2');
  else if (g.msi === 'its' && !g.its) add(['gic', 'msi'], 'ITS requested but the platform has no ITS frame (gic.its)');
  if (g.msi === 'v2m' && !g.v2m) add(['gic', 'msi'], 'v2m requested but the platform has no GICv2m frame (gic.v2m)');

  // Names.
  const rcNames = new Map<string, number>();
  d.rootComplexes.forEach((rc, i) => {
    if (rcNames.has(rc.name)) add(['rootComplexes', i, 'name'], `duplicate root complex name '${rc.name}'`);
    else rcNames.set(rc.name, i);
  });
  const smmuNames = new Set<string>();
  d.smmus.forEach((s, i) => {
    if (smmuNames.has(s.name) || rcNames.has(s.name)) add(['smmus', i, 'name'], `duplicate name '${s.name}'`);
    smmuNames.add(s.name);
  });

  // SMMU -> root complex references (the original's messages).
  const coveredBy = new Map<string, string>();
  d.smmus.forEach((s, i) => {
    s.rootComplexes.forEach((rc, j) => {
      if (!rcNames.has(rc)) add(['smmus', i, 'rootComplexes', j], `SMMU instance references unknown root complex '${rc}'`);
      else if (coveredBy.has(rc)) add(['smmus', i, 'rootComplexes', j], `duplicate SMMU instance for root complex '${rc}'`);
      else coveredBy.set(rc, s.name);
    });
    if (s.rootComplexes.length === 0 && !d.virtioMmio.some((v) => v.smmu === s.name)) add(['smmus', i, 'rootComplexes'], 'an SMMU covers at least one root complex or virtio-mmio device');
    const prof = FEATURE_PROFILES[s.features];
    if (s.msi && prof && !prof.msi) add(['smmus', i, 'msi'], `feature profile '${s.features}' has no MSI support (IDR0.MSI = 0)`);
    const usesMsi = s.msi && g.msi === 'its';
    if (!usesMsi && (!s.interrupts.eventq || !s.interrupts.gerror)) add(['smmus', i, 'interrupts'], 'an SMMU with wired interrupts needs at least eventq and gerror');
    if (s.base % 0x10000 !== 0) add(['smmus', i, 'base'], `SMMU base ${hex(s.base)} is not 64 KiB aligned`);
  });

  // Root complexes: buses, ECAM, ID ranges, topology.
  const sidRanges = new Map<string, { lo: number; hi: number; i: number }[]>();
  const devRanges: { lo: number; hi: number; i: number }[] = [];
  d.rootComplexes.forEach((rc, i) => {
    const at = (...p: (string | number)[]): IssuePath => ['rootComplexes', i, ...p];
    if (rc.buses.start > rc.buses.end) add(at('buses'), `bus range start ${rc.buses.start} is above end ${rc.buses.end}`);
    const need = (rc.buses.end - rc.buses.start + 1) * 0x10_0000;
    if (rc.ecam.size < need) add(at('ecam', 'size'), `ECAM size ${hex(rc.ecam.size)} is smaller than the ${hex(need)} its bus range needs`);
    if (rc.ecam.base % 0x10_0000 !== 0) add(at('ecam', 'base'), `ECAM base ${hex(rc.ecam.base)} is not 1 MiB aligned`);
    rc.iommuBypass.forEach((b, j) => {
      if (b.start > b.end || b.start < rc.buses.start || b.end > rc.buses.end) add(at('iommuBypass', j), `bypass bus range ${b.start}..${b.end} is not inside the bus range ${rc.buses.start}..${rc.buses.end}`);
    });
    const lo = rc.buses.start << 8;
    const hi = ((rc.buses.end + 1) << 8) - 1;
    const smmu = coveredBy.get(rc.name);
    if (smmu) {
      const list = sidRanges.get(smmu) ?? [];
      const s = { lo: rc.streamIdBase + lo, hi: rc.streamIdBase + hi, i };
      const sd = d.smmus.find((x) => x.name === smmu);
      const sidBits = sd ? (FEATURE_PROFILES[sd.features]?.sidBits ?? 32) : 32;
      if (s.hi >= 2 ** sidBits) add(at('streamIdBase'), `stream IDs up to ${hex(s.hi)} exceed SMMU '${smmu}' (${sidBits}-bit stream IDs, feature profile '${sd?.features ?? '?'}')`);
      const clash = list.find((r) => r.lo <= s.hi && s.lo <= r.hi);
      if (clash) add(at('streamIdBase'), `stream IDs ${hex(s.lo)}..${hex(s.hi)} overlap those of rootComplexes[${clash.i}] on SMMU '${smmu}'`);
      list.push(s);
      sidRanges.set(smmu, list);
    }
    const dv = { lo: rc.deviceIdBase + lo, hi: rc.deviceIdBase + hi, i };
    if (dv.hi > 0xffff_ffff) add(at('deviceIdBase'), `device IDs up to ${hex(dv.hi)} do not fit 32 bits`);
    const dclash = devRanges.find((r) => r.lo <= dv.hi && dv.lo <= r.hi);
    if (g.msi === 'its' && dclash) add(at('deviceIdBase'), `ITS device IDs ${hex(dv.lo)}..${hex(dv.hi)} overlap those of rootComplexes[${dclash.i}]`);
    devRanges.push(dv);
    const seenDev = new Map<number, string>();
    rc.ports.forEach((p, j) => {
      if (seenDev.has(p.device)) add(at('ports', j, 'device'), `device ${p.device} on the root bus is already used by '${seenDev.get(p.device)}'`);
      seenDev.set(p.device, p.name);
    });
    rc.endpoints.forEach((e, j) => {
      if (seenDev.has(e.device)) add(at('endpoints', j, 'device'), `device ${e.device} on the root bus is already used by '${seenDev.get(e.device)}'`);
      seenDev.set(e.device, e.name);
    });
    if (rc.buses.start <= rc.buses.end) {
      const en = enumerateRootComplex(rc);
      if (en.lastBus > rc.buses.end) add(at('buses'), `the topology needs buses ${rc.buses.start}..${en.lastBus} but the bus range ends at ${rc.buses.end}`);
    }
  });
  // virtio-mmio transports: names, SMMU references, stream IDs unique on their SMMU.
  const devNames = new Set<string>([...rcNames.keys(), ...smmuNames]);
  d.virtioMmio.forEach((v, i) => {
    if (devNames.has(v.name)) add(['virtioMmio', i, 'name'], `duplicate name '${v.name}'`);
    devNames.add(v.name);
    if (v.smmu === null) return;
    const sd = d.smmus.find((x) => x.name === v.smmu);
    if (!sd) {
      add(['virtioMmio', i, 'smmu'], `virtio-mmio device references unknown SMMU '${v.smmu}'`);
      return;
    }
    const sidBits = FEATURE_PROFILES[sd.features]?.sidBits ?? 32;
    if (v.streamId >= 2 ** sidBits) add(['virtioMmio', i, 'streamId'], `stream ID ${hex(v.streamId)} exceeds SMMU '${v.smmu}' (${sidBits}-bit stream IDs)`);
    const list = sidRanges.get(v.smmu) ?? [];
    const clash = list.find((r) => r.lo <= v.streamId && v.streamId <= r.hi);
    if (clash) add(['virtioMmio', i, 'streamId'], `stream ID ${hex(v.streamId)} is already used on SMMU '${v.smmu}' (${clash.i >= 0 ? `rootComplexes[${clash.i}]` : `virtioMmio[${-clash.i - 1}]`})`);
    list.push({ lo: v.streamId, hi: v.streamId, i: -i - 1 });
    sidRanges.set(v.smmu, list);
  });
  if (g.msi === 'its') {
    d.smmus.forEach((s, i) => {
      if (!(s.msi || !allGsivsWired(s))) return; // no own-MSI device ID in use (see deriveIdMaps)
      const clash = devRanges.find((r) => s.msiDeviceId >= r.lo && s.msiDeviceId <= r.hi);
      if (clash) add(['smmus', i, 'msiDeviceId'], `device ID ${hex(s.msiDeviceId)} of the SMMU's own MSIs collides with rootComplexes[${clash.i}]'s requester device IDs`);
    });
  }

  // Address windows must not overlap.
  const windows: { path: IssuePath; what: string; r: AddressRange }[] = [];
  d.memory.forEach((m, i) => windows.push({ path: ['memory', i], what: 'memory', r: m }));
  windows.push({ path: ['gic', 'distributor'], what: 'GIC distributor', r: g.distributor });
  if (g.version === 3) g.redistributors.forEach((r, i) => windows.push({ path: ['gic', 'redistributors', i], what: 'GIC redistributors', r }));
  if (g.version === 2 && g.cpuInterface) windows.push({ path: ['gic', 'cpuInterface'], what: 'GIC CPU interface', r: g.cpuInterface });
  if (g.msi === 'its' && g.its) windows.push({ path: ['gic', 'its', 'base'], what: 'ITS', r: { base: g.its.base, size: 0x20000 } });
  if (g.msi === 'v2m' && g.v2m) windows.push({ path: ['gic', 'v2m', 'base'], what: 'GICv2m frame', r: { base: g.v2m.base, size: 0x1000 } });
  if (d.uart) windows.push({ path: ['uart', 'base'], what: 'UART', r: { base: d.uart.base, size: d.uart.size } });
  d.smmus.forEach((s, i) => windows.push({ path: ['smmus', i, 'base'], what: `SMMU '${s.name}'`, r: { base: s.base, size: 0x20000 } }));
  d.rootComplexes.forEach((rc, i) => {
    windows.push({ path: ['rootComplexes', i, 'ecam'], what: `ECAM of '${rc.name}'`, r: rc.ecam });
    if (rc.mmio32) windows.push({ path: ['rootComplexes', i, 'mmio32'], what: `32-bit MMIO of '${rc.name}'`, r: rc.mmio32 });
    if (rc.mmio64) windows.push({ path: ['rootComplexes', i, 'mmio64'], what: `64-bit MMIO of '${rc.name}'`, r: rc.mmio64 });
    if (rc.io) windows.push({ path: ['rootComplexes', i, 'io'], what: `I/O window of '${rc.name}'`, r: rc.io });
  });
  d.virtioMmio.forEach((v, i) => windows.push({ path: ['virtioMmio', i, 'base'], what: `virtio-mmio '${v.name}'`, r: { base: v.base, size: v.size } }));
  for (let a = 0; a < windows.length; a++) {
    for (let b = 0; b < a; b++) {
      const wa = windows[a] as (typeof windows)[number];
      const wb = windows[b] as (typeof windows)[number];
      if (overlaps(wa.r, wb.r)) add(wa.path, `${wa.what} ${hex(wa.r.base)}..${hex(wa.r.base + wa.r.size - 1)} overlaps ${wb.what} ${hex(wb.r.base)}..${hex(wb.r.base + wb.r.size - 1)}`);
    }
    const w = windows[a] as (typeof windows)[number];
    if (w.r.base + w.r.size > Number.MAX_SAFE_INTEGER) add(w.path, 'window ends beyond 2^53');
  }

  // SPIs must be distinct (a v2m frame owns its whole block).
  const spis: { path: IssuePath; what: string; lo: number; hi: number }[] = [];
  if (d.uart) spis.push({ path: ['uart', 'interrupt'], what: 'UART', lo: d.uart.interrupt.spi, hi: d.uart.interrupt.spi });
  if (g.msi === 'v2m' && g.v2m) spis.push({ path: ['gic', 'v2m'], what: 'the GICv2m frame', lo: g.v2m.spiBase, hi: g.v2m.spiBase + g.v2m.spiCount - 1 });
  d.smmus.forEach((s, i) => {
    for (const k of ['eventq', 'priq', 'cmdqSync', 'gerror'] as const) {
      const irq: SpiInterrupt | null = s.interrupts[k];
      if (irq) spis.push({ path: ['smmus', i, 'interrupts', k], what: `SMMU '${s.name}' ${k}`, lo: irq.spi, hi: irq.spi });
    }
  });
  d.virtioMmio.forEach((v, i) => spis.push({ path: ['virtioMmio', i, 'interrupt'], what: `virtio-mmio '${v.name}'`, lo: v.interrupt.spi, hi: v.interrupt.spi }));
  d.rootComplexes.forEach((rc, i) => {
    // INTx lines may be shared between root complexes only if identical; keep them distinct from others.
    rc.intx?.spis.forEach((n, j) => spis.push({ path: ['rootComplexes', i, 'intx', 'spis', j], what: `INTx of '${rc.name}'`, lo: n, hi: n }));
  });
  for (let a = 0; a < spis.length; a++) {
    for (let b = 0; b < a; b++) {
      const sa = spis[a] as (typeof spis)[number];
      const sb = spis[b] as (typeof spis)[number];
      if (sa.what.startsWith('INTx') && sb.what === sa.what) continue;
      if (sa.lo <= sb.hi && sb.lo <= sa.hi) add(sa.path, `SPI ${sa.lo === sa.hi ? sa.lo : `${sa.lo}..${sa.hi}`} of ${sa.what} overlaps SPI ${sb.lo === sb.hi ? sb.lo : `${sb.lo}..${sb.hi}`} of ${sb.what}`);
    }
  }
  if (g.msi === 'v2m' && g.v2m && g.v2m.spiBase + g.v2m.spiCount > 988) add(['gic', 'v2m'], 'the GICv2m SPI block ends beyond SPI 987');
  return issues;
}


// ------------------------------------------------------------------ entry point

const MAX_INPUT_DEPTH = 64;

/** Path of the first value nested deeper than `max` levels, or null (iterative, no recursion). */
function tooDeep(input: unknown, max: number): IssuePath | null {
  const stack: { v: unknown; path: (string | number)[] }[] = [{ v: input, path: [] }];
  while (stack.length > 0) {
    const { v, path } = stack.pop() as { v: unknown; path: (string | number)[] };
    if (v === null || typeof v !== 'object') continue;
    if (path.length >= max) return path;
    if (Array.isArray(v)) v.forEach((x, i) => stack.push({ v: x, path: [...path, i] }));
    else for (const [k, x] of Object.entries(v)) stack.push({ v: x, path: [...path, k] });
  }
  return null;
}

export type ValidationResult = { ok: true; description: PlatformDescription } | { ok: false; issues: DescriptionIssue[] };

/** Validates and normalises an input object (from YAML/JSON or a preset); never throws on bad input. */
export function validatePlatform(input: unknown): ValidationResult {
  // Bound the nesting before the recursive schema and enumeration see it (a topology of 256
  // buses is never deeper than this).
  const deep = tooDeep(input, MAX_INPUT_DEPTH);
  if (deep) return { ok: false, issues: [{ path: deep, message: `nested deeper than ${MAX_INPUT_DEPTH} levels` }] };
  const r = platformInputSchema.safeParse(input);
  if (!r.success) {
    return { ok: false, issues: r.error.issues.map((i) => ({ path: i.path.filter((p): p is string | number => typeof p !== 'symbol'), message: i.message })) };
  }
  const description = normalize(r.data);
  const issues = checkDescription(description);
  return issues.length > 0 ? { ok: false, issues } : { ok: true, description };
}

/** `smmus[0].rootComplexes[1]` style rendering of an issue path. */
export function formatPath(path: IssuePath): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s === '' ? p : `.${p}`;
  return s === '' ? '(top level)' : s;
}
