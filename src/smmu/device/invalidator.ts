// The invalidation interface the command queue drives (IHI 0070 §4.3 configuration invalidation,
// §4.4 TLB invalidation). Implemented by an adapter over the translation engine's caches
// (translator-adapter.ts); kept as an interface so command decoding is testable on its own.

/** Operand of an address-based TLBI (reused, never allocated per command). */
export interface TlbiOperand {
  /** VMID (0 when stage 2 is not implemented). */
  vmid: number;
  /** ASID, or -1 for the "all ASIDs" (VAA / IPA) forms. */
  asid: number;
  /** Address bits [63:12] in place, as lo/hi halves (bits [11:0] zero). */
  addrLo: number;
  addrHi: number;
  leaf: boolean;
  /** Range fields (§4.4.1.1); tg = 0 means a single-address invalidation. */
  tg: number;
  num: number;
  scale: number;
  ttl: number;
}

export interface Invalidator {
  cfgiSte(sid: number, leaf: boolean): void;
  cfgiSteRange(sid: number, range: number): void;
  cfgiCd(sid: number, ssid: number, leaf: boolean): void;
  cfgiCdAll(sid: number): void;
  cfgiAll(): void;
  tlbiNhAll(vmid: number): void;
  tlbiNhAsid(vmid: number, asid: number): void;
  tlbiNhVa(op: TlbiOperand): void;
  tlbiNhVaa(op: TlbiOperand): void;
  tlbiEl2All(): void;
  tlbiEl2Asid(asid: number): void;
  tlbiEl2Va(op: TlbiOperand): void;
  tlbiEl2Vaa(op: TlbiOperand): void;
  tlbiS12Vmall(vmid: number): void;
  tlbiS2Ipa(op: TlbiOperand): void;
  tlbiNsnhAll(): void;
}
