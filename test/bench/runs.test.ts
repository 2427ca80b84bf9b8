// `npm run bench -- --runs N`: each workload measured in N processes, the run with the median ratio
// reported with the smallest and largest ratio; the JSON keeps its fields and adds these. Only the
// shape and the argument check are tested: no timing is asserted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

function bench(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/main.ts', ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('--runs 3 reports the median-ratio run of three processes with the ratio range', () => {
  const r = bench('--only', 'scale/iotlb-hit/pages=1024', '--quick', '--runs', '3', '--json');
  assert.equal(r.status, 0, r.stderr);
  const { results } = JSON.parse(r.stdout) as { results: Record<string, unknown>[] };
  assert.equal(results.length, 1);
  const x = results[0]!;
  assert.equal(x.name, 'scale/iotlb-hit/pages=1024');
  for (const k of ['nsPerOp', 'baselineNsPerOp', 'ratio', 'bytesPerOp', 'ratioMin', 'ratioMax']) assert.equal(typeof x[k], 'number', k);
  assert.equal(x.runs, 3);
  assert.ok((x.ratioMin as number) <= (x.ratio as number) && (x.ratio as number) <= (x.ratioMax as number));
  // The ratio is the reported run's own (its ns/op figures are rounded to 0.1 ns).
  const own = (x.nsPerOp as number) / (x.baselineNsPerOp as number);
  assert.ok(Math.abs((x.ratio as number) - own) <= 0.01 + 0.01 * own, `ratio ${String(x.ratio)} against ${own}`);
});

test('--runs outside 1-99 is refused with exit 2 and a message naming the flag', () => {
  for (const bad of ['0', '1.5', 'x']) {
    const r = bench('--only', 'none', '--runs', bad);
    assert.equal(r.status, 2, bad);
    assert.match(r.stderr, /--runs/);
  }
});
