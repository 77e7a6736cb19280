/** The backtest feeds a residual anomaly rule's model input from its mapped column, before the watched column of the same row. */
import { describe, expect, it } from 'vitest';
import { runBacktest, type HistoryColumn, type HistoryRow } from '../../../agent/alarms/backtest.js';
import type { AlarmModel, AlarmRule } from '../../../agent/alarms/types.js';
import { MINUTE_MS, T0_MS, gaussian } from '../../helpers/seeded-noise.js';

const model: AlarmModel = { from: 'cooling_load_kw', fromUnit: 'kW', coefficients: [30, 0.15, 0.00003], maxInputAgeMs: 20_000 };
const curve = (load: number): number => 30 + 0.15 * load + 0.00003 * load * load;

const rule: AlarmRule = {
  id: 'chiller-1.power_kw.anomaly',
  device: 'chiller-1',
  tag: 'power_kw',
  unit: 'kW',
  priority: 'medium',
  message: '{device} {tag} is {value} {unit}, expected {expected} {unit} from {from} {fromValue} {fromUnit}',
  onDelayMs: 0,
  offDelayMs: 0,
  chatter: { maxActivations: 5, windowMs: 600_000, suppressMs: 600_000 },
  suppressOnCommLoss: true,
  condition: { kind: 'anomaly', alpha: 0.01, warmupSamples: 200, zThreshold: 6, sampleEveryMs: 10_000, minStd: 0, expected: model },
};

/** One row a minute: the watched power column FIRST, the load column after it; fouling (+30 kW) from row 600. */
function history(options: { emptyLoadRows?: (i: number) => boolean } = {}): HistoryRow[] {
  const noise = gaussian(51);
  const rows: HistoryRow[] = [];
  for (let i = 0; i < 900; i++) {
    const load = 1100 + 600 * Math.sin(i / 40);
    const power = curve(load) + 3 * noise() + (i >= 600 ? 30 : 0);
    rows.push({ tMs: T0_MS + i * MINUTE_MS, values: [power, options.emptyLoadRows?.(i) ? null : load] });
  }
  return rows;
}

const columns: HistoryColumn[] = [
  { device: 'chiller-1', tag: 'power_kw' },
  { device: 'chiller-1', tag: 'cooling_load_kw' },
];

describe('backtest: residual anomaly alarms', () => {
  it('feeds the model input column to the engine, before the watched column of its row', () => {
    const result = runBacktest([rule], columns, history());
    expect(result.events.map((e) => [e.type, (e.tsMs - T0_MS) / MINUTE_MS])).toEqual([['raised', 600]]);
    expect(result.events[0].expected).toMatchObject({ from: 'cooling_load_kw', fromValue: 1100 + 600 * Math.sin(600 / 40) });
    expect(result.events[0].message).toMatch(/^chiller-1 power_kw is [\d.]+ kW, expected [\d.]+ kW from cooling_load_kw [\d.]+ kW$/);
    expect(result.summary[0]).toMatchObject({ raised: 1 });
    expect(result.summary[0].missingInput).toBeUndefined();
  });

  it('skips rows whose input cell is empty (the previous row\'s input is a minute old: stale)', () => {
    // From row 590 on the load column is empty: the fault is never judged.
    const result = runBacktest([rule], columns, history({ emptyLoadRows: (i) => i >= 590 }));
    expect(result.events).toEqual([]);
  });

  it('never judges a rule whose input has no column, and says so in the summary', () => {
    const rows = history().map((r) => ({ tMs: r.tMs, values: [r.values[0]] }));
    const result = runBacktest([rule], [columns[0]], rows);
    expect(result.events).toEqual([]);
    expect(result.summary[0].missingInput).toBe('chiller-1.cooling_load_kw');
  });
});
