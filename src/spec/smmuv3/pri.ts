// SMMUv3 PRI queue entries (IHI 0070 chapter 8: Page request queue): 16-byte records carrying a
// PCIe Page Request, and the PRG Response codes (§8.3). Layout only; field positions as the
// specification's record figure places them (and as Linux's arm-smmu-v3 driver decodes them).
import { bit, field } from '../bits.js';

export const PRIQ_ENTRY = Object.freeze({
  SID: field('StreamID', 0, 31, 0),
  SSID: field('SubstreamID', 0, 51, 32),
  PRIV: bit('Priv', 0, 58),
  EXEC: bit('X', 0, 59),
  READ: bit('R', 0, 60),
  WRITE: bit('W', 0, 61),
  LAST: bit('Last', 0, 62),
  SSV: bit('SSV', 0, 63),
  PRG_INDEX: field('PRGIndex', 1, 8, 0),
  /** Page address [63:12], kept in place. */
  ADDR: field('PageAddr', 1, 63, 12),
});

/** PCIe PRG Response codes (§8.3). */
export const PRG_RESPONSE = Object.freeze({ SUCCESS: 0b0000, INVALID_REQUEST: 0b0001, FAILURE: 0b1111 });

/**
 * CMD_PRI_RESP.Resp to the PRG Response code sent to the endpoint (§4.5.2): 0b00 ResponseFailure,
 * 0b01 InvalidRequest, 0b10 Success (0b11 is ILLEGAL and never reaches here).
 */
export function priRespCode(resp: number): number {
  return resp === 2 ? PRG_RESPONSE.SUCCESS : resp === 1 ? PRG_RESPONSE.INVALID_REQUEST : PRG_RESPONSE.FAILURE;
}
