// Adapter between the device model and the translation engine (src/smmu/translation/): the one
// place that names the engine's configuration and inspector methods. The register file pushes the
// stream-table configuration (§6.3.24-6.3.25) and CR2 (§6.3.12).
import type { Translator } from '../translation/index.js';
import type { MappedRange, StreamReport, TranslationRequest, WalkTrace } from '../translation/types.js';

export class TranslatorAdapter {
  constructor(readonly t: Translator) {}

  setStreamTable(base: number, log2Size: number, fmt: number, split: number): void {
    this.t.setStreamTable({ base, log2Size, fmt, split });
  }

  setRecordInvalidSid(on: boolean): void {
    this.t.setRecordInvalidSid(on);
  }

  setE2H(on: boolean): void {
    this.t.setE2H(on);
  }

  // ---- inspector
  decodeStream(sid: number): StreamReport {
    return this.t.decodeStream(sid);
  }
  trace(req: TranslationRequest): WalkTrace {
    return this.t.translateVerbose(req);
  }
  mappings(sid: number, ssid: number | null): MappedRange[] {
    return this.t.mappings(sid, ssid);
  }
}
