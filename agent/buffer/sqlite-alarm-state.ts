/**
 * Where the alarm engine's state survives a restart: one row per alarm rule (its state as JSON),
 * in a SQLite file beside the outbox. Written when an alarm changed (raised, returned,
 * acknowledged, shelved …) and in full at shutdown, each write one transaction with
 * synchronous=FULL, so an acknowledged alarm stays acknowledged after a crash. What is not
 * written at once — a delay in progress, the window of a rate alarm — starts again after a crash.
 */
import type Database from 'better-sqlite3';
import { openStateDb } from './state-db.js';

export interface AuditEntry {
  tsMs: number;
  requestId: string | null;
  alarm: string;
  action: string;
  by: string;
  reason: string;
  /** Why it was refused; null when applied. */
  error: string | null;
}

export class SqliteAlarmStateStore {
  private readonly db: Database.Database;
  private readonly upsert: Database.Statement<[string, string, number]>;

  constructor(readonly path: string) {
    this.db = openStateDb(path, 'alarm state', [
      'CREATE TABLE IF NOT EXISTS alarm_state (rule_id TEXT PRIMARY KEY, state TEXT NOT NULL, updated_ms INTEGER NOT NULL)',
      'CREATE TABLE IF NOT EXISTS alarm_audit (id INTEGER PRIMARY KEY AUTOINCREMENT, ts_ms INTEGER NOT NULL, request_id TEXT, alarm TEXT NOT NULL, action TEXT NOT NULL, by TEXT NOT NULL, reason TEXT NOT NULL, error TEXT)',
    ]);
    this.upsert = this.db.prepare('INSERT INTO alarm_state (rule_id, state, updated_ms) VALUES (?, ?, ?) ON CONFLICT(rule_id) DO UPDATE SET state = excluded.state, updated_ms = excluded.updated_ms');
  }

  /** Every saved rule state, by rule id (rules no longer configured are simply not asked for). */
  load(): Map<string, unknown> {
    const rows = this.db.prepare('SELECT rule_id, state FROM alarm_state').all() as { rule_id: string; state: string }[];
    const out = new Map<string, unknown>();
    for (const row of rows) {
      try {
        out.set(row.rule_id, JSON.parse(row.state));
      } catch {
        // A damaged row: that alarm starts from normal; the others keep their state.
      }
    }
    return out;
  }

  save(states: Iterable<[string, unknown]>, nowMs: number): void {
    const write = this.db.transaction((entries: [string, unknown][]) => {
      for (const [id, state] of entries) this.upsert.run(id, JSON.stringify(state), nowMs);
    });
    write([...states]);
  }

  /** Records one operator action (applied or refused): who, when, why. Kept locally, whatever happens to the broker. */
  audit(entry: AuditEntry): void {
    this.db
      .prepare('INSERT INTO alarm_audit (ts_ms, request_id, alarm, action, by, reason, error) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(entry.tsMs, entry.requestId, entry.alarm, entry.action, entry.by, entry.reason, entry.error);
  }

  /** The latest operator actions, newest first. */
  auditLog(limit = 100): AuditEntry[] {
    const rows = this.db.prepare('SELECT ts_ms, request_id, alarm, action, by, reason, error FROM alarm_audit ORDER BY id DESC LIMIT ?').all(limit) as {
      ts_ms: number;
      request_id: string | null;
      alarm: string;
      action: string;
      by: string;
      reason: string;
      error: string | null;
    }[];
    return rows.map((r) => ({ tsMs: r.ts_ms, requestId: r.request_id, alarm: r.alarm, action: r.action, by: r.by, reason: r.reason, error: r.error }));
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/** The alarm state file beside an outbox: data/outbox.db → data/outbox-alarm-state.db. */
export function alarmStatePathFor(outboxPath: string): string {
  return outboxPath.replace(/(\.db|\.sqlite3?)?$/, '-alarm-state.db');
}
