// Loads a scenario file (YAML or JSON): parses with line tracking, validates the header and every
// step (recursively through `repeat`), resolves the platform (preset, file relative to the
// scenario, or an inline description). Every problem is one UserInputError "file:line: path:
// message" (the CLI prints it and exits 2).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { z } from 'zod';
import { UserInputError } from '../../util/errors.js';
import type { PlatformDescription } from '../description.js';
import { loadPlatformFile } from '../load.js';
import { loadPreset } from '../presets/index.js';
import { formatPath, validatePlatform } from '../schema.js';
import { readYamlInput } from '../yaml-input.js';
import { scenarioHeaderSchema, STEP_KINDS, STEP_SCHEMAS, type Scenario, type Step, type StepKind } from './schema.js';

type Path = (string | number)[];

function firstIssue(e: z.ZodError): { path: Path; message: string } {
  const i = e.issues[0]!;
  return { path: i.path.filter((p): p is string | number => typeof p !== 'symbol'), message: i.message };
}

const MAX_DEPTH = 8;
/** Executed steps (repeats expanded) a scenario may run in all. */
export const MAX_TOTAL_STEPS = 1_000_000;

/** Steps executed with repeats expanded; refuses a total above MAX_TOTAL_STEPS at the repeat that crosses it. */
function countSteps(steps: readonly Step[], fail: (path: Path, msg: string) => never, before = 0): number {
  let n = 0;
  for (const s of steps) {
    if (s.kind !== 'repeat') n++;
    else {
      const once = countSteps(s.body.steps, fail, before + n);
      const all = once * s.body.count;
      if (before + n + all > MAX_TOTAL_STEPS) {
        fail([...s.path, 'repeat', 'count'], `this repeat runs ${all.toLocaleString('en-US')} steps (${s.body.count.toLocaleString('en-US')} × ${once.toLocaleString('en-US')}); a scenario runs at most ${MAX_TOTAL_STEPS.toLocaleString('en-US')} steps in all`);
      }
      n += all;
    }
    if (before + n > MAX_TOTAL_STEPS) fail(s.path, `a scenario runs at most ${MAX_TOTAL_STEPS.toLocaleString('en-US')} steps in all`);
  }
  return n;
}

function parseSteps(raw: unknown[], base: Path, fail: (path: Path, msg: string) => never, depth = 0): Step[] {
  if (depth > MAX_DEPTH) fail(base, `repeat nested deeper than ${MAX_DEPTH}`);
  return raw.map((s, i) => {
    const path = [...base, i];
    if (typeof s === 'string') {
      fail(path, `a step is a mapping with one key (${STEP_KINDS.join(', ')})`);
    }
    if (s === null || typeof s !== 'object' || Array.isArray(s)) fail(path, `a step is a mapping with one key (${STEP_KINDS.join(', ')})`);
    const keys = Object.keys(s as object);
    if (keys.length !== 1) fail(path, `a step has exactly one key (${STEP_KINDS.join(', ')}), found ${keys.length ? keys.join(', ') : 'none'}`);
    const kind = keys[0] as StepKind;
    if (!STEP_KINDS.includes(kind)) fail([...path, kind], `unknown step '${kind}' (known: ${STEP_KINDS.join(', ')})`);
    const r = STEP_SCHEMAS[kind].safeParse((s as Record<string, unknown>)[kind]);
    if (!r.success) {
      const iss = firstIssue(r.error);
      fail([...path, kind, ...iss.path], iss.message);
    }
    if (kind === 'repeat') {
      const body = r.data as { count: number; steps: unknown[] };
      return { kind, body: { count: body.count, steps: parseSteps(body.steps, [...path, kind, 'steps'], fail, depth + 1) }, path } as Step;
    }
    if (kind === 'expect' && Object.keys(r.data as object).length !== 1) fail([...path, kind], 'an expect step checks exactly one thing (dma, event, noEvents, interrupt, noInterrupts, data or queue)');
    return { kind, body: r.data, path } as Step;
  });
}

/** Parses and validates scenario text; resolves the platform. */
export function parseScenario(text: string, file = '<scenario>'): { scenario: Scenario; platform: PlatformDescription } {
  const { data, lineOf } = readYamlInput(text, file);
  const fail = (path: Path, msg: string): never => {
    throw new UserInputError(`${path.length ? formatPath(path) + ': ' : ''}${msg}`, `${file}:${lineOf(path)}`);
  };
  const h = scenarioHeaderSchema.safeParse(data);
  if (!h.success) {
    const iss = firstIssue(h.error);
    fail(iss.path, iss.message);
  }
  const header = h.data!;
  const steps = parseSteps(header.steps, ['steps'], fail);
  countSteps(steps, fail);

  let platform: PlatformDescription;
  const p = header.platform;
  if ('preset' in p) {
    try {
      platform = loadPreset(p.preset, p.gicMsi ? { gicMsi: p.gicMsi } : {});
    } catch (e) {
      if (e instanceof UserInputError) fail(['platform', 'preset'], e.message.replace(/^--preset: /, ''));
      throw e;
    }
  } else if ('file' in p) {
    const path = resolve(dirname(file), p.file);
    if (!existsSync(path)) fail(['platform', 'file'], `platform description file not found: ${path}`);
    platform = loadPlatformFile(path);
  } else {
    const r = validatePlatform(p.description);
    if (!r.ok) {
      const i = r.issues[0]!;
      fail(['platform', 'description', ...i.path], i.message);
    }
    platform = (r as { ok: true; description: PlatformDescription }).description;
  }
  // Device models must name described endpoints.
  const endpoints = new Set<string>();
  const walk = (c: { kind: string; name: string; downstreamPorts?: readonly { child: unknown }[] } | null): void => {
    if (!c) return;
    if (c.kind === 'endpoint') endpoints.add(c.name);
    else for (const d of c.downstreamPorts ?? []) walk(d.child as never);
  };
  for (const rc of platform.rootComplexes) {
    for (const e of rc.endpoints) walk(e);
    for (const port of rc.ports) walk(port.child);
  }
  for (const n of Object.keys(header.devices)) {
    if (!endpoints.has(n)) fail(['devices', n], `no endpoint named '${n}' in the platform (${endpoints.size ? `endpoints: ${[...endpoints].join(', ')}` : 'it describes no endpoints'})`);
  }
  const scenario: Scenario = { name: header.name, description: header.description ?? '', file, header, steps, lineOf };
  return { scenario, platform };
}

export function loadScenarioFile(file: string): { scenario: Scenario; platform: PlatformDescription } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserInputError(`cannot read scenario: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, file);
  }
  return parseScenario(text, file);
}
