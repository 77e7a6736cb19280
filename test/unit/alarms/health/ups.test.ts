import { describe, expect, it } from 'vitest';
import { batteryHealthTrend, batteryRuntimeMin, upsEfficiencyPct, type HealthPoint } from '../../../../agent/alarms/health/index.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);
const rating = { ratedKw: 1600 };
// The profile's UPS battery as the simulator documents it: 300 kWh at the 1600 kW rating,
// Peukert-like exponent 1.15, inverter 97.5 %.
const battery = { ratedEnergyKwh: 300, referencePowerKw: 1600, peukertExponent: 1.15, inverterEfficiency: 0.975 };

describe('UPS efficiency', () => {
  it('is output ÷ input in percent', () => {
    expect(upsEfficiencyPct({ inputKw: 828.0198974609375, outputKw: 800 }, rating)).toBeCloseTo(96.61604, 4);
    expect(upsEfficiencyPct({ inputKw: 1000, outputKw: 965 }, rating)).toBeCloseTo(96.5, 9);
  });

  it('includes the float charge as a loss, so it reads a little below the UPS’s own efficiency_pct', () => {
    // simulator at 800 kW: efficiency_pct 96.7118 (charger left out), input_power_kw 828.02 (charger included)
    const ours = upsEfficiencyPct({ inputKw: 828.0198974609375, outputKw: 800 }, rating) as number;
    expect(96.71179962158203 - ours).toBeGreaterThan(0.05);
    expect(96.71179962158203 - ours).toBeLessThan(0.2);
  });

  it('is null on battery (input ≈ 0), below 1 % of the rating, or on bad inputs — never Infinity or NaN', () => {
    expect(upsEfficiencyPct({ inputKw: 0, outputKw: 800 }, rating)).toBeNull();
    expect(upsEfficiencyPct({ inputKw: 15.9, outputKw: 10 }, rating)).toBeNull();
    expect(upsEfficiencyPct({ inputKw: 16, outputKw: 10 }, rating)).toBeCloseTo(62.5, 9);
    expect(upsEfficiencyPct({ inputKw: null, outputKw: 800 }, rating)).toBeNull();
    expect(upsEfficiencyPct({ inputKw: 828, outputKw: Number.NaN }, rating)).toBeNull();
    expect(upsEfficiencyPct({ inputKw: 828, outputKw: -5 }, rating)).toBeNull();
    expect(() => upsEfficiencyPct({ inputKw: 828, outputKw: 800 }, { ratedKw: 0 })).toThrow(/ratedKw/);
  });
});

describe('battery runtime at the present load', () => {
  it('documented example: 300 kWh at 1600 kW, k = 1.15, 97.5 % inverter, 800 kW load, full and healthy → 24.25 min', () => {
    // P_dc = 800 / 0.975 = 820.51 kW; 300 / 820.51 h = 21.94 min; × (1600 / 820.51)^0.15 = 1.1054 → 24.249 min
    expect(batteryRuntimeMin({ outputKw: 800, socPct: 100, sohPct: 100 }, battery)).toBeCloseTo(24.2489, 4);
  });

  it('agrees with the simulator’s battery_runtime_min, also for an aged battery (SoH 72.5 % at 1200 kW → 11.03 min)', () => {
    expect(batteryRuntimeMin({ outputKw: 800, socPct: 100, sohPct: 100 }, battery)).toBeCloseTo(24.248915800164426, 9);
    expect(batteryRuntimeMin({ outputKw: 1200, socPct: 100, sohPct: 72.5 }, battery)).toBeCloseTo(11.028726940081363, 9);
  });

  it('k = 1 is plain energy ÷ power; with k > 1 halving the load more than doubles the runtime', () => {
    const linear = { ratedEnergyKwh: 100, referencePowerKw: 500, peukertExponent: 1, inverterEfficiency: 1 };
    expect(batteryRuntimeMin({ outputKw: 250, socPct: 100 }, linear)).toBeCloseTo(24, 12);
    expect(batteryRuntimeMin({ outputKw: 250, socPct: 50, sohPct: 80 }, linear)).toBeCloseTo(9.6, 12);
    const full = batteryRuntimeMin({ outputKw: 800, socPct: 100 }, battery) as number;
    const half = batteryRuntimeMin({ outputKw: 400, socPct: 100 }, battery) as number;
    expect(half / full).toBeCloseTo(2 * 2 ** 0.15, 9);
  });

  it('assumes 100 % health when the UPS reports none, and is null on bad inputs or no load', () => {
    expect(batteryRuntimeMin({ outputKw: 800, socPct: 100 }, battery)).toBeCloseTo(24.2489, 4);
    expect(batteryRuntimeMin({ outputKw: 800, socPct: 100, sohPct: null }, battery)).toBeNull();
    expect(batteryRuntimeMin({ outputKw: 800, socPct: 120 }, battery)).toBeNull();
    expect(batteryRuntimeMin({ outputKw: 800, socPct: Number.NaN }, battery)).toBeNull();
    expect(batteryRuntimeMin({ outputKw: null, socPct: 100 }, battery)).toBeNull();
    expect(batteryRuntimeMin({ outputKw: 0, socPct: 100 }, battery)).toBeNull();
    expect(batteryRuntimeMin({ outputKw: 15, socPct: 100 }, battery)).toBeNull(); // below 1 % of 1600 kW
    expect(() => batteryRuntimeMin({ outputKw: 800, socPct: 100 }, { ...battery, peukertExponent: 0.9 })).toThrow(/peukertExponent/);
  });
});

