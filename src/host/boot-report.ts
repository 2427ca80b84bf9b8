// What `vsmmu boot` reports about one run: the guest's own words (console, the lines its SMMU and
// IOMMU drivers printed, the run's output and status), the model's side (streams and CDs installed,
// command and CMD_SYNC counts, events written, cache hit rates, per-device counts), the checks
// that decide the exit code, and the measured figures (boot time, polls per second, CMD_SYNC
// latency, guest-visible O_DIRECT throughput). JSON-ready: 64-bit values as "0x..." strings.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { decodeEvent, eventInputAddr, eventName } from '../spec/smmuv3/events.js';
import { EVENTQ_ENTRY_BYTES, queueBaseAddr, queueLog2 } from '../spec/smmuv3/registers.js';
import { ptrIndex } from '../smmu/device/queue.js';
import { inspect, SmmuSnapshot, type Json } from '../smmu/inspect/inspect.js';
import type { RegisterDump } from '../smmu/inspect/inputs.js';
import { GuestMemory } from '../memory/guest-memory.js';
import { hex } from '../util/hex.js';
import type { RegName } from '../spec/smmuv3/registers.js';
import type { BootOutcome } from './boot.js';
import { registerDump, ringsJson } from './boot.js';
import { MARK, type DiskPlan } from './guest-script.js';
import { smmuStats } from '../smmu/device/stats.js';
import type { InjectionReport } from '../smmu/device/inject.js';
import { injectedRecordCount, injectionChecks } from './injection-checks.js';
import type { BootProfile } from './profile.js';

export type CheckResult = 'pass' | 'fail';

export interface DeviceReport {
  readonly name: string;
  readonly kind: string;
  readonly streamId: number;
  readonly requests: number;
  readonly bytes: number;
  readonly faults: number;
  /** Virtqueue areas (IOVAs) and the physical addresses the SMMU translates them to at the end. */
  readonly rings: readonly Record<string, { iova: string; pa: string | null }>[];
}

export interface LatencySummary {
  readonly count: number;
  readonly p50: number | null;
  readonly p90: number | null;
  readonly p99: number | null;
  readonly max: number | null;
}

export interface BootReport {
  readonly ok: boolean;
  readonly ended: BootOutcome['ended'];
  readonly bootSeconds: number | null;
  readonly wallSeconds: number;
  readonly kernel: { readonly path: string; readonly version: string | null };
  readonly profile: string;
  readonly console: string;
  readonly run: { readonly command: string; readonly output: string; readonly status: number | null };
  readonly smmu: {
    readonly driverLines: readonly string[];
    /** Commands consumed, by opcode name. */
    readonly commands: Readonly<Record<string, number>>;
    readonly commandErrors: number;
    readonly cmdSync: number;
    readonly events: { readonly written: number; readonly overflowed: number; readonly byType: Readonly<Record<string, number>>; readonly records: readonly Json[] };
    /** Event records as the guest's driver printed them. */
    readonly guestEvents: readonly { readonly code: number; readonly words: readonly string[] }[];
    readonly streams: Json;
    readonly caches: { readonly configHitRate: number | null; readonly tlbHitRate: number | null };
    readonly interrupts: Record<string, number>;
  };
  readonly devices: readonly DeviceReport[];
  /** What each fault injection did. */
  readonly injections: readonly InjectionReport[];
  readonly checks: Readonly<Record<string, CheckResult>>;
  /** Why each failed check failed. */
  readonly findings: readonly string[];
  readonly performance: {
    readonly polls: number;
    readonly pollsPerSecond: number;
    /** Per poll that completed CMD_SYNCs: time since the previous poll started (an upper bound of detection + execution). */
    readonly cmdSyncLatencyUs: LatencySummary;
    readonly readMBps: number | null;
    readonly writeMBps: number | null;
  };
  readonly dump: string | null;
}

const KERNEL_LINE = /^\[\s*\d+\.\d+\]/;

/** Console lines, without carriage returns. */
function lines(console: string): string[] {
  return console.replace(/\r/g, '').split('\n');
}

/**
 * The run's output and status. Kernel messages stay off the console during the run (the init
 * script lowers the console log level), so everything between the markers is the run's.
 */
