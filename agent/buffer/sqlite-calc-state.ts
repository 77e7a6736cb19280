/**
 * Where calculated devices keep what must survive a restart: energy counters (reset-free totals),
 * the transformer's thermal state and insulation-ageing total, the UPS battery's hourly health
 * points. One row per calculated device (its model state as JSON) in a SQLite file beside the
 * outbox, written once a minute and at shutdown, each write one transaction. After a crash a
 * counter loses at most the last minute of counting; it never goes backwards.
 */
import type Database from 'better-sqlite3';
import { openStateDb } from './state-db.js';

export class SqliteCalcStateStore {
  private readonly db: Database.Database;
  private readonly upsert: Database.Statement<[string, string, number]>;

  constructor(readonly path: string) {
    this.db = openStateDb(path, 'calculation state', ['CREATE TABLE IF NOT EXISTS calc_state (device TEXT PRIMARY KEY, state TEXT NOT NULL, updated_ms INTEGER NOT NULL)']);
    this.upsert = this.db.prepare('INSERT INTO calc_state (device, state, updated_ms) VALUES (?, ?, ?) ON CONFLICT(device) DO UPDATE SET state = excluded.state, updated_ms = excluded.updated_ms');
  }

  /** Saved states by calculated device id; a damaged row is left out (that device starts afresh). */
  load(): Map<string, Record<string, unknown>> {
    const rows = this.db.prepare('SELECT device, state FROM calc_state').all() as { device: string; state: string }[];
    const out = new Map<string, Record<string, unknown>>();
    for (const row of rows) {
      try {
        const state = JSON.parse(row.state) as unknown;
        if (state && typeof state === 'object' && !Array.isArray(state)) out.set(row.device, state as Record<string, unknown>);
      } catch {
        // A damaged row: that device's counters start again from zero; the others keep theirs.
      }
    }
    return out;
  }

  save(states: Iterable<[string, Record<string, unknown>]>, nowMs: number): void {
    const write = this.db.transaction((entries: [string, Record<string, unknown>][]) => {
      for (const [device, state] of entries) this.upsert.run(device, JSON.stringify(state), nowMs);
    });
    write([...states]);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/** The calculation state file beside an outbox: data/outbox.db → data/outbox-calc-state.db. */
export function calcStatePathFor(outboxPath: string): string {
  return outboxPath.replace(/(\.db|\.sqlite3?)?$/, '-calc-state.db');
}
