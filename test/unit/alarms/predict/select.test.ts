import { describe, expect, it } from 'vitest';
import { medianInPlace, selectInPlace } from '../../../../agent/alarms/predict/select.js';
import { gaussian, mulberry32 } from '../../../helpers/seeded-noise.js';

function sorted(a: Float64Array): Float64Array {
  return Float64Array.from(a).sort();
}

describe('selectInPlace', () => {
  it('finds every rank of noisy, quantised and constant arrays, and leaves them partitioned', () => {
    const noise = gaussian(1);
    const uniform = mulberry32(2);
    const cases: Float64Array[] = [
      Float64Array.from({ length: 101 }, () => noise()),
      Float64Array.from({ length: 100 }, () => Math.round(uniform() * 4) / 10), // 5 distinct values
      new Float64Array(64).fill(3),
      Float64Array.from({ length: 50 }, (_, i) => i), // ascending
      Float64Array.from({ length: 50 }, (_, i) => 50 - i), // descending
    ];
    for (const original of cases) {
      const reference = sorted(original);
      for (let k = 0; k < original.length; k++) {
        const a = Float64Array.from(original);
        const x = selectInPlace(a, 0, a.length - 1, k);
        expect(x).toBe(reference[k]);
        expect(a[k]).toBe(x);
        for (let i = 0; i < k; i++) expect(a[i]).toBeLessThanOrEqual(x);
        for (let i = k + 1; i < a.length; i++) expect(a[i]).toBeGreaterThanOrEqual(x);
        expect(sorted(a)).toEqual(reference); // a permutation of the input
      }
    }
  });

  it('selects within a sub-range only', () => {
    const a = Float64Array.from([9, 8, 7, 3, 1, 2, 0, -1]);
    expect(selectInPlace(a, 3, 5, 4)).toBe(2);
    expect([a[0], a[1], a[2], a[6], a[7]]).toEqual([9, 8, 7, 0, -1]);
  });
});

describe('medianInPlace', () => {
  it('is the middle value, or the mean of the two middle values', () => {
    expect(medianInPlace(Float64Array.from([5, 1, 3]), 0, 2)).toBe(3);
    expect(medianInPlace(Float64Array.from([4, 1, 3, 2]), 0, 3)).toBe(2.5);
    expect(medianInPlace(Float64Array.from([7]), 0, 0)).toBe(7);
    expect(medianInPlace(Float64Array.from([2, 2, 2, 9]), 0, 3)).toBe(2);
  });
});