export function parseRun(console: string): { output: string; status: number | null } {
  const ls = lines(console);
  const begin = ls.indexOf(MARK.runBegin);
  if (begin < 0) return { output: '', status: null };
  const out: string[] = [];
  for (let i = begin + 1; i < ls.length; i++) {
    const l = ls[i]!;
    const m = new RegExp(`^${MARK.runEnd} (\\d+)$`).exec(l);
    if (m) return { output: out.join('\n'), status: Number(m[1]) };
    out.push(l);
  }
  return { output: out.join('\n'), status: null };
}

/**
 * Every kernel line of the SMMU and IOMMU drivers (arm-smmu-v3, iommu core, group additions): from
 * the kernel log the guest prints after the run, or from the console when there is none.
 */
export function driverLines(console: string): string[] {
  const ls = lines(console);
  const b = ls.indexOf(MARK.dmesgBegin);
  const e = b < 0 ? -1 : ls.indexOf(MARK.dmesgEnd, b);
  const src = b >= 0 && e > b ? ls.slice(b + 1, e) : ls;
  return src.filter((l) => KERNEL_LINE.test(l) && /arm-smmu-v3|iommu/i.test(l));
}

/** The event records the guest's driver printed (`event 0xNN received:` and the record's 64-bit words). */
export function guestEvents(console: string): { code: number; words: string[] }[] {
  const ls = lines(console);
  const out: { code: number; words: string[] }[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < ls.length; i++) {
    const m = /arm-smmu-v3 \S+: event 0x([0-9a-f]+) received/.exec(ls[i]!);
    if (!m) continue;
    const words: string[] = [];
    for (let j = i + 1; j < ls.length && words.length < 4; j++) {
      const w = /arm-smmu-v3 \S+:\s+(0x[0-9a-f]{16})\s*$/.exec(ls[j]!) ?? /^\s*(?:\[\s*\d+\.\d+\]\s*)?(0x[0-9a-f]{16})\s*$/.exec(ls[j]!);
      if (!w) break;
      words.push(w[1]!);
    }
    // The same record appears on the console and again in the kernel log printed after the run.
    const key = `${m[1]}:${words.join(',')}:${/^\[\s*(\d+\.\d+)\]/.exec(ls[i]!)?.[1] ?? i}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ code: parseInt(m[1]!, 16), words });
  }
  return out;
}

export function summarize(us: readonly number[]): LatencySummary {
  if (us.length === 0) return { count: 0, p50: null, p90: null, p99: null, max: null };
  const s = [...us].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { count: s.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: s[s.length - 1]! };
}

function sha256Region(path: string, offset: number, length: number): string {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const n = readSync(fd, buf, done, length - done, offset + done);
      if (n <= 0) break;
      done += n;
    }
    return createHash('sha256').update(buf.subarray(0, done)).digest('hex');
  } finally {
    closeSync(fd);
  }
}

interface IoLine {
  readonly kind: 'READ' | 'WRITE';
  readonly dev: string;
  readonly offset: number;
  readonly length: number;
  readonly sha: string;
  readonly readBack: string | null;
  readonly status: number;
  readonly ns: number | null;
}

/** `VSMMU-READ dev off len sha ns` / `VSMMU-WRITE dev off len sha sha-read-back status ns` lines. */
export function parseIoLines(output: string): IoLine[] {
  const out: IoLine[] = [];
  for (const l of output.split('\n')) {
    let m = /^VSMMU-READ (\S+) (\d+) (\d+) ([0-9a-f]{64})(?: (\d+))?/.exec(l);
    if (m) {
      out.push({ kind: 'READ', dev: m[1]!, offset: Number(m[2]), length: Number(m[3]), sha: m[4]!, readBack: null, status: 0, ns: m[5] ? Number(m[5]) : null });
      continue;
    }
    m = /^VSMMU-WRITE (\S+) (\d+) (\d+) ([0-9a-f]{64}) ([0-9a-f]{64}) (\d+)(?: (\d+))?/.exec(l);
    if (m) out.push({ kind: 'WRITE', dev: m[1]!, offset: Number(m[2]), length: Number(m[3]), sha: m[4]!, readBack: m[5]!, status: Number(m[6]), ns: m[7] ? Number(m[7]) : null });
  }
  return out;
}

/** The last `written` event records in the guest's event queue (at most one queue's worth), decoded. */
function eventRecords(o: BootOutcome): Json[] {
  const smmu = o.machine.smmu;
  const n = smmu.eventq.stats.written;
  if (n === 0) return [];
  const baseLo = smmu.regs.get('EVENTQ_BASE');
  const log2 = queueLog2(baseLo, smmu.features.eventqLog2);
  const base = queueBaseAddr(baseLo, smmu.regs.getHi('EVENTQ_BASE'), log2, EVENTQ_ENTRY_BYTES);
  const prod = smmu.regs.get('EVENTQ_PROD');
  const count = Math.min(n, 2 ** log2, 64);
  const out: Json[] = [];
  const tmp = { lo: 0, hi: 0 };
  for (let k = count; k >= 1; k--) {
    const idx = ptrIndex((prod - k + 2 * 2 ** log2) >>> 0, log2);
    const addr = base + idx * EVENTQ_ENTRY_BYTES;
    const words: bigint[] = [];
    for (let i = 0; i < 4; i++) words.push(smmu.mem.read64(addr + 8 * i, tmp) ? (BigInt(tmp.hi) << 32n) | BigInt(tmp.lo) : 0n);
    const ev = decodeEvent(words);
    out.push({ type: eventName(ev.type), code: ev.type, sid: ev.sid, ssid: ev.ssv ? ev.ssid : null, inputAddr: hex(eventInputAddr(ev)), record: words.map((w) => hex(w)) });
  }
  return out;
}

function streamsJson(o: BootOutcome): Json {
  if (!(o.machine.smmu.mem instanceof GuestMemory)) return null;
  const dump: RegisterDump = new Map();
  for (const [k, v] of Object.entries(o.atRunEnd?.registers ?? registerDump(o.machine))) dump.set(k as RegName, BigInt(v));
  try {
    return inspect(new SmmuSnapshot(o.machine.smmu.mem, dump), { streams: true }).streams ?? [];
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

const rate = (hits: number, misses: number): number | null => (hits + misses === 0 ? null : Math.round((hits / (hits + misses)) * 1000) / 1000);

/** Builds the report and decides the checks. `interactive` runs have no run checks. */
export function buildReport(o: BootOutcome, profile: BootProfile, interactive: boolean): BootReport {
  const checks: Record<string, CheckResult> = {};
  const findings: string[] = [];
  const check = (name: string, pass: boolean, why: string): void => {
    checks[name] = pass ? 'pass' : 'fail';
    if (!pass) findings.push(`${name}: ${why}`);
  };
  const run = parseRun(o.console);
  const smmu = o.machine.smmu;
  const con = o.console;
  check('smmu-probed', /arm-smmu-v3 \S+: ias \d+-bit, oas \d+-bit/.test(con), 'the guest never printed the arm-smmu-v3 probe line');
  const timeout = /CMD_SYNC timeout[^\r\n]*/.exec(con);
  check('no-cmd-sync-timeout', timeout === null, timeout?.[0] ?? '');
  // Records an injection caused are expected; any other record (or, without such records, any
  // event line the guest printed) is a finding.
  const injections = o.machine.injector?.report() ?? [];
  const injected = injectedRecordCount(injections);
  const evt = injected > 0 ? null : /arm-smmu-v3 \S+: event 0x[0-9a-f]+ received[^\r\n]*/.exec(con);
  const unexpected = smmu.eventq.stats.written - injected;
  check('no-unexpected-event', evt === null && unexpected === 0, evt?.[0] ?? `the model wrote ${unexpected} event records nothing asked for`);
  check('interrupts-delivered', o.interruptErrors.length === 0, o.interruptErrors.join('; '));
  if (!interactive) {
    check('guest-ran', run.status !== null, o.ended === 'timeout' ? 'timed out before the run finished' : `the run never finished (${o.ended})`);
    if (run.status !== null) check('run-status', run.status === 0, `the run exited with status ${run.status}`);
  }
  // The default run's checks, per disk.
  const io = parseIoLines(run.output);
  let readBytes = 0;
  let readNs = 0;
  let writeBytes = 0;
  let writeNs = 0;
  for (const plan of o.plans) {
    const disk = o.disks.find((d) => d.dev === plan.dev)!;
    const group = new RegExp(`^VSMMU-GROUP ${plan.dev} (\\S+) (\\S+)`, 'm').exec(run.output);
    check(`iommu-group-${plan.dev}`, group !== null && profile.groupTypes.includes(group[2]!), group ? `group ${group[1]} has type ${group[2]} (profile ${profile.name} expects ${profile.groupTypes.join(' or ')})` : 'no IOMMU group line');
    checkRegions(plan, 'READ', plan.reads);
    checkRegions(plan, 'WRITE', plan.writes);
    function checkRegions(p: DiskPlan, kind: 'READ' | 'WRITE', regions: DiskPlan['reads']): void {
      const bad: string[] = [];
      for (const r of regions) {
        const l = io.find((x) => x.kind === kind && x.dev === p.dev && x.offset === r.offset);
        if (!l) {
          bad.push(`no ${kind} result at ${hex(r.offset)}`);
          continue;
        }
        const host = sha256Region(disk.path, r.offset, r.length);
        if (kind === 'READ') {
          if (l.sha !== host) bad.push(`read at ${hex(r.offset)}: guest ${l.sha.slice(0, 16)}, disk ${host.slice(0, 16)}`);
          else if (l.ns !== null && l.ns > 0) {
            readBytes += l.length;
            readNs += l.ns;
          }
        } else {
          if (l.status !== 0) bad.push(`write at ${hex(r.offset)}: dd status ${l.status}`);
          if (l.readBack !== l.sha) bad.push(`write at ${hex(r.offset)}: read back ${l.readBack?.slice(0, 16)}, wrote ${l.sha.slice(0, 16)}`);
          if (host !== l.sha) bad.push(`write at ${hex(r.offset)}: the disk file holds ${host.slice(0, 16)}, the guest wrote ${l.sha.slice(0, 16)}`);
          else if (l.ns !== null && l.ns > 0) {
            writeBytes += l.length;
            writeNs += l.ns;
          }
        }
      }
      if (regions.length > 0) check(`${kind === 'READ' ? 'read' : 'write'}-checksums-${p.dev}`, bad.length === 0, bad.join('; '));
    }
  }
  const streams = streamsJson(o);
  const streamConfigs = new Map<number, string>();
  for (const s of o.machine.slots) {
    const st = Array.isArray(streams) ? streams.find((x) => x !== null && typeof x === 'object' && !Array.isArray(x) && x['sid'] === s.desc.streamId) : undefined;
    const cfg = st !== undefined && st !== null && typeof st === 'object' && !Array.isArray(st) ? st['config'] : undefined;
    streamConfigs.set(s.desc.streamId, typeof cfg === 'string' ? cfg : 'invalid');
  }
  for (const c of profile.checks({ smmu, console: con, streamConfigs })) check(c.name, c.pass, c.detail);
  for (const c of injectionChecks(injections, con, guestEvents(con))) check(c.name, c.pass, c.detail);
  const stats = smmuStats(smmu, o.machine.events);
  const t = smmu.translator.stats();
  const rings = o.atRunEnd?.rings ?? ringsJson(o.machine);
  const ok = Object.values(checks).every((c) => c === 'pass');
  return {
    ok,
    ended: o.ended,
    bootSeconds: o.bootSeconds === null ? null : Math.round(o.bootSeconds * 1000) / 1000,
    wallSeconds: Math.round(o.wallSeconds * 1000) / 1000,
    kernel: o.kernel,
    profile: profile.name,
    console: con,
    run: { command: o.runCommand, output: run.output, status: run.status },
    smmu: {
      driverLines: driverLines(con),
      commands: stats.commands,
      commandErrors: stats.commandErrors,
      cmdSync: stats.cmdSync.count,
      events: { written: stats.events.written, overflowed: stats.events.overflowed, byType: stats.events.byType, records: eventRecords(o) },
      guestEvents: guestEvents(con),
      streams,
      caches: { configHitRate: rate(t.configHits, t.configMisses), tlbHitRate: rate(t.tlbHits, t.tlbMisses) },
      interrupts: { ...smmu.irq.counts },
    },
    devices: o.machine.slots.map((s, i) => ({ name: s.desc.name, kind: s.device.kind, streamId: s.desc.streamId, ...s.device.stats(), rings: rings[i]?.rings ?? [] })),
    injections,
    checks,
    findings,
    performance: {
      polls: o.polls,
      pollsPerSecond: o.pollSeconds > 0 ? Math.round(o.polls / o.pollSeconds) : 0,
      cmdSyncLatencyUs: summarize(o.syncLatencyUs),
      readMBps: readNs > 0 ? Math.round((readBytes / (readNs / 1e9) / 1e6) * 10) / 10 : null,
      writeMBps: writeNs > 0 ? Math.round((writeBytes / (writeNs / 1e9) / 1e6) * 10) / 10 : null,
    },
    dump: o.dumpDir,
  };
}

/** The text form of the report (what `vsmmu boot` prints after the console). */
export function renderBootReport(r: BootReport): string {
  const out: string[] = [];
  const add = (s = ''): void => {
    out.push(s);
  };
  add(`== vsmmu boot: ${r.ok ? 'OK' : 'FAILED'} (${r.ended}; profile ${r.profile}; kernel ${r.kernel.version ?? r.kernel.path})`);
  add(`boot to /init: ${r.bootSeconds === null ? 'never' : `${r.bootSeconds.toFixed(2)} s`}; wall ${r.wallSeconds.toFixed(2)} s`);
  add('-- SMMU/IOMMU driver lines');
  for (const l of r.smmu.driverLines) add(`  ${l}`);
  add('-- SMMU model');
  const total = Object.values(r.smmu.commands).reduce((a, b) => a + b, 0);
  add(`  commands ${total} (errors ${r.smmu.commandErrors}), CMD_SYNC ${r.smmu.cmdSync}, events written ${r.smmu.events.written}`);
  add(`  by opcode: ${Object.entries(r.smmu.commands).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ') || '-'}`);
  add(`  config-cache hit rate ${r.smmu.caches.configHitRate ?? '-'}, IOTLB hit rate ${r.smmu.caches.tlbHitRate ?? '-'}`);
  const streams = Array.isArray(r.smmu.streams) ? r.smmu.streams : [];
  for (const s of streams) {
    if (s === null || typeof s !== 'object' || Array.isArray(s)) continue;
    const cds = Array.isArray(s['cds']) ? s['cds'].length : 0;
    add(`  stream ${String(s['sid'])}: ${String(s['config'])}, ${cds} CD${cds === 1 ? '' : 's'}`);
  }
  for (const e of r.smmu.events.records) {
    if (e !== null && typeof e === 'object' && !Array.isArray(e)) add(`  event ${String(e['type'])} sid ${String(e['sid'])} addr ${String(e['inputAddr'])}`);
  }
  for (const i of r.injections) {
    add(`  inject ${i.name}@${i.when}: ${i.fired ? `fired after ${i.at?.commands} commands, ${i.at?.seconds} s: ` : ''}${i.effect}`);
  }
  add('-- devices');
  for (const d of r.devices) add(`  ${d.name} ${d.kind} stream ${d.streamId}: ${d.requests} requests, ${d.bytes} bytes, ${d.faults} faults`);
  add('-- performance');
  const l = r.performance.cmdSyncLatencyUs;
  add(`  polls ${r.performance.polls} (${r.performance.pollsPerSecond}/s); CMD_SYNC latency bound us: p50 ${l.p50 ?? '-'} p90 ${l.p90 ?? '-'} p99 ${l.p99 ?? '-'} max ${l.max ?? '-'} (n=${l.count})`);
  add(`  O_DIRECT read ${r.performance.readMBps ?? '-'} MB/s, write ${r.performance.writeMBps ?? '-'} MB/s (guest-visible)`);
  add(`-- run: status ${r.run.status ?? 'none'}`);
  add('-- checks');
  for (const [k, v] of Object.entries(r.checks)) add(`  ${v === 'pass' ? 'pass' : 'FAIL'}  ${k}`);
  for (const f of r.findings) add(`  ! ${f}`);
  if (r.dump !== null) add(`dump: ${r.dump} (vsmmu inspect --ram ${r.dump}/ram.bin@0x40000000 --regs ${r.dump}/REGS.json --streams)`);
  return out.join('\n') + '\n';
}
