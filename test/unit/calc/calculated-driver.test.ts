/**
 * A calculated device's driver: outputs computed from the latest readings of their inputs, with
 * quality carried from the inputs (bad and why, stale, uncertain), "not applicable" when the
 * formula has no meaning now, and counters that keep their total and survive a restart.
 */
import { describe, expect, it } from 'vitest';
import { CalculatedDeviceDriver } from '../../../agent/calc/driver.js';
import { LatestValues } from '../../../agent/calc/latest-values.js';
import type { DeviceSpec } from '../../../agent/core/device.js';
import type { RawSample, Reading } from '../../../agent/core/reading.js';
import { loadConfigText } from '../../../config/load.js';
import { FakeClock } from '../../fakes/fake-clock.js';

const BASE = `
gateway: { id: t }
mqtt: { url: "mqtt://127.0.0.1:1" }
defaults: { pollIntervalMs: 1000 }
devices:
  - { id: chiller-1, profile: chiller, host: 127.0.0.1 }
  - { id: ups-1, profile: ups, host: 127.0.0.1 }
`;

function setup(calculated: string) {
  const config = loadConfigText(`${BASE}calculated:\n${calculated}`, '/tmp/allbit-calc-test.yaml');
  const clock = new FakeClock();
  const latest = new LatestValues();
  const calc = config.devices.filter((d) => d.connection.protocol === 'calc');
  for (const d of calc) if (d.connection.protocol === 'calc') latest.watch(Object.values(d.connection.calculation.inputs).flat());
  const feed = (device: string, values: Record<string, number | boolean | null>, quality: Reading['quality'] = 'good', reason?: Reading['reason']) => {
    const readings: Reading[] = Object.entries(values).map(([tag, value]) => ({ device, tag, value, unit: '', quality: value === null ? 'bad' : quality, timestampMs: clock.now(), ...(reason ? { reason } : {}) }));
    latest.observe(device, readings, clock.now());
  };
  return { config, clock, latest, calc, feed };
}

async function readAll(driver: CalculatedDeviceDriver, device: DeviceSpec): Promise<Record<string, RawSample>> {
  const samples = await driver.read(driver.plan(device.tags));
  return Object.fromEntries(samples.map((s) => [device.tags[s.tagIndex].name, s]));
}

const CHILLER_RUNNING = { power_kw: 300, cooling_load_kw: 1758.425, chw_supply_temp: 7, chw_return_temp: 12.5, cw_leaving_temp: 35, evap_sat_temp: 5.2, cond_sat_temp: 36.8, running: true };

