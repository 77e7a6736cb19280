import { describe, expect, it } from 'vitest';
import {
  chilledWaterDeltaTK,
  chillerCop,
  chillerHealth,
  chillerKwPerTon,
  condenserApproachK,
  evaporatorApproachK,
  KW_PER_TON_OF_REFRIGERATION,
} from '../../../../agent/alarms/health/index.js';

const rating = { nominalCoolingKw: 1760 }; // the profile's 500 TR chiller

describe('chiller kW/ton and COP', () => {
  it('1000 kW of cooling at 170 kW is 0.598 kW/ton and COP 5.88', () => {
    const kwPerTon = chillerKwPerTon({ powerKw: 170, coolingKw: 1000, running: true }, rating);
    const cop = chillerCop({ powerKw: 170, coolingKw: 1000, running: true }, rating);
    expect(kwPerTon).toBeCloseTo(0.5978645, 6);
    expect(cop).toBeCloseTo(5.882353, 5);
    // the two are one number seen from both ends: COP = 3.51685 / (kW/ton)
    expect((kwPerTon as number) * (cop as number)).toBeCloseTo(KW_PER_TON_OF_REFRIGERATION, 9);
  });

  it('is null, not Infinity, below 5 % of nominal cooling (88 kW for 1760 kW) and computed from there', () => {
    expect(chillerKwPerTon({ powerKw: 30, coolingKw: 87.9 }, rating)).toBeNull();
    expect(chillerCop({ powerKw: 30, coolingKw: 87.9 }, rating)).toBeNull();
    expect(chillerKwPerTon({ powerKw: 30, coolingKw: 0 }, rating)).toBeNull();
    expect(chillerKwPerTon({ powerKw: 30, coolingKw: 88 }, rating)).toBeCloseTo(30 / (88 / 3.51685), 9);
    expect(chillerKwPerTon({ powerKw: 30, coolingKw: 200 }, { nominalCoolingKw: 1760, minLoadFraction: 0.2 })).toBeNull();
  });

  it('is null when the input power is implausibly small (below 1 % of nominal cooling) or zero', () => {
    expect(chillerCop({ powerKw: 0, coolingKw: 1000 }, rating)).toBeNull();
    expect(chillerCop({ powerKw: 17.5, coolingKw: 1000 }, rating)).toBeNull();
    expect(chillerCop({ powerKw: 17.6, coolingKw: 1000 }, rating)).toBeCloseTo(1000 / 17.6, 9);
  });

  it('is null when the machine is stopped or its run status is unknown; without a status the thresholds decide', () => {
    expect(chillerKwPerTon({ powerKw: 170, coolingKw: 1000, running: false }, rating)).toBeNull();
    expect(chillerCop({ powerKw: 170, coolingKw: 1000, running: null }, rating)).toBeNull();
    expect(chillerCop({ powerKw: 170, coolingKw: 1000 }, rating)).toBeCloseTo(5.882353, 5);
  });

  it('is null on missing or non-finite inputs, never NaN', () => {
    for (const bad of [null, undefined, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(chillerKwPerTon({ powerKw: bad, coolingKw: 1000 }, rating)).toBeNull();
      expect(chillerCop({ powerKw: 170, coolingKw: bad }, rating)).toBeNull();
    }
  });

  it('throws on a rating without a positive nominal capacity (a configuration error)', () => {
    expect(() => chillerKwPerTon({ powerKw: 170, coolingKw: 1000 }, { nominalCoolingKw: 0 })).toThrow(/nominalCoolingKw/);
  });
});

describe('chiller approaches and chilled-water ΔT', () => {
  it('evaporator approach = supply − evaporator saturation; condenser approach = condenser saturation − leaving; ΔT = return − supply', () => {
    expect(evaporatorApproachK({ chwSupplyC: 7, evapSatC: 5.2 })).toBeCloseTo(1.8, 9);
    expect(condenserApproachK({ condSatC: 32.3, cwLeavingC: 30.6 })).toBeCloseTo(1.7, 9);
    expect(chilledWaterDeltaTK({ chwReturnC: 12.5, chwSupplyC: 7 })).toBeCloseTo(5.5, 9);
  });

  it('keeps a negative approach visible (a sensor fault), but is null when stopped or an input is bad', () => {
    expect(evaporatorApproachK({ chwSupplyC: 5, evapSatC: 6 })).toBeCloseTo(-1, 9);
    expect(condenserApproachK({ condSatC: 32.3, cwLeavingC: 30.6, running: false })).toBeNull();
    expect(condenserApproachK({ condSatC: null, cwLeavingC: 30.6 })).toBeNull();
    expect(chilledWaterDeltaTK({ chwReturnC: Number.NaN, chwSupplyC: 7 })).toBeNull();
  });

  it('chillerHealth gives every value at once, all null for a stopped machine', () => {
    const s = { powerKw: 170, coolingKw: 1000, chwSupplyC: 7, chwReturnC: 10.2, cwLeavingC: 30, evapSatC: 5.5, condSatC: 32 };
    const h = chillerHealth({ ...s, running: true }, rating);
    expect(h.kwPerTon).toBeCloseTo(0.5978645, 6);
    expect(h.cop).toBeCloseTo(5.882353, 5);
    expect(h.evapApproachK).toBeCloseTo(1.5, 9);
    expect(h.condApproachK).toBeCloseTo(2, 9);
    expect(h.chwDeltaTK).toBeCloseTo(3.2, 9);
    expect(chillerHealth({ ...s, running: false }, rating)).toEqual({
      kwPerTon: null,
      cop: null,
      evapApproachK: null,
      condApproachK: null,
      chwDeltaTK: null,
    });
  });
});

describe('agreement with the plant simulator', () => {
  // Register values the simulated chiller publishes (config/profiles/chiller.yaml semantics:
  // temperatures in tenths of a degree, powers float32), copied from two simulator states —
  // 1200 kW load clean, and 1500 kW load with 60 % condenser fouling — together with the
  // kw_per_ton and cond_approach the simulator computes itself.
  const fixture = [
    { cw_leaving_temp: 30.6, cond_sat_temp: 32.3, power_kw: 219.104248046875, cooling_load_kw: 1200, running: true, kw_per_ton: 0.642158031463623, cond_approach: 1.6909091472625732 },
    { cw_leaving_temp: 31.6, cond_sat_temp: 36.8, power_kw: 317.7491149902344, cooling_load_kw: 1500, running: true, kw_per_ton: 0.7450157999992371, cond_approach: 5.263636589050293 },
  ];

  it('kW/ton agrees with the published kw_per_ton, condenser approach with cond_approach within the 0.1 K register resolution', () => {
    for (const row of fixture) {
      const kwPerTon = chillerKwPerTon({ powerKw: row.power_kw, coolingKw: row.cooling_load_kw, running: row.running }, rating);
      // the simulator uses 3.517 kW/TR, this module 3.51685: 4 parts in 100 000
      expect(Math.abs((kwPerTon as number) / row.kw_per_ton - 1)).toBeLessThan(1e-4);
      const approach = condenserApproachK({ condSatC: row.cond_sat_temp, cwLeavingC: row.cw_leaving_temp, running: row.running });
      expect(Math.abs((approach as number) - row.cond_approach)).toBeLessThanOrEqual(0.1);
    }
    // fouling shows in both: kW/ton rises past the profile's 0.7 "poor efficiency" region, approach past 4 K
    expect(chillerKwPerTon({ powerKw: fixture[1].power_kw, coolingKw: fixture[1].cooling_load_kw }, rating)).toBeGreaterThan(0.7);
    expect(condenserApproachK({ condSatC: fixture[1].cond_sat_temp, cwLeavingC: fixture[1].cw_leaving_temp })).toBeGreaterThan(4);
  });
});