describe('battery health trend', () => {
  /** SoH declining linearly by `per30Days` % from `startPct`, one point a day, with an optional ± wobble. */
  function decline(days: number, startPct: number, per30Days: number, wobble = 0): HealthPoint[] {
    return Array.from({ length: days + 1 }, (_, d) => ({ tMs: T0 + d * DAY, sohPct: startPct - (per30Days * d) / 30 + (d % 2 === 0 ? wobble : -wobble) }));
  }

  it('a synthetic linear decline of 1 % per 30 days from 96 %: slope −1 %/30 d, replacement at 80 % projected 390 days after the last point', () => {
    const trend = batteryHealthTrend(decline(90, 96, 1));
    expect(trend).not.toBeNull();
    expect(trend!.slopePctPer30Days).toBeCloseTo(-1, 9);
    expect(trend!.fittedLatestPct).toBeCloseTo(93, 9);
    expect(trend!.projectedReplacementMs! - (T0 + 90 * DAY)).toBeCloseTo(390 * DAY, -3); // within a second
    expect(new Date(trend!.projectedReplacementMs!).toISOString().slice(0, 10)).toBe('2027-04-26');
    expect(trend!.residualStdPct).toBeCloseTo(0, 9);
    expect(trend!.points).toBe(91);
    expect(trend!.spanMs).toBe(90 * DAY);
  });

  it('sees through noise and through the order of the points; a custom threshold moves the date', () => {
    const noisy = decline(120, 90, 2, 0.3).reverse();
    const trend = batteryHealthTrend(noisy)!;
    expect(trend.slopePctPer30Days).toBeCloseTo(-2, 1);
    expect(trend.residualStdPct).toBeGreaterThan(0.25);
    const at85 = batteryHealthTrend(noisy, { replaceAtPct: 85 })!;
    // fitted latest ≈ 82 %, already below 85 %: the crossing lies in the past
    expect(at85.projectedReplacementMs!).toBeLessThan(T0 + 120 * DAY);
  });

  it('no projected date while health is flat or rising', () => {
    expect(batteryHealthTrend(decline(30, 95, 0))!.projectedReplacementMs).toBeNull();
    expect(batteryHealthTrend(decline(30, 90, -1))!.projectedReplacementMs).toBeNull();
  });

  it('null when the window is too short: too few points or too short a span; bad points are skipped', () => {
    expect(batteryHealthTrend([])).toBeNull();
    expect(batteryHealthTrend(decline(30, 96, 1).filter((_, i) => i === 0 || i === 30))).toBeNull(); // 2 points
    expect(batteryHealthTrend(decline(5, 96, 1))).toBeNull(); // 6 points over 5 days < 7 days
    expect(batteryHealthTrend(decline(5, 96, 1), { minSpanMs: 2 * DAY })).not.toBeNull();
    const withBad: HealthPoint[] = [
      { tMs: T0, sohPct: 96 },
      { tMs: T0 + 10 * DAY, sohPct: null },
      { tMs: T0 + 20 * DAY, sohPct: Number.NaN },
      { tMs: T0 + 30 * DAY, sohPct: 150 },
      { tMs: Number.NaN, sohPct: 90 },
      { tMs: T0 + 40 * DAY, sohPct: 95 },
    ];
    expect(batteryHealthTrend(withBad)).toBeNull(); // two usable points
    const trend = batteryHealthTrend([...withBad, { tMs: T0 + 60 * DAY, sohPct: 94 }])!;
    expect(trend.points).toBe(3);
    expect(Number.isFinite(trend.slopePctPer30Days)).toBe(true);
  });
});
