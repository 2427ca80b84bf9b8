import assert from 'node:assert/strict';
import { test } from 'node:test';
import { br, ldrLiteral64, movReg64, XZR } from '../spec/a64.js';
import { bootStub, BOOT_STUB_SIZE } from './boot-stub.js';

// Known answers: the encodings `llvm-mc -triple=aarch64 -show-encoding` prints for these instructions.
test('A64 encodings match the assembler', () => {
  assert.equal(ldrLiteral64(0, 24), 0x580000c0); // ldr x0, .+24
  assert.equal(ldrLiteral64(4, 16), 0x58000084); // ldr x4, .+16
  assert.equal(ldrLiteral64(1, -4), 0x58ffffe1); // ldr x1, .-4
  assert.equal(movReg64(1, XZR), 0xaa1f03e1); // mov x1, xzr
  assert.equal(movReg64(3, XZR), 0xaa1f03e3); // mov x3, xzr
  assert.equal(movReg64(0, 5), 0xaa0503e0); // mov x0, x5
  assert.equal(br(4), 0xd61f0080); // br x4
  assert.equal(br(30), 0xd61f03c0); // br x30 (ret without hint)
  assert.throws(() => ldrLiteral64(0, 2), /out of range/);
});

test('the boot stub is the 40 bytes of the arm64 boot protocol entry', () => {
  const s = bootStub(0x4000_0000, 0x4020_0000);
  assert.equal(s.length, BOOT_STUB_SIZE);
  assert.equal(
    Buffer.from(s).toString('hex'),
    'c0000058' + 'e1031faa' + 'e2031faa' + 'e3031faa' + '84000058' + '80001fd6' + '0000004000000000' + '0000204000000000',
  );
});
