/**
 * `allbit alarms backtest` over a year of hourly history for 20 signals: the configured rules run
 * with the recorded time as the clock; events with their times and a summary per alarm.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../../agent/cli.js';
import { gaussian } from '../helpers/seeded-noise.js';

const dir = mkdtempSync(join(tmpdir(), 'allbit-backtest-'));
const H = 3600_000;
const START = Date.UTC(2025, 0, 1);

const config = join(dir, 'gateway.yaml');
writeFileSync(
  config,
  `gateway: { id: edge-01 }
mqtt: { url: "mqtt://127.0.0.1:1883" }
devices:
  - id: chiller-1
    profile: chiller
    host: 127.0.0.1
    alarms:
      - { type: high, tag: chw_supply_temp, limit: 18, deadband: 0.5, priority: high, onDelayMs: 7200000 }
      - { type: rate, tag: cw_entering_temp, maxRisePerMin: 0.05, windowMs: 10800000 }
      - { type: comm-loss, priority: critical }
  - id: ups-1
    profile: ups
    host: 127.0.0.1
    port: 15023
    alarms:
      - { type: low, tag: battery_soc_pct, limit: 50, deadband: 5, priority: critical }
      - { type: status, tag: on_battery, priority: high }
`,
);

/** A year of hourly rows, 20 signals; excursions at known hours. */
function history(): string {
  const columns = ['time', 'chw_supply', 'cw_in', 'soc', 'on_batt', ...Array.from({ length: 16 }, (_, i) => `noise_${i}`)];
  const lines = [columns.join(',')];
  for (let h = 0; h < 8760; h++) {
    // chw supply: 7 °C, except two excursions to 19 °C: one of 1 h (shorter than the 2-hour on-delay: no alarm) and one of 5 h.
    const chw = (h >= 1000 && h < 1001) || (h >= 5000 && h < 5005) ? 19 : 7 + 0.1 * Math.sin(h);
    // condenser water rises by 1 K per hour for 4 hours at h 3000 (0.0167 K/min over a 3 h window < 0.05: no alarm) and 5 K/h at h 6000 (alarm).
    const cw = 29 + (h >= 3000 && h < 3004 ? h - 3000 : 0) + (h >= 6000 && h < 6004 ? 5 * (h - 6000) : 0);
    // A mains failure at h 7000 for 3 hours: on battery, state of charge down to 40 %.
    const onBattery = h >= 7000 && h < 7003;
    const soc = onBattery ? 100 - 20 * (h - 7000 + 1) : 100;
    const time = h % 2 === 0 ? new Date(START + h * H).toISOString() : String((START + h * H) / 1000);
    lines.push([time, chw.toFixed(2), cw.toFixed(2), soc, onBattery, ...Array.from({ length: 16 }, (_, i) => (i + Math.cos(h * i)).toFixed(3))].join(','));
  }
  return lines.join('\n') + '\n';
}

const csv = join(dir, 'history.csv');
writeFileSync(csv, history());

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  let o = '';
  let e = '';
  out.on('data', (d) => (o += d));
  err.on('data', (d) => (e += d));
  const code = await main(args, out, err);
  return { code, out: o, err: e };
}

const MAP = ['--map', 'chw_supply=chiller-1.chw_supply_temp', '--map', 'cw_in=chiller-1.cw_entering_temp', '--map', 'soc=ups-1.battery_soc_pct', '--map', 'on_batt=ups-1.on_battery'];

