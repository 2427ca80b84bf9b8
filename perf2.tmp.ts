import { DEFAULT_FEATURES } from './src/smmu/features.js';
import { Translator } from './src/smmu/translation/translator.js';
import { newRequest, newResult, setAddress } from './src/smmu/translation/types.js';
import { encodeS1Leaf } from './src/spec/smmuv3/pagetable.js';
import { Arena, PageTables } from './src/smmu/translation/test-support.js';
const streams = Number(process.argv[2] ?? 1);
const arena = new Arena(0x4000_0000, 64 << 20);
const t = new Translator(arena.mem, DEFAULT_FEATURES, { tlbSize: 1 << 16, configCacheSize: 1 << 18 });
const strtab = arena.alloc(65536 * 64, 65536 * 64);
t.setStreamTable({ base: strtab, log2Size: 16, fmt: 0, split: 6 });
const pt = new PageTables(arena, 12, 48, 0);
for (let i = 0; i < 1024; i++) pt.map(BigInt(0x1_0000_0000 + i * 4096), encodeS1Leaf({ oa: BigInt(0x4000_0000 + i * 4096), level3: true, ap: 1, attrIndx: 1, sh: 3, ng: true }), 3);
const cds = arena.alloc(streams * 64, 64);
for (let s = 0; s < streams; s++) {
  arena.writeWords(cds + s * 64, arena.cd({ T0SZ: 16, TG0: 0, EPD1: 1, V: 1, IPS: 5, AA64: 1, R: 1, A: 1, ASID: 1, TTB0: BigInt(pt.root) >> 4n }));
  arena.writeWords(strtab + s * 64, arena.ste({ V: 1, CONFIG: 5, S1_CONTEXT_PTR: BigInt(cds + s * 64) >> 6n }));
}
const req = newRequest(); const res = newResult();
for (let s = 0; s < streams; s++) { req.sid = s; setAddress(req, 0x1_0000_0000); t.translate(req, res); }
for (let i = 0; i < 1024; i++) { req.sid = 0; setAddress(req, 0x1_0000_0000 + i * 4096); t.translate(req, res); }
const FIX = process.argv[4] === "fix";
const N = Number(process.argv[3] ?? 3_000_000);
let x = 0;
const t0 = process.hrtime.bigint();
for (let i = 0; i < N; i++) { req.sid = FIX ? (i & 15) : i % streams; setAddress(req, 0x1_0000_0000 + (i & 1023) * 4096); t.translate(req, res); x += res.pa; }
const ns = Number(process.hrtime.bigint() - t0) / N;
console.log(streams, ns.toFixed(1), t.stats().tlbMisses, t.stats().configMisses);
{
  const cc = (t as any).cfgCache;
  const t1 = process.hrtime.bigint();
  let y = 0;
  for (let i = 0; i < 3_000_000; i++) { const se = cc.getSte(i % streams); y += se.cds.get(0).cd.asid; }
  console.log('cfg only', Number(process.hrtime.bigint() - t1) / 3e6, y);
  const tl = (t as any).tlb;
  const t2 = process.hrtime.bigint();
  for (let i = 0; i < 3_000_000; i++) { const e = tl.lookup(2, 0, 0x1_0000_0000 + (i & 1023) * 4096); y += e.shift; }
  console.log('tlb only', Number(process.hrtime.bigint() - t2) / 3e6, y);
}
