// SMMUv3 command queue entries: every opcode (IHI 0070 §4.1.1 table), the fields each command
// carries (§4.2-4.7; common fields §4.1.6, range invalidation fields §4.4.1.1), and a bigint
// encode/decode codec. Entries are 16 bytes: doubleword 0 and doubleword 1. Layout only.
import { bit, decodeFields, encodeFields, field, type Field } from '../bits.js';

/** Command opcodes (§4.1.1). CFGI_ALL is CFGI_STE_RANGE with Range = 31. */
export const OP = Object.freeze({
  PREFETCH_CONFIG: 0x01,
  PREFETCH_ADDR: 0x02,
  CFGI_STE: 0x03,
  CFGI_STE_RANGE: 0x04,
  CFGI_CD: 0x05,
  CFGI_CD_ALL: 0x06,
  CFGI_VMS_PIDM: 0x07,
  TLBI_NH_ALL: 0x10,
  TLBI_NH_ASID: 0x11,
  TLBI_NH_VA: 0x12,
  TLBI_NH_VAA: 0x13,
  TLBI_EL3_ALL: 0x18,
  TLBI_EL3_VA: 0x1a,
  TLBI_EL2_ALL: 0x20,
  TLBI_EL2_ASID: 0x21,
  TLBI_EL2_VA: 0x22,
  TLBI_EL2_VAA: 0x23,
  TLBI_S12_VMALL: 0x28,
  TLBI_S2_IPA: 0x2a,
  TLBI_NSNH_ALL: 0x30,
  ATC_INV: 0x40,
  PRI_RESP: 0x41,
  RESUME: 0x44,
  STALL_TERM: 0x45,
  SYNC: 0x46,
  TLBI_S_EL2_ALL: 0x50,
  TLBI_S_EL2_ASID: 0x51,
  TLBI_S_EL2_VA: 0x52,
  TLBI_S_EL2_VAA: 0x53,
  TLBI_S_S12_VMALL: 0x58,
  TLBI_S_S2_IPA: 0x5a,
  TLBI_SNH_ALL: 0x60,
  DPTI_ALL: 0x70,
  DPTI_PA: 0x73,
});

export type CommandName = keyof typeof OP;

/** Every command field (doubleword 0 = qw0, 1 = qw1). */
export const CMD = Object.freeze({
  OPCODE: field('OPCODE', 0, 7, 0),
  /** Secure StreamID flag: must be 0 on the Non-secure queue (§4.1.6). */
  SSEC: bit('SSEC', 0, 10),
  SSV: bit('SSV', 0, 11),
  SSID: field('SSID', 0, 31, 12),
  SID: field('SID', 0, 63, 32),
  /** ATC_INV: Global. */
  GLOBAL: bit('GLOBAL', 0, 9),
  /** TLBI range (§4.4.1.1): NUM [16:12], SCALE [24:20] (bit 25 only with IDR5.DS). */
  NUM: field('NUM', 0, 16, 12),
  SCALE: field('SCALE', 0, 24, 20),
  VMID: field('VMID', 0, 47, 32),
  ASID: field('ASID', 0, 63, 48),
  /** RESUME: Action (1 = retry) and Abort. */
  AC: bit('AC', 0, 12),
  AB: bit('AB', 0, 13),
  /** CMD_SYNC (§4.7.3): ComplSignal, MSI shareability, MSI attributes, MSI data. */
  CS: field('CS', 0, 13, 12),
  MSH: field('MSH', 0, 23, 22),
  MSIATTR: field('MSIATTR', 0, 27, 24),
  MSIDATA: field('MSIDATA', 0, 63, 32),
  // qw1
  LEAF: bit('LEAF', 1, 0),
  RANGE: field('RANGE', 1, 4, 0),
  TTL: field('TTL', 1, 9, 8),
  TG: field('TG', 1, 11, 10),
  /** Virtual address [63:12] (§4.1.6). */
  VA: field('VA', 1, 63, 12),
  /** IPA / physical address [55:12]. */
  IPA: field('IPA', 1, 55, 12),
  /** PREFETCH_ADDR size (2^Size translations). */
  PF_SIZE: field('PF_SIZE', 1, 4, 0),
  /** ATC_INV span, 2^Size granules (52 = everything). */
  ATC_SIZE: field('ATC_SIZE', 1, 5, 0),
  PRGINDEX: field('PRGINDEX', 1, 8, 0),
  RESP: field('RESP', 1, 13, 12),
  STAG: field('STAG', 1, 15, 0),
  /** CMD_SYNC MSI address [55:2]. */
  MSIADDR: field('MSIADDR', 1, 55, 2),
  /** CMD_SYNC MSIAddress bits [55:32] (the upper part of MSIADDR, for 32-bit readers). */
  MSIADDR_HI: field('MSIADDR_HI', 1, 55, 32),
});

export type CmdFieldName = keyof typeof CMD;

/** CMD_SYNC.CS values. */
export const SYNC_CS = Object.freeze({ NONE: 0, IRQ: 1, SEV: 2 });
/**
 * PRI_RESP.Resp values (§4.5.2): 0b00 ResponseFailure, 0b01 InvalidRequest, 0b10 Success, 0b11
 * Reserved (ILLEGAL). Linux calls 0 "DENY" and 1 "FAIL"; the specification's meaning is what counts.
 */