describe('allbit alarms backtest', () => {
  it('runs the rules over a year of hourly history and reports every event and a summary per alarm', async () => {
    const { code, out, err } = await run(['alarms', 'backtest', '--config', config, '--csv', csv, '--time-column', 'time', ...MAP, '--json']);
    expect(err).toBe('');
    expect(code).toBe(0);
    const result = JSON.parse(out) as { rows: number; events: { type: string; ruleId: string; tsMs: number }[]; summary: { ruleId: string; raised: number; activeMs: number; longestActiveMs: number }[]; skipped: string[] };
    expect(result.rows).toBe(8760);
    const at = (h: number) => START + h * H;
    expect(result.events.map((e) => [e.ruleId, e.type, (e.tsMs - START) / H])).toEqual([
      // The 5-hour excursion: raised after the 2-hour on-delay, returned when it ends.
      ['chiller-1.chw_supply_temp.high', 'raised', 5002],
      ['chiller-1.chw_supply_temp.high', 'returned', 5005],
      ['chiller-1.cw_entering_temp.rate', 'raised', 6002],
      ['chiller-1.cw_entering_temp.rate', 'returned', expect.any(Number)],
      ['ups-1.on_battery.status', 'raised', 7000],
      ['ups-1.battery_soc_pct.low', 'raised', 7002],
      ['ups-1.battery_soc_pct.low', 'returned', 7003],
      ['ups-1.on_battery.status', 'returned', 7003],
    ]);
    const summary = Object.fromEntries(result.summary.map((s) => [s.ruleId, s]));
    expect(summary['chiller-1.chw_supply_temp.high']).toMatchObject({ raised: 1, activeMs: 3 * H, longestActiveMs: 3 * H });
    expect(summary['ups-1.on_battery.status']).toMatchObject({ raised: 1, activeMs: 3 * H });
    expect(result.events[0].tsMs).toBe(at(5002));
    // The comm-loss alarm cannot be judged from history.
    expect(result.skipped).toEqual(['chiller-1.device.comm-loss']);
  });

  it('prints events and the summary for people', async () => {
    const { code, out, err } = await run(['alarms', 'backtest', '-c', config, '--csv', csv, '--time-column', 'time', ...MAP]);
    expect(code).toBe(0);
    expect(out).toContain('8760 rows from 2025-01-01T00:00:00Z to 2025-12-31T23:00:00Z, 4 alarm rule(s)');
    expect(out).toMatch(/2025-07-28T10:00:00Z {2}raised {13}high {5}chiller-1\.chw_supply_temp\.high {2}chiller-1 chw_supply_temp high: 19 °C \(limit 18\)/);
    expect(out).toMatch(/chiller-1\.chw_supply_temp\.high\s+high\s+1\s+3 h 0 min\s+3 h 0 min\s+0/);
    expect(err).toContain('chiller-1.device.comm-loss');
  });

  it('says what is wrong with the arguments', async () => {
    const cases: [string[], RegExp][] = [
      [['--csv', csv, '--time-column', 'time', ...MAP], /--config is required/],
      [['-c', config, '--csv', csv, '--time-column', 'when', ...MAP], /--time-column: no column "when" in .*history\.csv \(columns: time, chw_supply/],
      [['-c', config, '--csv', csv, '--time-column', 'time', '--map', 'chw_supply=chiller-9.x'], /--map chw_supply=chiller-9\.x: no device "chiller-9"/],
      [['-c', config, '--csv', csv, '--time-column', 'time', '--map', 'chw_supply=chiller-1.nope'], /device chiller-1 has no tag "nope"/],
      [['-c', config, '--csv', csv, '--time-column', 'time', '--map', 'bogus'], /--map bogus: expected COLUMN=device\.tag/],
      [['-c', config, '--csv', join(dir, 'missing.csv'), '--time-column', 'time', ...MAP], /--csv: cannot read .*missing\.csv: ENOENT/],
      [['-c', config, '--csv', csv, '--time-column', 'time', '--map', 'noise_1=chiller-1.power_kw'], /no configured alarm watches a mapped column/],
    ];
    for (const [args, message] of cases) {
      const { code, err } = await run(['alarms', 'backtest', ...args]);
      expect(code, args.join(' ')).toBe(1);
      expect(err).toMatch(message);
    }
    const bad = join(dir, 'bad-time.csv');
    writeFileSync(bad, 'time,chw_supply\n2025-01-01T00:00:00Z,7\nyesterday,8\n');
    const { err } = await run(['alarms', 'backtest', '-c', config, '--csv', bad, '--time-column', 'time', '--map', 'chw_supply=chiller-1.chw_supply_temp']);
    expect(err).toMatch(/bad-time\.csv row 3: "yesterday" in column time is not a time/);
  });
});

describe('allbit alarms backtest: a residual anomaly alarm', () => {
  const residualConfig = join(dir, 'residual.yaml');
  writeFileSync(
    residualConfig,
    `gateway: { id: edge-01 }
mqtt: { url: "mqtt://127.0.0.1:1883" }
devices:
  - id: chiller-1
    profile: chiller
    host: 127.0.0.1
    alarms:
      - { type: anomaly, tag: power_kw, expected: { from: cooling_load_kw, coefficients: [30, 0.15, 0.00003] } }
`,
  );
  /** Ten days of 5-minute rows: the load swings between 500 and 1700 kW, the power follows the curve; fouling (+45 kW, 15 σ) from row 2000. */
  const residualCsv = join(dir, 'chiller-history.csv');
  const lines = ['time,kw,load_kw'];
  const M5 = 5 * 60_000;
  const noise = gaussian(61);
  for (let i = 0; i < 2880; i++) {
    const load = 1100 + 600 * Math.sin(i / 30);
    const kw = 30 + 0.15 * load + 0.00003 * load * load + 3 * noise() + (i >= 2000 ? 45 : 0);
    lines.push(`${new Date(START + i * M5).toISOString()},${kw.toFixed(2)},${load.toFixed(1)}`);
  }
  writeFileSync(residualCsv, lines.join('\n') + '\n');

  it('feeds the mapped model input to the engine: raised at the fault, with what was expected', async () => {
    const { code, out, err } = await run(['alarms', 'backtest', '-c', residualConfig, '--csv', residualCsv, '--time-column', 'time', '--map', 'kw=chiller-1.power_kw', '--map', 'load_kw=chiller-1.cooling_load_kw', '--json']);
    expect(err).toBe('');
    expect(code).toBe(0);
    const result = JSON.parse(out) as { events: { type: string; ruleId: string; tsMs: number; message: string; expected?: { value: number; from: string; fromValue: number } }[]; summary: { ruleId: string; raised: number; missingInput?: string }[] };
    expect(result.events.map((e) => [e.ruleId, e.type, (e.tsMs - START) / M5])).toEqual([['chiller-1.power_kw.anomaly', 'raised', 2000]]);
    expect(result.events[0].message).toMatch(/^chiller-1 power_kw is [\d.]+ kW, expected [\d.]+ kW from cooling_load_kw [\d.]+ kW \(more than 6 standard deviations off\)$/);
    expect(result.events[0].expected).toMatchObject({ from: 'cooling_load_kw', fromValue: Number((1100 + 600 * Math.sin(2000 / 30)).toFixed(1)) });
    expect(result.summary).toMatchObject([{ ruleId: 'chiller-1.power_kw.anomaly', raised: 1 }]);
  });

  it('judges nothing when the model input is not mapped, and says which input is missing', async () => {
    const { code, out } = await run(['alarms', 'backtest', '-c', residualConfig, '--csv', residualCsv, '--time-column', 'time', '--map', 'kw=chiller-1.power_kw', '--json']);
    expect(code).toBe(0);
    const result = JSON.parse(out) as { events: unknown[]; summary: { missingInput?: string }[] };
    expect(result.events).toEqual([]);
    expect(result.summary[0].missingInput).toBe('chiller-1.cooling_load_kw');
  });

  it('tells a technician reading the text output which model input is not mapped', async () => {
    const { code, err } = await run(['alarms', 'backtest', '-c', residualConfig, '--csv', residualCsv, '--time-column', 'time', '--map', 'kw=chiller-1.power_kw']);
    expect(code).toBe(0);
    expect(err).toContain('chiller-1.power_kw.anomaly: its model input chiller-1.cooling_load_kw has no mapped column, so it was never judged (add --map COLUMN=chiller-1.cooling_load_kw)');
  });
});