describe('calculated device driver', () => {
  it('computes chiller kW/ton, COP, approaches and ΔT from the latest good readings', async () => {
    const { clock, calc, latest, feed } = setup('  - { id: ch-health, model: chiller, source: chiller-1, parameters: { nominalCoolingKw: 1760 } }\n');
    const driver = new CalculatedDeviceDriver(calc[0], latest, clock);
    feed('chiller-1', CHILLER_RUNNING);
    const out = await readAll(driver, calc[0]);
    expect(out.kw_per_ton).toMatchObject({ quality: 'good', value: 0.6 }); // 300 kW / 500 TR
    expect(out.cop).toMatchObject({ quality: 'good', value: 5.86141666667 });
    expect(out.evap_approach).toMatchObject({ quality: 'good', value: 1.8 }); // binary noise tidied: 7 − 5.2
    expect(out.cond_approach).toMatchObject({ quality: 'good', value: 1.8 });
    expect(out.chw_delta_t).toMatchObject({ quality: 'good', value: 5.5 });
    expect(out.energy_kwh).toMatchObject({ quality: 'good', value: 0 });
  });

  it('an idle chiller has no efficiency: bad / not-applicable, never a number that looks normal', async () => {
    const { clock, calc, latest, feed } = setup('  - { id: ch-health, model: chiller, source: chiller-1, parameters: { nominalCoolingKw: 1760 } }\n');
    const driver = new CalculatedDeviceDriver(calc[0], latest, clock);
    feed('chiller-1', { ...CHILLER_RUNNING, running: false, power_kw: 4, cooling_load_kw: 0 });
    const out = await readAll(driver, calc[0]);
    for (const tag of ['kw_per_ton', 'cop', 'evap_approach', 'cond_approach', 'chw_delta_t']) {
      expect(out[tag], tag).toMatchObject({ quality: 'bad', reason: 'not-applicable' });
      expect(out[tag].value, tag).toBeUndefined();
    }
  });

  it('carries the input\'s trouble: bad with its reason, stale when old, not-connected before the first reading, uncertain when uncertain', async () => {
    const { clock, calc, latest, feed } = setup('  - { id: ch-health, model: chiller, source: chiller-1, parameters: { nominalCoolingKw: 1760 }, maxInputAgeMs: 5000 }\n');
    const driver = new CalculatedDeviceDriver(calc[0], latest, clock);
    let out = await readAll(driver, calc[0]);
    expect(out.cop).toMatchObject({ quality: 'bad', reason: 'not-connected', detail: 'no reading of chiller-1.power_kw yet' });

    feed('chiller-1', CHILLER_RUNNING);
    feed('chiller-1', { power_kw: null }, 'bad', 'comm-lost');
    out = await readAll(driver, calc[0]);
    expect(out.cop).toMatchObject({ quality: 'bad', reason: 'comm-lost', detail: 'chiller-1.power_kw: comm-lost' });
    expect(out.evap_approach.quality, 'an output that does not need power_kw is unaffected').toBe('good');

    feed('chiller-1', CHILLER_RUNNING);
    clock.advance(6000);
    const { power_kw: _notThisOne, ...allButPower } = CHILLER_RUNNING;
    feed('chiller-1', allButPower); // every tag but power_kw fresh
    out = await readAll(driver, calc[0]);
    expect(out.cop).toMatchObject({ quality: 'bad', reason: 'stale', detail: 'chiller-1.power_kw last received 6 s ago' });

    feed('chiller-1', { power_kw: 300 }, 'uncertain', 'out-of-range');
    out = await readAll(driver, calc[0]);
    expect(out.cop).toMatchObject({ quality: 'uncertain', value: 5.86141666667, detail: 'chiller-1.power_kw is uncertain (out-of-range)' });
  });

  it('an energy counter integrates the held input at its own interval, keeps its total while the input is lost (uncertain: not counting), and continues from saved state', async () => {
    const { clock, calc, latest, feed } = setup('  - { id: ch-health, model: chiller, source: chiller-1, parameters: { nominalCoolingKw: 1760 } }\n');
    const driver = new CalculatedDeviceDriver(calc[0], latest, clock);
    feed('chiller-1', CHILLER_RUNNING);
    await readAll(driver, calc[0]);
    for (let s = 0; s < 36; s++) {
      clock.advance(1000);
      feed('chiller-1', CHILLER_RUNNING);
      await readAll(driver, calc[0]);
    }
    // 300 kW for 36 s = 3 kWh
    let out = await readAll(driver, calc[0]);
    expect(out.energy_kwh).toMatchObject({ quality: 'good', value: 3 });

    clock.advance(60_000);
    feed('chiller-1', { power_kw: null }, 'bad', 'comm-lost');
    out = await readAll(driver, calc[0]);
    expect(out.energy_kwh).toMatchObject({ quality: 'uncertain', value: 3, detail: 'not counting: chiller-1.power_kw: comm-lost' });

    // A restart: a new driver from the saved state keeps the total (JSON round trip, as the store does).
    const restarted = new CalculatedDeviceDriver(calc[0], latest, clock, JSON.parse(JSON.stringify(driver.savedState())));
    clock.advance(1000);
    feed('chiller-1', CHILLER_RUNNING); // counting starts again here: nothing is guessed across the loss
    out = await readAll(restarted, calc[0]);
    expect(out.energy_kwh.value).toBe(3);
    clock.advance(12_000);
    feed('chiller-1', CHILLER_RUNNING);
    out = await readAll(restarted, calc[0]);
    expect(out.energy_kwh.value).toBe(4);
  });

  it('a counter does not count an uncertain input (an out-of-range glitch would stay in a reset-free total forever)', async () => {
    const { clock, calc, latest, feed } = setup('  - { id: ch-health, model: chiller, source: chiller-1, parameters: { nominalCoolingKw: 1760 } }\n');
    const driver = new CalculatedDeviceDriver(calc[0], latest, clock);
    feed('chiller-1', CHILLER_RUNNING);
    await readAll(driver, calc[0]);
    clock.advance(12_000);
    feed('chiller-1', CHILLER_RUNNING);
    let out = await readAll(driver, calc[0]);
    expect(out.energy_kwh).toMatchObject({ quality: 'good', value: 1 }); // 300 kW for 12 s
    for (let s = 0; s < 12; s++) {
      clock.advance(1000);
      feed('chiller-1', { ...CHILLER_RUNNING, power_kw: 3000 }, 'uncertain', 'out-of-range');
      out = await readAll(driver, calc[0]);
    }
    expect(out.energy_kwh).toMatchObject({ quality: 'uncertain', value: 1, detail: 'not counting: chiller-1.power_kw is uncertain (out-of-range)' });
    expect(out.kw_per_ton.quality, 'an instantaneous output uses it, marked uncertain').toBe('uncertain');
  });

  it('facility KPIs: sums of the named meters, PUE, and null sums when a meter is missing (a partial sum would flatter PUE)', async () => {
    const { clock, calc, latest, feed } = setup(
      '  - { id: site, model: facility, inputs: { itMeters: [ups-1.output_power_kw], facilityMeters: [ups-1.input_power_kw, chiller-1.power_kw], coolingMeters: [chiller-1.power_kw] } }\n',
    );
    const driver = new CalculatedDeviceDriver(calc[0], latest, clock);
    feed('ups-1', { output_power_kw: 1000, input_power_kw: 1030 });
    feed('chiller-1', { power_kw: 270 });
    let out = await readAll(driver, calc[0]);
    expect(out.it_load_kw).toMatchObject({ quality: 'good', value: 1000 });
    expect(out.facility_power_kw).toMatchObject({ quality: 'good', value: 1300 });
    expect(out.pue).toMatchObject({ quality: 'good', value: 1.3 });
    expect(out.cooling_kw_per_it_kw).toMatchObject({ quality: 'good', value: 0.27 });

    feed('chiller-1', { power_kw: null }, 'bad', 'timeout');
    out = await readAll(driver, calc[0]);
    expect(out.facility_power_kw).toMatchObject({ quality: 'bad', reason: 'timeout', detail: 'chiller-1.power_kw: timeout' });
    expect(out.pue).toMatchObject({ quality: 'bad', reason: 'timeout' });
    expect(out.it_load_kw.quality).toBe('good');
  });

  it('UPS: efficiency and runtime at the present load; the battery trend waits for a week of hourly points', async () => {
    const { clock, calc, latest, feed } = setup('  - { id: ups-health, model: ups, source: ups-1, parameters: { ratedKw: 1600, batteryEnergyKwh: 400 } }\n');
    const driver = new CalculatedDeviceDriver(calc[0], latest, clock);
    const ups = { input_power_kw: 1030, output_power_kw: 1000, battery_soc_pct: 100, battery_health_pct: 98 };
    feed('ups-1', ups);
    let out = await readAll(driver, calc[0]);
    expect(out.efficiency_pct).toMatchObject({ quality: 'good', value: 97.0873786408 });
    expect(out.runtime_min.quality).toBe('good');
    expect(out.runtime_min.value as number).toBeGreaterThan(15);
    expect(out.runtime_min.value as number).toBeLessThan(30);
    expect(out.battery_health_trend).toMatchObject({ quality: 'bad', reason: 'not-applicable' });

    // Ten days of hourly points, health falling 0.1 % per day → -3 %/30 d; 80 % is (97 − 80) / 0.1 = 170 days away.
    for (let h = 1; h <= 240; h++) {
      clock.advance(3_600_000);
      feed('ups-1', { ...ups, battery_health_pct: 98 - (0.1 * h) / 24 });
      out = await readAll(driver, calc[0]);
    }
    expect(out.battery_health_trend.quality).toBe('good');
    expect(out.battery_health_trend.value as number).toBeCloseTo(-3, 6);
    expect(out.battery_replace_days.value as number).toBeCloseTo(170, 3);
  });
});
