/**
 * `allbit alarms backtest`: the configured alarm rules over a recorded history (any CSV with a
 * time column), so a technician tunes limits, deadbands and delays on last year's data before
 * switching them on. The same engine as live (agent/alarms/), fed row by row with the recorded
 * time as "now".
 */
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { runBacktest, type HistoryColumn, type HistoryRow } from './alarms/backtest.js';
import type { AlarmRule } from './alarms/types.js';
import { ConfigError, formatIssue } from '../config/issues.js';
import { loadConfigFile } from '../config/load.js';

export class AlarmsUsageError extends Error {
  override name = 'AlarmsUsageError';
}

export interface BacktestOptions {
  config: string;
  csv: string;
  timeColumn: string;
  /** COLUMN=device.tag */
  map: string[];
  json: boolean;
}

export function backtestCommand(options: BacktestOptions, out: NodeJS.WritableStream, err: NodeJS.WritableStream): number {
  const startedMs = performance.now();
  let config: ReturnType<typeof loadConfigFile>;
  try {
    config = loadConfigFile(options.config);
  } catch (cause) {
    if (cause instanceof ConfigError) throw new AlarmsUsageError(`--config: ${cause.issues.length} problem(s) in ${options.config}:\n${cause.issues.map((i) => `  ${formatIssue(i)}`).join('\n')}`);
    throw cause;
  }
  let text: string;
  try {
    text = readFileSync(options.csv, 'utf8');
  } catch (cause) {
    throw new AlarmsUsageError(`--csv: cannot read ${options.csv}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`);
  }
  let records: string[][];
  try {
    records = parse(text, { skip_empty_lines: true, trim: true, relax_column_count: true, bom: true }) as string[][];
  } catch (cause) {
    throw new AlarmsUsageError(`--csv ${options.csv}: not valid CSV: ${(cause as Error).message}`);
  }
  if (records.length < 2) throw new AlarmsUsageError(`--csv ${options.csv}: needs a header row and at least one data row`);
  const header = records[0];
  const timeIndex = header.indexOf(options.timeColumn);
  if (timeIndex < 0) throw new AlarmsUsageError(`--time-column: no column "${options.timeColumn}" in ${options.csv} (columns: ${header.join(', ')})`);

  const columns: HistoryColumn[] = [];
  const indexes: number[] = [];
  for (const spec of options.map) {
    const m = /^(.+)=([^.=]+)\.([^.=]+)$/.exec(spec);
    if (!m) throw new AlarmsUsageError(`--map ${spec}: expected COLUMN=device.tag`);
    const [, column, device, tag] = m;
    const at = header.indexOf(column);
    if (at < 0) throw new AlarmsUsageError(`--map ${spec}: no column "${column}" in ${options.csv} (columns: ${header.join(', ')})`);
    const spec2 = config.devices.find((d) => d.id === device);
    if (!spec2) throw new AlarmsUsageError(`--map ${spec}: no device "${device}" in ${options.config}`);
    if (!spec2.tags.some((t) => t.name === tag)) throw new AlarmsUsageError(`--map ${spec}: device ${device} has no tag "${tag}"`);
    columns.push({ device, tag });
    indexes.push(at);
  }
  const mapped = new Set(columns.map((c) => `${c.device}.${c.tag}`));
  const rules: AlarmRule[] = config.alarms.filter((r) => mapped.has(`${r.device}.${r.tag}`) && r.condition.kind !== 'quality');
  const skipped = config.alarms.filter((r) => !rules.includes(r));
  if (rules.length === 0) throw new AlarmsUsageError(`no configured alarm watches a mapped column (alarms in ${options.config}: ${config.alarms.map((r) => r.id).join(', ') || 'none'})`);

  const rows: HistoryRow[] = [];
  for (let r = 1; r < records.length; r++) {
    const record = records[r];
    const tMs = parseTime(record[timeIndex] ?? '');
    if (tMs === null) throw new AlarmsUsageError(`${options.csv} row ${r + 1}: "${record[timeIndex] ?? ''}" in column ${options.timeColumn} is not a time (ISO 8601, or epoch seconds or milliseconds)`);
    rows.push({ tMs, values: indexes.map((i) => parseValue(record[i] ?? '')) });
  }
  // Histories exported from historians are not always in order.
  rows.sort((a, b) => a.tMs - b.tMs);
  const result = runBacktest(rules, columns, rows);
  const elapsedMs = performance.now() - startedMs;

  if (options.json) {
    out.write(JSON.stringify({ rows: result.rows, from: iso(result.firstMs), to: iso(result.lastMs), rules: rules.map((r) => r.id), skipped: skipped.map((r) => r.id), events: result.events, summary: result.summary }, null, 2) + '\n');
    return 0;
  }
  out.write(`allbit alarms backtest: ${result.rows} rows from ${iso(result.firstMs)} to ${iso(result.lastMs)}, ${rules.length} alarm rule(s)\n`);
  if (skipped.length > 0) err.write(`not in the history (no mapped column, or a quality alarm): ${skipped.map((r) => r.id).join(', ')}\n`);
  for (const s of result.summary) if (s.missingInput) err.write(`${s.ruleId}: its model input ${s.missingInput} has no mapped column, so it was never judged (add --map COLUMN=${s.missingInput})\n`);
  out.write('\nEvents\n');
  for (const e of result.events) out.write(`${iso(e.tsMs)}  ${e.type.padEnd(18)} ${e.priority.padEnd(8)} ${e.ruleId}  ${e.message}\n`);
  if (result.events.length === 0) out.write('  (none)\n');
  out.write('\nSummary\n');
  const lines = [['alarm', 'priority', 'raised', 'active in total', 'longest', 'chatter-suppressed']];
  for (const s of result.summary) lines.push([s.ruleId, s.priority, String(s.raised), duration(s.activeMs), duration(s.longestActiveMs), String(s.chatterSuppressed)]);
  const widths = lines[0].map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  for (const l of lines) out.write(`  ${l.map((c, i) => (i >= 2 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ')}\n`);
  out.write(`\n${result.rows} rows × ${columns.length} column(s) in ${Math.round(elapsedMs)} ms\n`);
  return 0;
}

function parseTime(raw: string): number | null {
  if (raw === '') return null;
  if (/^-?\d+(\.\d+)?$/.test(raw)) {
    const n = Number(raw);
    // Epoch seconds until the year 5138; anything larger is milliseconds.
    return n > 1e11 ? n : n * 1000;
  }
  const ms = Date.parse(raw);
  return Number.isFinite(ms) ? ms : null;
}

function parseValue(raw: string): number | boolean | string | null {
  if (raw === '') return null;
  if (raw === 'true' || raw === 'TRUE') return true;
  if (raw === 'false' || raw === 'FALSE') return false;
  const n = Number(raw);
  return Number.isFinite(n) ? n : raw;
}

function iso(ms: number | null): string {
  return ms === null ? '—' : new Date(ms).toISOString().replace('.000Z', 'Z');
}

function duration(ms: number): string {
  if (ms === 0) return '0';
  const s = Math.round(ms / 1000);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return d > 0 ? `${d} d ${h} h` : h > 0 ? `${h} h ${m} min` : m > 0 ? `${m} min ${s % 60} s` : `${s} s`;
}
