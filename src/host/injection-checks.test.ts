import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { InjectionReport } from '../smmu/device/inject.js';
import { injectedRecordCount, injectionChecks } from './injection-checks.js';

const WORDS = ['0x0000000800000010', '0x0000120800000000', '0x00000000dead0000', '0x0000000000000000'];
const dma: InjectionReport = {
  name: 'dma-fault', when: 'boot', fired: true, at: { commands: 22, seconds: 1 }, effect: 'x',
  records: [{ type: 'F_TRANSLATION', code: '0x10', streamId: 8, inputAddr: '0xdead0000', words: WORDS }], recordsWritten: 1,
};

test('dma-fault passes only when the guest printed the very record words', () => {
  assert.equal(injectionChecks([dma], '', [{ code: 0x10, words: WORDS }])[0]!.pass, true);
  assert.equal(injectionChecks([dma], '', [{ code: 0x10, words: [...WORDS.slice(0, 3), '0x0000000000000001'] }])[0]!.pass, false);
  assert.equal(injectionChecks([dma], '', [{ code: 0x02, words: WORDS }])[0]!.pass, false);
  assert.equal(injectionChecks([dma], '', [])[0]!.pass, false);
});

test('other injections pass when they fired and the driver printed its line; not fired always fails', () => {
  const r = (name: InjectionReport['name'], fired = true): InjectionReport => ({ name, when: 'boot', fired, effect: 'e', recordsWritten: 0 });
  const con = '[ 1.0] arm-smmu-v3 80000000.smmuv3: CMDQ error (cons 0x01000012): Illegal command\n[ 1.1] arm-smmu-v3 80000000.smmuv3: EVTQ write aborted -- events may have been lost\n';
  const got = injectionChecks([r('cmd-error'), r('gerror'), r('evtq-overflow'), r('cmdsync-stall', false)], con, []);
  assert.deepEqual(got.map((c) => [c.name, c.pass]), [['injection-cmd-error', true], ['injection-gerror', true], ['injection-evtq-overflow', false], ['injection-cmdsync-stall', false]]);
  assert.match(got[0]!.detail, /Illegal command/);
  assert.equal(injectedRecordCount([dma, r('gerror')]), 1);
});
