import { describe, expect, it } from 'vitest';
import {
  coolingTowerApproachK,
  coolingTowerEffectiveness,
  coolingTowerHealth,
  coolingTowerRangeK,
} from '../../../../agent/alarms/health/index.js';

describe('cooling tower', () => {
  const s = { enteringWaterC: 32, leavingWaterC: 27, wetBulbC: 24 };

  it('approach = leaving − wet bulb, range = entering − leaving, effectiveness = range ÷ (range + approach)', () => {
    expect(coolingTowerApproachK(s)).toBeCloseTo(3, 9);
    expect(coolingTowerRangeK(s)).toBeCloseTo(5, 9);
    expect(coolingTowerEffectiveness(s)).toBeCloseTo(0.625, 9);
    expect(coolingTowerHealth(s)).toEqual({ approachK: 3, rangeK: 5, effectiveness: 0.625 });
  });

  it('a failing fan shows as a larger approach and a lower effectiveness at the same load', () => {
    const degraded = { enteringWaterC: 35, leavingWaterC: 30, wetBulbC: 24 };
    expect(coolingTowerApproachK(degraded)).toBeCloseTo(6, 9);
    expect(coolingTowerEffectiveness(degraded)).toBeCloseTo(5 / 11, 9);
  });

  it('effectiveness is null with no heat load (range below 0.5 K), not NaN from 0 ÷ 0', () => {
    expect(coolingTowerEffectiveness({ enteringWaterC: 24, leavingWaterC: 24, wetBulbC: 24 })).toBeNull();
    expect(coolingTowerEffectiveness({ enteringWaterC: 27.4, leavingWaterC: 27, wetBulbC: 24 })).toBeNull();
    expect(coolingTowerEffectiveness({ enteringWaterC: 24, leavingWaterC: 24, wetBulbC: 24 }, { minRangeK: 0 })).toBeNull();
    expect(coolingTowerApproachK({ leavingWaterC: 24, wetBulbC: 24 })).toBe(0);
  });

  it('every value is null when an input it needs is missing', () => {
    expect(coolingTowerHealth({ enteringWaterC: 32, leavingWaterC: 27, wetBulbC: null })).toEqual({ approachK: null, rangeK: 5, effectiveness: null });
    expect(coolingTowerHealth({ enteringWaterC: Number.NaN, leavingWaterC: 27, wetBulbC: 24 })).toEqual({ approachK: 3, rangeK: null, effectiveness: null });
    expect(coolingTowerHealth({ enteringWaterC: 32, leavingWaterC: undefined, wetBulbC: 24 })).toEqual({ approachK: null, rangeK: null, effectiveness: null });
  });
});
