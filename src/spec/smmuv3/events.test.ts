// Event record layout tests (IHI 0070 §7.3; Linux arm-smmu-v3 decode positions) and a fast-check
// round trip of encode/decode for every event type.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { EVT, EVT_CLASS, encodeEvent, decodeEvent, emptyEvent, eventName, eventShape, encodeEventWords, type SmmuEvent } from './events.js';

test('F_TRANSLATION record: qw0 type/SSV/SSID/SID, qw1 PnU/InD/RnW/S2/CLASS, qw2 InputAddr, qw3 IPA', () => {
  const ev: SmmuEvent = { ...emptyEvent(), type: EVT.F_TRANSLATION, sid: 0x10, ssv: true, ssid: 5, pnu: true, ind: true, rnw: true, s2: true, cls: EVT_CLASS.TT, ttrnw: true, inputLo: 0xdead_b000, inputHi: 0xffff_ffff, ipa: 0x12_3456_7000 };
  const w = encodeEvent(ev);
  assert.equal(w[0], (0x10n << 32n) | (5n << 12n) | (1n << 11n) | 0x10n);
  assert.equal(w[1], (1n << 33n) | (1n << 34n) | (1n << 35n) | (1n << 39n) | (1n << 40n) | (1n << 44n));
  assert.equal(w[2], 0xffff_ffff_dead_b000n);
  assert.equal(w[3], 0x12_3456_7000n);
  assert.deepEqual(decodeEvent(w), { ...ev, stag: 0, stall: false, nsipa: false, fetchAddr: 0 });
});

test('fetch events carry FetchAddr[55:3] in qw3; C_BAD_SUBSTREAMID has SubstreamID without SSV', () => {
  const f = encodeEvent({ ...emptyEvent(), type: EVT.F_STE_FETCH, sid: 7, fetchAddr: 0x4000_0fc8 });
  assert.deepEqual(f, [(7n << 32n) | 3n, 0n, 0n, 0x4000_0fc8n]);
  const s = encodeEvent({ ...emptyEvent(), type: EVT.C_BAD_SUBSTREAMID, sid: 1, ssid: 0xfffff, ssv: true });
  assert.equal(s[0], (1n << 32n) | (0xfffffn << 12n) | 8n);
  // fields not defined for the type are RES0
  const c = encodeEvent({ ...emptyEvent(), type: EVT.C_BAD_STE, sid: 2, rnw: true, inputLo: 0x1234, ipa: 0x5000 });
  assert.deepEqual(c, [(2n << 32n) | 4n, 0n, 0n, 0n]);
});

test('F_STREAM_DISABLED carries the StreamID only: SSV and SubstreamID are RES0 (IHI 0070 §7.3.7)', () => {
  // S1DSS = 0b10 with SubstreamID 0 reaches F_STREAM_DISABLED with a SubstreamID present.
  const w = encodeEvent({ ...emptyEvent(), type: EVT.F_STREAM_DISABLED, sid: 9, ssv: true, ssid: 0x123, rnw: true, inputLo: 0x1000 });
  assert.deepEqual(w, [(9n << 32n) | 6n, 0n, 0n, 0n]);
  assert.equal(eventShape(EVT.F_STREAM_DISABLED).ssv, false);
  // C_BAD_CD and C_BAD_STE keep SSV/SubstreamID (§7.3.5, §7.3.11)
  assert.equal(encodeEvent({ ...emptyEvent(), type: EVT.C_BAD_CD, sid: 9, ssv: true, ssid: 3 })[0], (9n << 32n) | (3n << 12n) | (1n << 11n) | 0xan);
});

test('event names', () => {
  assert.equal(eventName(0x10), 'F_TRANSLATION');
  assert.equal(eventName(0x0a), 'C_BAD_CD');
  assert.equal(eventName(0xfe), 'EVT_0xfe');
  assert.equal(eventShape(EVT.F_WALK_EABT).fetch, true);
});

test('encode/decode round-trips every event type (fast-check)', () => {
  const types = Object.values(EVT);
  fc.assert(
    fc.property(
      fc.constantFrom(...types), fc.nat(0xffff_ffff), fc.boolean(), fc.nat(0xfffff), fc.nat(0xffff), fc.boolean(), fc.boolean(), fc.boolean(), fc.boolean(),
      fc.boolean(), fc.nat(2), fc.boolean(), fc.nat(0xffff_ffff), fc.nat(0xffff_ffff), fc.nat(2 ** 40 - 1),
      (type, sid, ssv, ssid, stag, stall, pnu, ind, rnw, s2, cls, ttrnw, lo, hi, page) => {
        const ev: SmmuEvent = { type, sid, ssv, ssid, stag, stall, pnu, ind, rnw, nsipa: false, s2, cls, ttrnw, inputLo: lo, inputHi: hi, ipa: page * 4096, fetchAddr: page * 8 };
        const back = decodeEvent(encodeEvent(ev));
        const shape = eventShape(type);
        assert.equal(back.type, type);
        assert.equal(back.sid, sid);
        if (type === EVT.C_BAD_SUBSTREAMID || (ssv && shape.ssv)) assert.equal(back.ssid, ssid);
        if (!shape.ssv && type !== EVT.C_BAD_SUBSTREAMID) assert.deepEqual([back.ssv, back.ssid], [false, 0]);
        if (shape.access) {
          assert.deepEqual([back.stag, back.stall, back.pnu, back.ind, back.rnw, back.s2, back.cls, back.ttrnw, back.inputLo, back.inputHi], [stag, stall, pnu, ind, rnw, s2, cls, ttrnw, lo, hi]);
        }
        if (shape.ipa) assert.equal(back.ipa, page * 4096);
        if (shape.fetch) assert.equal(back.fetchAddr, page * 8);
        const w = encodeEventWords(ev, new Uint32Array(8));
        assert.equal(w[0]! & 0xff, type);
      },
    ),
  );
});
