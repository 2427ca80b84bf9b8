// Scenario file schema (YAML/JSON): a platform, device models, and steps (map, unmap, dma, queue,
// msi, hotplug, unplug, renumber, inject bad configuration, tlbi, expect ..., repeat). Validation
// only; docs/scenarios.md describes every step. Every problem carries the path of the offending
// value so the loader can name the file line.
import { z } from 'zod';
import { uint } from '../schema.js';

const name = z.string().regex(/^[A-Za-z][A-Za-z0-9_.-]*$/, 'names start with a letter and use letters, digits, "_", "." or "-"');
/** An address: a number, a name bound by an earlier step, or "name+offset". */
const ref = z.union([uint, z.string().regex(/^[A-Za-z][A-Za-z0-9_.-]*(\s*\+\s*(0x[0-9a-fA-F_]+|[0-9_]+))?$/, 'expected an address: a number, a name from an earlier step, or "name+offset"')]);
const size = uint.refine((v) => v > 0 && v <= 0x1000_0000, 'sizes are 1..256 MiB');
const model = z.enum(['dma-engine', 'queue', 'generic']);

const perm = z.enum(['r', 'w', 'rw']);
const eventName = z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'an event name such as F_TRANSLATION or C_BAD_STE');

export const STEP_SCHEMAS = {
  note: z.string(),
  alloc: z.strictObject({ buffer: name, size, fill: uint.refine((v) => v <= 0xff, 'fill is a byte').optional() }),
  write: z.strictObject({ buffer: name, offset: uint.default(0), bytes: z.string().regex(/^([0-9a-fA-F]{2}\s*)+$/, 'hex bytes, e.g. "de ad be ef"') }),
  map: z.strictObject({ device: name, buffer: name, as: name.optional(), perm: perm.default('rw'), iova: uint.optional(), offset: uint.default(0), size: size.optional() }),
  unmap: z.strictObject({ device: name, iova: ref, size }),
  dma: z.strictObject({ device: name, op: z.enum(['copy', 'fill']), from: ref.optional(), to: ref, length: size, pattern: uint.refine((v) => v <= 0xffff_ffff, 'pattern is 32 bits').default(0) }),
  queue: z.strictObject({ device: name, op: z.enum(['write', 'read']), buffer: ref, lba: uint.default(0), length: size }),
  msi: z.strictObject({ device: name, vector: uint.default(0) }),
  hotplug: z.strictObject({ port: z.string().min(1), device: name, model: model.default('generic'), functions: uint.refine((v) => v >= 1 && v <= 8, '1..8').default(1) }),
  unplug: z.strictObject({ port: z.string().min(1) }),
  renumber: z.strictObject({ rootComplex: name, busGap: uint.refine((v) => v <= 200, 'busGap is 0..200') }),
  tlbi: z.strictObject({ device: name, iova: ref.optional(), size: size.optional() }),
  inject: z.strictObject({
    kind: z.enum(['ste-invalid', 'ste-illegal', 'cd-invalid', 'illegal-command', 'pte-rewrite']),
    device: name.optional(),
    iova: ref.optional(),
    buffer: name.optional(),
  }),
  expect: z.strictObject({
    dma: z.strictObject({ device: name.optional(), result: z.enum(['ok', 'fault']), reason: z.string().optional() }).optional(),
    event: z
      .strictObject({ smmu: name.optional(), type: eventName, device: name.optional(), iova: ref.optional(), count: uint.optional() })
      .optional(),
    noEvents: z.boolean().optional(),
    interrupt: z.strictObject({ device: name.optional(), vector: uint.optional(), lpi: uint.optional(), spi: uint.optional(), count: uint.optional() }).optional(),
    noInterrupts: z.boolean().optional(),
    data: z
      .strictObject({ buffer: name, offset: uint.default(0), length: size.optional(), equals: z.string().optional(), sameAs: name.optional(), fill: uint.refine((v) => v <= 0xff, 'fill is a byte').optional() })
      .optional(),
    queue: z.strictObject({ device: name, status: z.enum(['ok', 'error']) }).optional(),
  }),
  repeat: z.strictObject({ count: uint.refine((v) => v >= 1 && v <= 100_000, 'count is 1..100000'), steps: z.array(z.unknown()).min(1) }),
} as const;

export type StepKind = keyof typeof STEP_SCHEMAS;
export const STEP_KINDS = Object.keys(STEP_SCHEMAS) as StepKind[];

export type StepBody<K extends StepKind> = z.output<(typeof STEP_SCHEMAS)[K]>;

/** A validated step: its kind, body, and where it came from. Repeat bodies are expanded at run time. */
export type Step = { [K in StepKind]: { kind: K; body: K extends 'repeat' ? { count: number; steps: Step[] } : StepBody<K>; path: (string | number)[] } }[StepKind];

export const platformRef = z.union([
  z.strictObject({ preset: z.string().min(1), gicMsi: z.enum(['auto', 'its', 'v2m', 'none']).optional() }),
  z.strictObject({ file: z.string().min(1) }),
  z.strictObject({ description: z.record(z.string(), z.unknown()) }),
]);

export const scenarioHeaderSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().optional(),
  platform: platformRef,
  devices: z.record(name, model).default({}),
  guest: z.strictObject({ defaultDomain: z.enum(['dma', 'identity']).default('dma') }).default({ defaultDomain: 'dma' }),
  steps: z.array(z.unknown()).min(1, 'a scenario needs at least one step'),
});

export type ScenarioHeader = z.output<typeof scenarioHeaderSchema>;

export interface Scenario {
  readonly name: string;
  readonly description: string;
  readonly file: string;
  readonly header: ScenarioHeader;
  readonly steps: Step[];
  /** Line of a step path (for messages). */
  lineOf(path: readonly (string | number)[]): number;
}
