// Bisection over the sorted start points of consecutive intervals that cover a range from its
// first start: the interval holding a value. Used by the firmware ID-map resolvers.

/** The index of the last start that is <= `x` (0 when `x` is below every start). */
export function intervalIndex(starts: readonly number[], x: number): number {
  let a = 0;
  let b = starts.length - 1;
  while (a < b) {
    const mid = (a + b + 1) >> 1;
    if (starts[mid]! <= x) a = mid;
    else b = mid - 1;
  }
  return a;
}
