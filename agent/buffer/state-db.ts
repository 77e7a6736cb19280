/**
 * Opens a state file beside the outbox (alarm state, calculated-device state): one writer
 * (locking_mode EXCLUSIVE, taken at once so a second agent on the same files is refused here,
 * not later), WAL, synchronous=FULL (what was saved survives a power cut). A file that cannot be
 * opened gives an error naming what it is and where.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';

export function openStateDb(path: string, what: string, schemaSql: readonly string[]): Database.Database {
  const file = resolve(path);
  mkdirSync(dirname(file), { recursive: true });
  let db: Database.Database | null = null;
  try {
    db = new Database(file);
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    for (const sql of schemaSql) db.exec(sql);
    db.exec('BEGIN IMMEDIATE; COMMIT');
    return db;
  } catch (cause) {
    if (db?.open) db.close();
    throw new Error(`${what} ${file}: cannot open: ${(cause as Error).message}`, { cause });
  }
}
