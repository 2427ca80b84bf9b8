// `expect` steps: DMA results, SMMU events and interrupts since the previous check of their kind,
// buffer contents and queue-command status, each recorded as passed or failed with what was
// expected and what happened.
import { hex } from '../../util/hex.js';
import { counted, type DevState, type PendingEvent, type PendingInterrupt, type StepContext } from './context.js';
import type { Step, StepBody } from './schema.js';

export interface ExpectContext extends StepContext {
  readonly memory: { readBytes(addr: number, dst: Uint8Array): boolean };
  /** A device by name, or undefined (an expectation on an unknown device simply fails). */
  device(name: string): DevState | undefined;
  /** The device of the last `dma` step. */
  readonly lastDmaDevice: string | null;
  /** Events since the previous event check, counted per distinct event. */
  takeEvents(): { item: PendingEvent; count: number }[];
  /** Interrupts since the previous interrupt check, counted per distinct interrupt. */
  takeInterrupts(): { item: PendingInterrupt; count: number }[];
}

export function expectStep(c: ExpectContext, s: Step, b: StepBody<'expect'>): void {
  if (b.dma) {
    const name = b.dma.device ?? c.lastDmaDevice;
    const d = name ? c.device(name) : undefined;
    const last = d?.lastDma ?? null;
    const actual = last === null ? 'no DMA yet' : last.ok ? 'ok' : `fault ${last.reason}`;
    const ok = last !== null && (b.dma.result === 'ok' ? last.ok : !last.ok && (b.dma.reason === undefined || (last.reason ?? '').includes(b.dma.reason)));
    c.check(s, `dma ${name ?? ''}`.trim(), ok, b.dma.result === 'ok' ? 'ok' : `fault${b.dma.reason ? ` ${b.dma.reason}` : ''}`, actual);
    return;
  }
  if (b.event) {
    const e = b.event;
    const iova = e.iova !== undefined ? c.ref(s, e.iova, 'iova') : null;
    const fresh = c.takeEvents();
    const total = fresh.reduce((a, x) => a + x.count, 0);
    let hits = 0;
    for (const { item: r, count } of fresh) {
      if (r.type === e.type && (e.smmu === undefined || r.smmu === e.smmu) && (e.device === undefined || r.device === e.device) && (iova === null || r.address === iova)) hits += count;
    }
    const ok = e.count !== undefined ? hits === e.count : hits > 0;
    const want = `${e.count ?? '>= 1'} × ${e.type}${e.device ? ` from ${e.device}` : ''}${iova !== null ? ` at ${hex(iova)}` : ''}`;
    c.check(s, 'event', ok, want, total ? `${hits} matching of ${total}: ${counted(fresh.map((x) => ({ text: x.item.text, count: x.count })))}` : 'no events');
    return;
  }
  if (b.noEvents) {
    const fresh = c.takeEvents();
    c.check(s, 'no events', fresh.length === 0, 'no events', fresh.length ? counted(fresh.map((x) => ({ text: x.item.text, count: x.count }))) : 'no events');
    return;
  }
  if (b.interrupt) {
    const i = b.interrupt;
    const fresh = c.takeInterrupts();
    const src = i.device !== undefined ? (c.device(i.device)?.model === 'port' ? `${i.device} hot-plug` : `${i.device} vector ${i.vector ?? 0}`) : null;
    const matches = (r: PendingInterrupt): boolean => (src === null || r.source === src) && (i.lpi === undefined || (r.kind === 'lpi' && r.intid === i.lpi)) && (i.spi === undefined || (r.kind === 'spi' && r.intid === i.spi));
    const total = fresh.reduce((a, x) => a + x.count, 0);
    const hitList = fresh.filter((x) => matches(x.item));
    const hits = hitList.reduce((a, x) => a + x.count, 0);
    const ok = i.count !== undefined ? hits === i.count : hits > 0;
    const want = `${i.count ?? '>= 1'} × ${src ?? ''}${i.lpi !== undefined ? ` LPI ${i.lpi}` : ''}${i.spi !== undefined ? ` SPI INTID ${i.spi}` : ''}`.replace(/ +/g, ' ');
    const shown = hits && ok ? hitList : fresh;
    const text = counted(shown.map(({ item: r, count }) => ({ text: `${r.kind.toUpperCase()} ${r.intid}${r.source ? ` (${r.source})` : ''}`, count })));
    c.check(s, 'interrupt', ok, want.trim(), total ? `${text}${ok && total > hits ? ` (+${total - hits} other)` : ''}` : 'no interrupts');
    return;
  }
  if (b.noInterrupts) {
    const fresh = c.takeInterrupts();
    c.check(s, 'no interrupts', fresh.length === 0, 'no interrupts', fresh.length ? counted(fresh.map(({ item: r, count }) => ({ text: `${r.kind.toUpperCase()} ${r.intid}`, count }))) : 'no interrupts');
    return;
  }
  if (b.data) {
    const x = b.data;
    const buf = c.buffer(s, x.buffer);
    let expected: Uint8Array;
    if (x.equals !== undefined) expected = Uint8Array.from(x.equals.replace(/\s+/g, '').match(/../g) ?? [], (h) => parseInt(h, 16));
    else if (x.sameAs !== undefined) {
      const o = c.buffer(s, x.sameAs, 'sameAs');
      expected = new Uint8Array(Math.min(x.length ?? o.size, o.size));
      c.memory.readBytes(o.pa, expected);
    } else if (x.fill !== undefined) expected = new Uint8Array(x.length ?? buf.size - x.offset).fill(x.fill);
    else c.fail([...s.path, 'expect', 'data'], "expect data needs 'equals', 'sameAs' or 'fill'");
    const n = Math.min(expected.length, Math.max(0, buf.size - x.offset));
    const actual = new Uint8Array(n);
    c.memory.readBytes(buf.pa + x.offset, actual);
    let bad = n < expected.length ? n : -1;
    for (let k = 0; k < n && bad < 0; k++) if (actual[k] !== expected[k]) bad = k;
    const show = (a: Uint8Array, at: number): string => [...a.subarray(at, at + 8)].map((v) => v.toString(16).padStart(2, '0')).join(' ');
    const what = `data ${x.buffer}+${hex(x.offset)} (${hex(expected.length)} bytes)`;
    if (bad < 0) c.check(s, what, true, '', `matches (${show(actual, 0)}${n > 8 ? ' ...' : ''})`);
    else c.check(s, what, false, `at +${hex(bad)}: ${show(expected, bad)}`, `at +${hex(bad)}: ${show(actual, bad)}`);
    return;
  }
  if (b.queue) {
    const d = c.device(b.queue.device);
    const last = d?.queue?.last ?? null;
    c.check(s, `queue ${b.queue.device}`, last === b.queue.status, b.queue.status, last ?? 'no command yet');
  }
}
