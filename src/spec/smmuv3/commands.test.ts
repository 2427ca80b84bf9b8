// Known-answer tests for command encodings (IHI 0070 chapter 4) from Linux 6.1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { COMMAND_FIELDS, OP, commandName, decodeCommand, encodeCommand, type CommandName } from './commands.js';

test('CMD_SYNC known answers (SEV and MSI forms)', () => {
  assert.deepEqual(encodeCommand('SYNC', { CS: 2, MSH: 3, MSIATTR: 0xf }), [0x0fc02046n, 0n]);
  assert.deepEqual(encodeCommand('SYNC', { CS: 1, MSH: 3, MSIATTR: 0xf, MSIADDR: 0x40100010n >> 2n }), [0x0fc01046n, 0x40100010n]);
});

test('CFGI_ALL and TLBI_NH_VA known answers', () => {
  assert.deepEqual(encodeCommand('CFGI_STE_RANGE', { RANGE: 31 }), [0x4n, 0x1fn]);
  // RIL form: 4 x 4K at 0x10000 in ASID 1.
  assert.deepEqual(encodeCommand('TLBI_NH_VA', { ASID: 1, SCALE: 2, LEAF: 1, TTL: 3, TG: 1, VA: 0x10n }), [0x0001000000200012n, 0x10701n]);
  // Non-RIL form.
  assert.deepEqual(encodeCommand('TLBI_NH_VA', { ASID: 1, LEAF: 1, VA: 0x11n }), [0x0001000000000012n, 0x11001n]);
  const d = decodeCommand([0x0001000000200012n, 0x00000000fffff701n]);
  assert.equal(d.name, 'TLBI_NH_VA');
  assert.equal(d.fields.VA, 0xfffffn);
  assert.equal(d.fields.TTL, 3n);
  assert.equal(d.fields.TG, 1n);
});

test('CFGI_STE / CFGI_CD / PREFETCH_CONFIG put the SID in qw0[63:32]', () => {
  assert.deepEqual(encodeCommand('CFGI_STE', { SID: 8, LEAF: 1 }), [0x0000000800000003n, 1n]);
  assert.deepEqual(encodeCommand('CFGI_CD', { SID: 8, SSID: 5, LEAF: 1 }), [0x0000000800005005n, 1n]);
  assert.deepEqual(encodeCommand('PREFETCH_CONFIG', { SID: 0x10 }), [0x0000001000000001n, 0n]);
});

test('reserved opcodes decode without fields and never throw', () => {
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (a, b) => {
      const d = decodeCommand([a, b]);
      assert.equal(d.opcode, Number(a & 0xffn));
      assert.equal(d.name, commandName(d.opcode));
    }),
  );
  assert.equal(decodeCommand([0x08n, 0n]).name, null);
});

test('every command round-trips every one of its fields', () => {
  for (const name of Object.keys(OP) as CommandName[]) {
    for (const f of COMMAND_FIELDS[name]) {
      const [a, b] = encodeCommand(name, { [f]: 1 });
      const d = decodeCommand([a, b]);
      assert.equal(d.name, name);
      assert.equal(d.fields[f], 1n, `${name}.${f}`);
    }
  }
});
