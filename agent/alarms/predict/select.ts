/**
 * Order statistics in place (quickselect, median-of-three pivot): expected O(n), no allocation.
 *
 * Contract: after `selectInPlace(a, lo, hi, k)` returns x, a[k] === x, every element of a[lo..k-1] is
 * ≤ x and every element of a[k+1..hi] is ≥ x. So a second order statistic on one side can be
 * selected within that side only.
 *
 * The partition is branch-free (Lomuto: always swap, advance the boundary by the comparison's 0/1):
 * on noisy data every comparison is a coin toss, and a mispredicted branch per element costs more
 * than the swap. Values equal to the pivot are split off in a second branch-free pass only when the
 * wanted rank lies at or above the pivot, so quantised data with many equal values stays linear.
 */
export function selectInPlace(a: Float64Array, lo: number, hi: number, k: number): number {
  while (hi > lo) {
    const x = a[lo];
    const y = a[(lo + hi) >>> 1];
    const z = a[hi];
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let store = lo;
    for (let i = lo; i <= hi; i++) {
      const e = a[i];
      a[i] = a[store];
      a[store] = e;
      store += +(e < pivot);
    }
    if (k < store) {
      hi = store - 1;
      continue;
    }
    let equal = store;
    for (let i = store; i <= hi; i++) {
      const e = a[i];
      a[i] = a[equal];
      a[equal] = e;
      equal += +(e === pivot);
    }
    if (k < equal) return pivot;
    lo = equal;
  }
  return a[k];
}

/** The median of a[lo..hi] (mean of the two middle values for an even count); reorders that range. */
export function medianInPlace(a: Float64Array, lo: number, hi: number): number {
  const count = hi - lo + 1;
  const k = lo + (count >> 1);
  const upper = selectInPlace(a, lo, hi, k);
  if (count & 1) return upper;
  let lower = a[lo];
  for (let i = lo + 1; i < k; i++) if (a[i] > lower) lower = a[i];
  return (lower + upper) / 2;
}