export const PRI_RESP = Object.freeze({ RESPONSE_FAILURE: 0, INVALID_REQUEST: 1, SUCCESS: 2 });

/** Which fields each command carries, in the order decoders print them. */
export const COMMAND_FIELDS: Readonly<Record<CommandName, readonly CmdFieldName[]>> = Object.freeze({
  PREFETCH_CONFIG: ['SSEC', 'SSV', 'SSID', 'SID'],
  PREFETCH_ADDR: ['SSEC', 'SSV', 'SSID', 'SID', 'PF_SIZE', 'VA'],
  CFGI_STE: ['SSEC', 'SID', 'LEAF'],
  CFGI_STE_RANGE: ['SSEC', 'SID', 'RANGE'],
  CFGI_CD: ['SSEC', 'SSID', 'SID', 'LEAF'],
  CFGI_CD_ALL: ['SSEC', 'SID'],
  CFGI_VMS_PIDM: ['SSEC', 'VMID'],
  TLBI_NH_ALL: ['VMID'],
  TLBI_NH_ASID: ['VMID', 'ASID'],
  TLBI_NH_VA: ['NUM', 'SCALE', 'VMID', 'ASID', 'LEAF', 'TTL', 'TG', 'VA'],
  TLBI_NH_VAA: ['NUM', 'SCALE', 'VMID', 'LEAF', 'TTL', 'TG', 'VA'],
  TLBI_EL3_ALL: [],
  TLBI_EL3_VA: ['NUM', 'SCALE', 'LEAF', 'TTL', 'TG', 'VA'],
  TLBI_EL2_ALL: [],
  TLBI_EL2_ASID: ['ASID'],
  TLBI_EL2_VA: ['NUM', 'SCALE', 'ASID', 'LEAF', 'TTL', 'TG', 'VA'],
  TLBI_EL2_VAA: ['NUM', 'SCALE', 'LEAF', 'TTL', 'TG', 'VA'],
  TLBI_S12_VMALL: ['VMID'],
  TLBI_S2_IPA: ['NUM', 'SCALE', 'VMID', 'LEAF', 'TTL', 'TG', 'IPA'],
  TLBI_NSNH_ALL: [],
  ATC_INV: ['GLOBAL', 'SSV', 'SSID', 'SID', 'ATC_SIZE', 'VA'],
  PRI_RESP: ['SSEC', 'SSV', 'SSID', 'SID', 'PRGINDEX', 'RESP'],
  RESUME: ['SSEC', 'AC', 'AB', 'SID', 'STAG'],
  STALL_TERM: ['SSEC', 'SID'],
  SYNC: ['CS', 'MSH', 'MSIATTR', 'MSIDATA', 'MSIADDR'],
  TLBI_S_EL2_ALL: [],
  TLBI_S_EL2_ASID: ['ASID'],
  TLBI_S_EL2_VA: ['NUM', 'SCALE', 'ASID', 'LEAF', 'TTL', 'TG', 'VA'],
  TLBI_S_EL2_VAA: ['NUM', 'SCALE', 'LEAF', 'TTL', 'TG', 'VA'],
  TLBI_S_S12_VMALL: ['VMID'],
  TLBI_S_S2_IPA: ['NUM', 'SCALE', 'VMID', 'LEAF', 'TTL', 'TG', 'IPA'],
  TLBI_SNH_ALL: [],
  DPTI_ALL: [],
  DPTI_PA: ['LEAF', 'IPA'],
});

const NAME_BY_OPCODE = new Map<number, CommandName>(Object.entries(OP).map(([k, v]) => [v, k as CommandName]));

/** Command name for an opcode, or null for Reserved / IMPLEMENTATION DEFINED opcodes. */
export function commandName(opcode: number): CommandName | null {
  return NAME_BY_OPCODE.get(opcode) ?? null;
}

/** Encodes a command into its two doublewords. Field values must fit (host misuse throws). */
export function encodeCommand(
  name: CommandName,
  values: Partial<Record<CmdFieldName, bigint | number | boolean>> = {},
): [bigint, bigint] {
  const allowed = COMMAND_FIELDS[name];
  const picked: Record<string, Field> = { OPCODE: CMD.OPCODE };
  for (const k of Object.keys(values) as CmdFieldName[]) {
    if (!allowed.includes(k)) throw new RangeError(`CMD_${name} has no field ${k}`);
    picked[k] = CMD[k];
  }
  const w = encodeFields(picked, { ...values, OPCODE: OP[name] }, 2);
  return [w[0]!, w[1]!];
}

export interface DecodedCommand {
  readonly opcode: number;
  /** Command name, or null when the opcode is Reserved (CERROR_ILL). */
  readonly name: CommandName | null;
  readonly fields: Readonly<Record<string, bigint>>;
}

/** Decodes a command; unknown opcodes decode with no fields (never throws). */
export function decodeCommand(words: readonly [bigint, bigint] | readonly bigint[]): DecodedCommand {
  const opcode = Number((words[0] ?? 0n) & 0xffn);
  const name = commandName(opcode);
  if (name === null) return { opcode, name, fields: {} };
  const picked: Record<string, Field> = {};
  for (const k of COMMAND_FIELDS[name]) picked[k] = CMD[k];
  return { opcode, name, fields: decodeFields(picked, words) };
}

/** CMD_CFGI_STE_RANGE with Range = 31 is CMD_CFGI_ALL (§4.3.2). */
export const CFGI_ALL_RANGE = 31;
