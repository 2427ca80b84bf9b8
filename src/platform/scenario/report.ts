// The scenario report: a stable JSON shape (documented in docs/scenarios.md) built by the runner,
// rendered as text by render.ts and as SVG by svg.ts. Hex values are 0x-prefixed lower case.

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

export interface ReportStep {
  readonly index: number;
  readonly line: number;
  readonly kind: string;
  readonly summary: string;
  /** 'ok' | 'failed' (expectation) | 'info'. */
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

export interface ScenarioReport {
  readonly schema: 'vsmmu-run-report/1';
  readonly scenario: { readonly name: string; readonly file: string; readonly description: string };
  readonly platform: { readonly model: string; readonly msiController: string; readonly smmus: readonly { name: string; base: string; features: string; rootComplexes: readonly string[] }[]; readonly its: string | null; readonly v2m: string | null };
  readonly topology: readonly ReportRootComplex[];
  readonly steps: readonly ReportStep[];
  readonly devices: readonly ReportDevice[];
  readonly events: readonly ReportEvent[];
  readonly interrupts: readonly ReportInterrupt[];
  readonly caches: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly guest: { readonly messages: readonly string[]; readonly smmuCommands: Readonly<Record<string, number>>; readonly itsCommands: number };
  readonly diagnostics: readonly string[];
  readonly expectations: { readonly passed: number; readonly failed: number; readonly failures: readonly ReportFailure[] };
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
