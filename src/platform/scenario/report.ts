// The scenario report: a stable JSON shape (documented in docs/scenarios.md) built by the runner,
// rendered as text by render.ts and as SVG by svg.ts. Hex values are 0x-prefixed lower case.
// Its size is bounded whatever the scenario runs: one entry per step of the file (with counts for
// repeated steps), groups with counts for events and interrupts, and lists of single executions,
// events, interrupts and failures that keep at most `detail.limit` entries each.

export interface ReportFunction {
  readonly name: string;
  readonly kind: 'root-port' | 'switch-upstream' | 'switch-downstream' | 'endpoint';
  readonly bdf: string | null;
  readonly rid: string | null;
  readonly smmu: string | null;
  readonly streamId: string | null;
  readonly deviceId: string | null;
  /** Device model ('dma-engine', 'queue', 'generic', 'port'). */
  readonly model: string;
  /** Names of the functions below (ports and switches), in scan order. */
  readonly children: readonly string[];
}

export interface ReportRootComplex {
  readonly name: string;
  readonly segment: number;
  readonly buses: string;
  readonly smmu: string | null;
  readonly ecam: string;
  readonly toSmmu: readonly { rids: string; streamIds: string; smmu: string }[];
  readonly toMsi: readonly { rids: string; deviceIds: string; its: string }[];
  readonly functions: readonly ReportFunction[];
}

/** One step of the scenario file (in file order, repeats included), over all its executions. */
export interface ReportStep {
  /** Position in the file's step order (0-based). */
  readonly index: number;
  /** Scenario file line. */
  readonly line: number;
  /** Nesting inside `repeat` steps (0 at top level). */
  readonly depth: number;
  readonly kind: string;
  /** What the first execution did (for `repeat`: the loop). */
  readonly summary: string;
  /** What the last execution did, when it ran more than once and differed; else null. */
  readonly last: string | null;
  /** Times it ran. */
  readonly runs: number;
  /** Executions whose expectation held / failed (0 for other steps). */
  readonly ok: number;
  readonly failed: number;
  /** 'ok' | 'failed' (some execution failed) | 'info' (not an expectation). */
  readonly status: 'ok' | 'failed' | 'info';
}

/** One executed step (the first `detail.limit` executions are kept). */
export interface ReportExecution {
  /** Execution number (1-based). */
  readonly step: number;
  readonly line: number;
  readonly kind: string;
  readonly summary: string;
  readonly status: 'ok' | 'failed' | 'info';
}

export interface ReportDevice {
  readonly name: string;
  readonly model: string;
  /** Surprise-removed during the run (its IDs are the last ones it had). */
  readonly removed: boolean;
  readonly bdf: string | null;
  readonly streamId: string | null;
  readonly deviceId: string | null;
  readonly dma: { ok: number; faults: number; bytes: number; lastFault: string | null };
  readonly msi: { signalled: number; delivered: number; dropped: number; aborted: number };
  readonly vectors: readonly { address: string; data: string; intid: number }[];
}

export interface ReportEvent {
  readonly step: number;
  /** Scenario line of the step during which the guest consumed the event. */
  readonly line: number;
  readonly smmu: string;
  readonly type: string;
  readonly code: string;
  readonly streamId: string;
  readonly device: string | null;
  readonly substreamId: string | null;
  readonly address: string | null;
  readonly access: string | null;
  readonly text: string;
}

export interface ReportInterrupt {
  readonly step: number;
  readonly line: number;
  readonly kind: 'lpi' | 'spi';
  readonly intid: number;
  readonly pe: number | null;
  /** What raised it: "dma0 vector 0", "smmu0 eventq", "rp0 hot-plug", or null when unknown. */
  readonly source: string | null;
}

export interface ReportFailure {
  readonly step: number;
  readonly line: number;
  readonly what: string;
  readonly expected: string;
  readonly actual: string;
}

/** Events of one SMMU, type, stream and device. */
export interface ReportEventGroup {
  readonly smmu: string;
  readonly type: string;
  readonly code: string;
  readonly streamId: string;
  readonly device: string | null;
  readonly count: number;
  readonly first: { readonly step: number; readonly line: number; readonly address: string | null };
  readonly last: { readonly step: number; readonly line: number; readonly address: string | null };
}

/** Interrupts of one kind, INTID and source. */
export interface ReportInterruptGroup {
  readonly kind: 'lpi' | 'spi';
  readonly intid: number;
  readonly source: string | null;
  readonly count: number;
  readonly first: { readonly step: number; readonly line: number };
  readonly last: { readonly step: number; readonly line: number };
}

export interface ScenarioReport {
  readonly schema: 'vsmmu-run-report/2';
  readonly scenario: { readonly name: string; readonly file: string; readonly description: string };
  readonly platform: {
    readonly model: string;
    readonly msiController: string;
    readonly smmus: readonly { name: string; base: string; features: string; rootComplexes: readonly string[] }[];
    readonly its: string | null;
    readonly v2m: string | null;
    /** GICv2m: the SPI INTIDs its frame sets (MSIs are SPIs there, no DeviceID); else null. */
    readonly v2mSpis: { readonly first: number; readonly count: number } | null;
  };
  readonly topology: readonly ReportRootComplex[];
  readonly steps: readonly ReportStep[];
  readonly executions: readonly ReportExecution[];
  readonly devices: readonly ReportDevice[];
  readonly events: readonly ReportEvent[];
  readonly eventGroups: readonly ReportEventGroup[];
  readonly interrupts: readonly ReportInterrupt[];
  readonly interruptGroups: readonly ReportInterruptGroup[];
  readonly caches: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly guest: { readonly messages: readonly string[]; readonly smmuCommands: Readonly<Record<string, number>>; readonly itsCommands: number };
  readonly diagnostics: readonly string[];
  readonly expectations: { readonly passed: number; readonly failed: number; readonly failures: readonly ReportFailure[] };
  /** How many entries each bounded list keeps, and how many it left out. */
  readonly detail: {
    readonly limit: number;
    readonly omitted: { readonly executions: number; readonly events: number; readonly interrupts: number; readonly failures: number; readonly messages: number };
  };
  readonly summary: {
    readonly steps: number;
    readonly dmaOk: number;
    readonly dmaFaults: number;
    readonly events: number;
    readonly interrupts: number;
    readonly hotplugs: number;
    readonly renumbers: number;
    readonly ok: boolean;
  };
}
