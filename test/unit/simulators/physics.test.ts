/**
 * The plant's physics: plausible ranges over simulated days, determinism, and every fault moving
 * its signals the right way (against an identical twin plant without the fault).
 */
import { describe, expect, it } from 'vitest';
import { Plant, type DeviceKind } from '../../../simulators/plant/plant.js';
import { saturationPressureKpa } from '../../../simulators/plant/r134a.js';

const START = Date.UTC(2026, 6, 14, 0, 0, 0); // midnight UTC (site time)
const num = (plant: Plant, kind: DeviceKind, name: string): number => {
  const v = plant.values(kind)[name];
  if (typeof v !== 'number') throw new Error(`${kind}.${name} is not a number: ${String(v)}`);
  return v;
};

function sampleDay(seed: number, everyS: number, fn: (plant: Plant, hour: number) => void): void {
  const plant = new Plant({ seed, startTimeMs: START });
  for (let t = 0; t < 24 * 3600; t += everyS) {
    fn(plant, t / 3600);
    plant.step(everyS);
  }
}

describe('plant physics over a simulated day', () => {
  for (const seed of [1, 42, 2026]) {
    it(`seed ${seed}: every device stays in its normal operating envelope`, () => {
      sampleDay(seed, 300, (plant) => {
        const at = `t=${((plant.timeMs - START) / 3600000).toFixed(2)} h`;
        const s = plant.snapshot();
        expect(s.it.totalKw, at).toBeGreaterThan(650); // night-time checkpoint dips reach ~700 kW
        expect(s.it.totalKw, at).toBeLessThan(1500);

        const ch = plant.values('chiller');
        expect(ch.running).toBe(true);
        expect(num(plant, 'chiller', 'kw_per_ton'), at).toBeGreaterThanOrEqual(0.5);
        expect(num(plant, 'chiller', 'kw_per_ton'), at).toBeLessThanOrEqual(0.7);
        expect(num(plant, 'chiller', 'chw_supply_temp'), at).toBeGreaterThanOrEqual(6.5);
        expect(num(plant, 'chiller', 'chw_supply_temp'), at).toBeLessThanOrEqual(7.5);
        const chwDelta = num(plant, 'chiller', 'chw_return_temp') - num(plant, 'chiller', 'chw_supply_temp');
        expect(chwDelta * 76 * 4.186, `${at}: return = supply + load/(flow·cp)`).toBeCloseTo(s.it.totalKw + s.ups.lossesKw + 45, 0);
        expect(num(plant, 'chiller', 'cw_leaving_temp')).toBeGreaterThan(num(plant, 'chiller', 'cw_entering_temp'));
        expect(num(plant, 'chiller', 'evap_pressure')).toBeCloseTo(saturationPressureKpa(num(plant, 'chiller', 'evap_sat_temp')), 6);
        expect(num(plant, 'chiller', 'cond_pressure')).toBeGreaterThan(num(plant, 'chiller', 'evap_pressure') * 1.6);
        expect(num(plant, 'chiller', 'capacity_pct')).toBeGreaterThan(35);
        expect(num(plant, 'chiller', 'capacity_pct')).toBeLessThan(95);
        expect(ch.alarm_word, at).toBe(0);

        const approach = num(plant, 'cooling-tower', 'approach_temp');
        expect(approach, at).toBeGreaterThanOrEqual(2);
        expect(approach, at).toBeLessThanOrEqual(6);
        expect(num(plant, 'cooling-tower', 'ambient_wet_bulb')).toBeGreaterThan(17.5);
        expect(num(plant, 'cooling-tower', 'ambient_wet_bulb')).toBeLessThan(24.5);
        expect(num(plant, 'cooling-tower', 'range_temp')).toBeGreaterThan(1.5);
        expect(num(plant, 'cooling-tower', 'fan_speed_pct')).toBeGreaterThanOrEqual(29);
        expect(plant.values('cooling-tower').fan_running).toBe(true);

        const eff = num(plant, 'ups', 'efficiency_pct');
        expect(eff, at).toBeGreaterThanOrEqual(94);
        expect(eff, at).toBeLessThanOrEqual(97.5);
        expect(num(plant, 'ups', 'battery_soc_pct')).toBe(100);
        expect(plant.values('ups').on_battery).toBe(false);
        expect(num(plant, 'ups', 'input_power_kw')).toBeGreaterThan(num(plant, 'ups', 'output_power_kw'));
        expect(num(plant, 'ups', 'battery_runtime_min')).toBeGreaterThan(10);
        expect(num(plant, 'ups', 'battery_runtime_min')).toBeLessThan(40);

        const load = num(plant, 'transformer', 'load_pct');
        expect(load, at).toBeGreaterThan(35);
        expect(load, at).toBeLessThan(90);
        expect(num(plant, 'transformer', 'oil_temp')).toBeGreaterThan(num(plant, 'transformer', 'ambient_temp'));
        expect(num(plant, 'transformer', 'winding_temp')).toBeGreaterThan(num(plant, 'transformer', 'oil_temp'));
        expect(num(plant, 'transformer', 'oil_temp')).toBeLessThan(75);
        const iSum = ['current_l1', 'current_l2', 'current_l3'].reduce((a, n) => a + num(plant, 'transformer', n), 0);
        const vAvg = ['voltage_l1_l2', 'voltage_l2_l3', 'voltage_l3_l1'].reduce((a, n) => a + num(plant, 'transformer', n), 0) / 3;
        expect(vAvg).toBeGreaterThan(380);
        expect(vAvg).toBeLessThan(415);
        const kva = (Math.sqrt(3) * vAvg * (iSum / 3)) / 1000;
        expect(Math.abs(kva / num(plant, 'transformer', 'apparent_power_kva') - 1), `${at}: S = √3·U·I`).toBeLessThan(0.005);
        // the transformer carries the IT load, UPS losses and the cooling plant
        expect(num(plant, 'transformer', 'active_power_kw')).toBeGreaterThan(
          num(plant, 'ups', 'input_power_kw') + num(plant, 'chiller', 'power_kw'),
        );
      });
    });
  }

  it('the day has a shape: cooler nights, busier afternoons, bursts and spikes', () => {
    const wb: number[] = [];
    const load: number[] = [];
    sampleDay(7, 60, (plant, hour) => {
      wb[Math.floor(hour)] = num(plant, 'cooling-tower', 'ambient_wet_bulb');
      load.push(plant.snapshot().it.totalKw);
    });
    expect(wb[3]).toBeLessThan(wb[15] - 3);
    const night = load.slice(2 * 60, 5 * 60);
    const afternoon = load.slice(13 * 60, 16 * 60);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(afternoon)).toBeGreaterThan(mean(night) + 150);
    expect(Math.max(...load) - Math.min(...load)).toBeGreaterThan(400);
  });

  it('latency-critical inference spikes are short: tens of seconds, not minutes', () => {
    const plant = new Plant({ seed: 3, startTimeMs: START + 14 * 3600_000 });
    let steepest = 0;
    let prev = plant.snapshot().it.inferenceKw;
    for (let s = 0; s < 3600; s++) {
      plant.step(1);
      const now = plant.snapshot().it.inferenceKw;
      steepest = Math.max(steepest, Math.abs(now - prev));
      prev = now;
    }
    expect(steepest).toBeGreaterThan(15); // kW within one second
  });

  it('is deterministic for a seed and a time, whatever the step sizes', () => {
    const a = new Plant({ seed: 9, startTimeMs: START });
    const b = new Plant({ seed: 9, startTimeMs: START });
    const c = new Plant({ seed: 10, startTimeMs: START });
    a.step(5400);
    for (let i = 0; i < 90; i++) b.step(60);
    c.step(5400);
    for (const kind of ['chiller', 'cooling-tower', 'transformer', 'ups'] as const) {
      expect(a.values(kind)).toEqual(b.values(kind));
    }
    expect(c.values('transformer').current_l1).not.toEqual(a.values('transformer').current_l1);
  });

  it('refuses a negative or non-finite step', () => {
    const plant = new Plant({ seed: 1, startTimeMs: START });
    expect(() => plant.step(-1)).toThrow(/dtSeconds/);
    expect(() => plant.step(Number.NaN)).toThrow(/dtSeconds/);
  });
});

