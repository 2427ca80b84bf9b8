// The allocation tests again, with V8 inlining only the small functions it always inlines
// (--max-inlined-bytecode-size-cumulative=0). Which larger calls V8 inlines depends on what else it
// has compiled into the caller by then, which varies with the workload and from run to run; a
// number of 2^31 or more (a PA above 2 GiB, an IOVA's low half, a descriptor word) passed to or
// returned from a call that is not inlined is a boxed double. Here every such call stays a call,
// so a path that allocates nothing only when V8 happens to inline it fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

test('the per-access paths allocate nothing with no call inlined but the small ones (allocation tests under --max-inlined-bytecode-size-cumulative=0)', () => {
  // Without the test runner's marker for its own child processes, so that the child reports as a
  // run of its own (TAP on stdout).
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const r = spawnSync(process.execPath, ['--max-inlined-bytecode-size-cumulative=0', '--import', 'tsx', '--test', '--test-reporter=tap', 'test/smmu/allocation.test.ts'], {
    encoding: 'utf8',
    timeout: 300_000,
    env,
  });
  const failed = r.stdout.split('\n').filter((l) => l.startsWith('not ok'));
  assert.equal(r.status, 0, `${failed.join('\n')}\n${r.stdout.slice(-3000)}${r.stderr.slice(-2000)}`);
  // The run counted something: every test of the file passed.
  const pass = /^# pass (\d+)$/m.exec(r.stdout);
  assert.ok(pass !== null && Number(pass[1]) >= 30, `allocation tests passed: ${pass?.[1] ?? 'none'}`);
});
