// A short fixed-seed run of the guest-program fuzzer (test/fuzz/guest-fuzz.ts) over every SMMU
// profile and over the qemu-virt (ITS) and GICv2m platforms; `npm run fuzz -- --seconds N` runs it
// (and the file fuzzer) for longer with fresh seeds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { qemuVirtWithDevices, toDescription } from '../support/platform-fixtures.js';
import { DMA_PROFILES, runChaosFuzz, runDmaFuzz } from './guest-fuzz.js';
import { V2M_PLATFORM } from './platforms.js';

for (const profile of Object.keys(DMA_PROFILES)) {
  test(`DMA program on the ${profile} SMMU: DMA lands where the independent page-table model says, no cross-stream effect, replay after restore is identical`, () => {
    for (const seed of [1, 2]) {
      const r = runDmaFuzz(profile, seed, 200);
      assert.equal(r.ops, 200);
      assert.ok(r.dmaOk > 0 && r.dmaFaults > 0, `both outcomes exercised (${r.dmaOk} ok, ${r.dmaFaults} faults)`);
    }
  });
}

test('chaos over qemu-virt (SMMU qemu-7.2 profile, GICv3 + ITS, DMA engine): no exception, every access within the work bound', () => {
  const r = runChaosFuzz(qemuVirtWithDevices(), 7, 1500, { dma0: 'dma-engine', nvme0: 'queue' });
  assert.equal(r.ops, 1500);
  assert.ok(r.accesses > 1000);
});

test('chaos over a GICv2m platform: no exception, every access within the work bound', () => {
  const r = runChaosFuzz(toDescription(V2M_PLATFORM), 8, 1000, { dma0: 'dma-engine' });
  assert.ok(r.accesses > 500);
});