/** Runs a faulted plant and its fault-free twin side by side, sampling every `everyS`. */
function twins(kind: DeviceKind, fault: string, severity: number, rampSeconds?: number) {
  const faulted = new Plant({ seed: 5, startTimeMs: START + 12 * 3600_000 });
  const healthy = new Plant({ seed: 5, startTimeMs: START + 12 * 3600_000 });
  faulted.injectFault(kind, fault, severity, rampSeconds);
  return {
    faulted,
    healthy,
    step(dtS: number) {
      faulted.step(dtS);
      healthy.step(dtS);
    },
    diff(name: string, of: DeviceKind = kind) {
      return num(faulted, of, name) - num(healthy, of, name);
    },
  };
}

describe('faults develop over time and move their signals the right way', () => {
  it('chiller condenser-fouling: condenser approach, pressure and kW/ton creep up', () => {
    const t = twins('chiller', 'condenser-fouling', 1);
    const kwPerTonGap: number[] = [];
    for (let i = 0; i < 6; i++) {
      t.step(600);
      kwPerTonGap.push(t.diff('kw_per_ton'));
    }
    for (let i = 1; i < kwPerTonGap.length; i++) expect(kwPerTonGap[i]).toBeGreaterThan(kwPerTonGap[i - 1]);
    expect(t.diff('cond_approach')).toBeGreaterThan(4.5);
    expect(t.diff('cond_pressure')).toBeGreaterThan(100);
    expect(t.diff('kw_per_ton')).toBeGreaterThan(0.08);
    expect(t.diff('power_kw')).toBeGreaterThan(0);
    expect(num(t.faulted, 'chiller', 'alarm_word') & 0b10001).toBe(0b10001); // general + high approach
    expect(t.faulted.values('chiller').general_alarm).toBe(true);
    t.faulted.clearFault('chiller', 'condenser-fouling');
    t.step(1);
    expect(Math.abs(t.diff('kw_per_ton'))).toBeLessThan(0.01);
  });

  it('cooling-tower fan-failure: fan slows to a stop with rising vibration, leaving water rises', () => {
    const t = twins('cooling-tower', 'fan-failure', 1);
    t.step(60); // half developed
    expect(t.diff('fan_vibration')).toBeGreaterThan(3);
    expect(t.diff('fan_speed_pct')).toBeLessThan(0);
    t.step(600);
    expect(num(t.faulted, 'cooling-tower', 'fan_speed_pct')).toBeLessThan(1);
    expect(num(t.faulted, 'cooling-tower', 'fan_power_kw')).toBeLessThan(0.5);
    expect(t.faulted.values('cooling-tower').fan_running).toBe(false);
    expect(t.faulted.values('cooling-tower').fan_fault).toBe(true);
    expect(t.diff('leaving_water_temp')).toBeGreaterThan(2);
    expect(t.diff('approach_temp')).toBeGreaterThan(2);
    t.step(1200); // the basin follows, and the chiller sees warmer condenser water
    expect(t.diff('basin_temp')).toBeGreaterThan(2);
    expect(t.diff('cw_entering_temp', 'chiller')).toBeGreaterThan(2);
    expect(t.diff('kw_per_ton', 'chiller')).toBeGreaterThan(0);
  });

  it('ups battery-ageing: health and runtime drop, battery temperature and float current rise', () => {
    const t = twins('ups', 'battery-ageing', 0.8);
    t.step(1800);
    const midRuntimeGap = t.diff('battery_runtime_min');
    t.step(3 * 3600);
    expect(t.diff('battery_runtime_min')).toBeLessThan(midRuntimeGap);
    expect(t.diff('battery_health_pct')).toBeLessThan(-40);
    expect(num(t.faulted, 'ups', 'battery_runtime_min') / num(t.healthy, 'ups', 'battery_runtime_min')).toBeLessThan(0.6);
    expect(t.diff('battery_temp')).toBeGreaterThan(4);
    expect(t.diff('battery_current')).toBeGreaterThan(5);
    expect(t.faulted.values('ups').battery_replace).toBe(true);
    expect(num(t.faulted, 'ups', 'battery_soc_pct')).toBe(100); // still on mains, still floating
  });

  it('transformer overload: load jumps, oil and winding temperatures climb with their time constants', () => {
    const t = twins('transformer', 'overload', 1);
    t.step(600);
    expect(t.diff('load_pct')).toBeGreaterThan(35);
    const oilAt10 = t.diff('oil_temp');
    const windingAt10 = t.diff('winding_temp');
    t.step(3000);
    const oilAt60 = t.diff('oil_temp');
    expect(oilAt10).toBeGreaterThan(0);
    expect(oilAt60).toBeGreaterThan(oilAt10 * 2); // tens of minutes to follow the load
    expect(t.diff('winding_temp')).toBeGreaterThan(oilAt60); // hot-spot gradient adds to the oil rise
    expect(windingAt10).toBeGreaterThan(oilAt10); // the winding reacts faster
    t.step(4 * 3600);
    expect(num(t.faulted, 'transformer', 'oil_temp')).toBeGreaterThan(80);
    expect(num(t.faulted, 'transformer', 'winding_temp')).toBeGreaterThan(100);
    expect(t.faulted.values('transformer').cooling_fans_on).toBe(true);
  });

  it('severity scales the effect and unknown faults are refused with the known ones listed', () => {
    const mild = twins('chiller', 'condenser-fouling', 0.3, 0);
    const severe = twins('chiller', 'condenser-fouling', 0.9, 0);
    mild.step(1);
    severe.step(1);
    expect(severe.diff('kw_per_ton')).toBeGreaterThan(mild.diff('kw_per_ton'));
    const plant = new Plant({ seed: 1, startTimeMs: START });
    expect(() => plant.injectFault('chiller', 'fan-failure', 1)).toThrow(/condenser-fouling/);
    expect(() => plant.injectFault('ups', 'battery-ageing', 1.5)).toThrow(/0\.\.1/);
  });
});
