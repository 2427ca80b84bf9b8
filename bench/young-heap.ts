// Bytes in use in V8's young generation (new space), where every JavaScript object an operation
// allocates (a boxed double, an array, a closure) is placed. Its growth over a loop during which no
// collection ran is what the loop allocated. The used heap as a whole is no such measure: it also
// grows with the runtime's and the optimising compiler's own old-space objects (code, feedback),
// which made loops that allocate nothing read 1 to 13 bytes per operation, varying from one process
// to the next. Reading the statistics allocates a few KiB itself: measure that with an empty loop.
import { getHeapSpaceStatistics } from 'node:v8';

export function youngBytes(): number {
  for (const s of getHeapSpaceStatistics()) if (s.space_name === 'new_space') return s.space_used_size;
  throw new Error('V8 reports no new_space');
}
