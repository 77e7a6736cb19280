/**
 * Alarm rules over recorded history: the same engine as live, fed row by row with the recorded
 * time as "now" (so delays, shelving and chatter behave as they would have). Pure: rows in,
 * events and a summary out; reading the CSV is the command's job.
 *
 * Sample and hold: before a row's values are applied, time advances to the row's time with the
 * previous values holding (as the live engine's once-a-second tick does between readings). So an
 * hourly history with a value above the limit for one row is an excursion of one hour: it raises
 * an alarm whose on-delay is one hour or less.
 *
 * Model inputs (the `from` tags of residual anomaly rules) are mapped like any other column and
 * fed to the engine; within a row they are fed first, so a watched value is judged against the
 * input of its own row (same time), whatever the column order. A row whose input cell is empty
 * pairs the watched value with an older input, which the rule's freshness bound then skips.
 */
import { AlarmEngine } from './engine.js';
import type { AlarmEvent, AlarmRule } from './types.js';

export interface HistoryRow {
  tMs: number;
  /** Mapped values of this row; null for an empty cell (no reading then). */
  values: ReadonlyArray<number | boolean | string | null>;
}

export interface HistoryColumn {
  device: string;
  tag: string;
}

export interface AlarmSummary {
  ruleId: string;
  device: string;
  tag: string;
  priority: AlarmRule['priority'];
  raised: number;
  /** Time between each raise and the return that followed (still-active alarms count to the last row). */
  activeMs: number;
  longestActiveMs: number;
  chatterSuppressed: number;
  /** Residual anomaly rules whose model input has no column ("device.tag"): never judged. */
  missingInput?: string;
}

export interface BacktestResult {
  events: AlarmEvent[];
  summary: AlarmSummary[];
  rows: number;
  firstMs: number | null;
  lastMs: number | null;
}

export function runBacktest(rules: readonly AlarmRule[], columns: readonly HistoryColumn[], rows: Iterable<HistoryRow>): BacktestResult {
  const engine = new AlarmEngine(rules);
  const events: AlarmEvent[] = [];
  const openSince = new Map<string, number>();
  const mapped = new Set(columns.map((c) => `${c.device}.${c.tag}`));
  const modelInputs = new Set<string>();
  const summary = new Map<string, AlarmSummary>(
    rules.map((r) => {
      const s: AlarmSummary = { ruleId: r.id, device: r.device, tag: r.tag, priority: r.priority, raised: 0, activeMs: 0, longestActiveMs: 0, chatterSuppressed: 0 };
      const model = r.condition.kind === 'anomaly' ? r.condition.expected : undefined;
      if (model) {
        const input = `${r.device}.${model.from}`;
        modelInputs.add(input);
        if (!mapped.has(input)) s.missingInput = input;
      }
      return [r.id, s];
    }),
  );
  // Column indexes in feeding order: model inputs first (stable otherwise).
  const order = columns.map((_, i) => i);
  const isInput = columns.map((c) => modelInputs.has(`${c.device}.${c.tag}`));
  order.sort((a, b) => Number(isInput[b]) - Number(isInput[a]) || a - b);
  const note = (e: AlarmEvent): void => {
    events.push(e);
    const s = summary.get(e.ruleId)!;
    if (e.type === 'raised') {
      s.raised++;
      openSince.set(e.ruleId, e.tsMs);
    } else if ((e.type === 'returned' || e.type === 'cleared') && openSince.has(e.ruleId)) {
      const ms = e.tsMs - openSince.get(e.ruleId)!;
      s.activeMs += ms;
      s.longestActiveMs = Math.max(s.longestActiveMs, ms);
      openSince.delete(e.ruleId);
    }
  };
  let count = 0;
  let firstMs: number | null = null;
  let lastMs: number | null = null;
  for (const row of rows) {
    if (lastMs !== null && row.tMs < lastMs) throw new Error(`history row ${count + 1}: time ${new Date(row.tMs).toISOString()} is before the previous row's: sort the history by time`);
    count++;
    firstMs ??= row.tMs;
    lastMs = row.tMs;
    for (const e of engine.tick(row.tMs)) note(e);
    for (const i of order) {
      const value = row.values[i];
      if (value === null || value === undefined) continue;
      const { device, tag } = columns[i];
      for (const e of engine.evaluate({ device, tag, value, quality: 'good', timestampMs: row.tMs }, row.tMs)) note(e);
    }
  }
  for (const [ruleId, since] of openSince) {
    const s = summary.get(ruleId)!;
    const ms = (lastMs ?? since) - since;
    s.activeMs += ms;
    s.longestActiveMs = Math.max(s.longestActiveMs, ms);
  }
  for (const [id, state] of engine.states()) summary.get(id)!.chatterSuppressed = state.chatterSuppressed;
  return { events, summary: [...summary.values()], rows: count, firstMs, lastMs };
}
