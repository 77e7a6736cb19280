import { randomUUID } from 'node:crypto';
import { mkdirSync, statfsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from '../core/logger.js';
import type { Outbox, OutboxRange, OutboxRecord, OutboxStats, StoredRecord } from '../core/outbox.js';

export interface SqliteOutboxOptions {
  /** The outbox file; missing parent directories are created. */
  path: string;
  /** Drop-oldest above this many stored body bytes. */
  maxBytes: number;
  logger: Logger;
}

/**
 * How long a second opener waits for the lock before giving up. The outbox is single-writer (see
 * `SqliteOutbox`), so the only contention is another process on the same file, and failing fast is
 * the right answer to it.
 */
const LOCK_TIMEOUT_MS = 50;

/**
 * An SQLITE_IOERR counts as a full disk when the file system has less than this left beyond what
 * the append needed (SQLite reports ENOSPC on write as SQLITE_FULL, but on fsync or truncate as an
 * I/O error).
 */
const DISK_FULL_HEADROOM_BYTES = 1 << 20;

/** On a full disk, drop at least this share of the waiting records (and at least one). */
const DISK_FULL_MIN_DROP_FRACTION = 0.01;

const SCHEMA_VERSION = 2;

/**
 * Durability choice: WAL with `synchronous = FULL`. Every commit fsyncs the WAL, so what `append`
 * returned from survives not only kill -9 (which NORMAL would also survive) but also a power loss
 * or kernel panic — the case an edge box in a plant room actually meets. The cost is one fsync per
 * append; because an outbox row is a whole poll cycle (~100 appends/s at 100k tags/s) that is
 * affordable: measured ~500 appends/s of 94 KB records (1 000 readings each) on the dev box, five
 * times the ~100/s the design needs.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS records (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  stream TEXT NOT NULL,
  kind TEXT NOT NULL,
  first_seq INTEGER NOT NULL,
  last_seq INTEGER NOT NULL,
  prev_seq INTEGER,
  created_ms INTEGER NOT NULL,
  body TEXT NOT NULL,
  bytes INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  schema_version INTEGER NOT NULL,
  next_seq INTEGER NOT NULL,
  appended_records INTEGER NOT NULL,
  appended_readings INTEGER NOT NULL,
  acked_records INTEGER NOT NULL,
  acked_readings INTEGER NOT NULL,
  dropped_records INTEGER NOT NULL,
  dropped_readings INTEGER NOT NULL,
  outbox_id TEXT
);
CREATE TABLE IF NOT EXISTS streams (
  stream TEXT PRIMARY KEY,
  last_seq INTEGER NOT NULL
) WITHOUT ROWID;
`;

interface MetaRow {
  outbox_id: string;
  next_seq: number;
  appended_records: number;
  appended_readings: number;
  acked_records: number;
  acked_readings: number;
  dropped_records: number;
  dropped_readings: number;
}

interface RecordRow {
  id: number;
  stream: string;
  kind: 'data';
  first_seq: number;
  last_seq: number;
  prev_seq: number | null;
  created_ms: number;
  body: string;
}

interface DropCandidate {
  id: number;
  first_seq: number;
  last_seq: number;
  bytes: number;
}

/** Counters kept in memory so `stats()` never scans; changed only after a commit succeeded. */
interface Waiting {
  records: number;
  readings: number;
  bytes: number;
}

/**
 * The SQLite store-and-forward outbox (see the `Outbox` contract).
 *
 * - One row per record; sequence numbers, per-stream chains and totals live in the same file and
 *   change in the same transaction as the rows, so they survive restarts and crashes together.
 * - Size cap: after an append, the oldest records are dropped until the waiting bytes are at most
 *   `maxBytes`. Records of the append itself are never dropped (what append returned is there),
 *   so the cap can be exceeded by at most one append.
 * - Errors name the file and carry the SQLite cause; a failed append rolls back entirely.
 * - Single writer: the sequence counter is held in memory between appends, so two processes on one
 *   file would hand out the same numbers. The file is opened with `locking_mode = EXCLUSIVE`
 *   (set before WAL is first used, so no shared-memory index exists either) and the write lock is
 *   taken at open; a second opener fails at once with an error saying the file is in use. The
 *   kernel releases the lock when the holder dies, also on kill -9, so crash recovery is
 *   unaffected. The price: nothing else (not even the `sqlite3` shell) can read the file while the
 *   agent runs.
 * - Identity: a random `outboxId` is created with the file and kept in it. Sequence numbers are
 *   unique only within one outbox file; consumers reset their sequence state when the id changes
 *   (file deleted or replaced). A backup copy of the same file keeps the id but rewinds the
 *   counter, so an outbox must not be restored from a backup (docs/mqtt.md).
 * - A full disk drops the oldest records (counted like the size cap) and retries the append once,
 *   so a full disk loses the oldest data rather than the newest.
 */
export class SqliteOutbox implements Outbox {
  private readonly db: Database.Database;
  private readonly path: string;
  private readonly maxBytes: number;
  private readonly logger: Logger;
  private meta: MetaRow;
  private readonly waiting: Waiting;
  private readonly streamLastSeq = new Map<string, number>();
  private oldestCreatedMs: number | null = null;
  private oldestDirty = true;
  private closed = false;

  private readonly insertRecord: Database.Statement;
  private readonly upsertStream: Database.Statement;
  private readonly updateMeta: Database.Statement;
  private readonly selectRange: Database.Statement;
  private readonly deleteById: Database.Statement;
  private readonly selectDropCandidates: Database.Statement;
  private readonly deleteUpTo: Database.Statement;
  private readonly selectOldest: Database.Statement;
  private readonly appendTx: Database.Transaction<(records: readonly OutboxRecord[], encoded: readonly string[]) => AppendResult>;
  private readonly ackTx: Database.Transaction<(batch: readonly Pick<StoredRecord, 'id'>[]) => Waiting>;
  private readonly dropForSpaceTx: Database.Transaction<(neededBytes: number) => DiskFullDrop | null>;

  constructor(options: SqliteOutboxOptions) {
    this.path = resolve(options.path);
    this.maxBytes = options.maxBytes;
    this.logger = options.logger.child({ component: 'outbox' });
    if (!(this.maxBytes > 0)) throw new Error(`outbox ${this.path}: maxBytes must be positive, got ${options.maxBytes}`);

    try {
      mkdirSync(dirname(this.path), { recursive: true });
    } catch (cause) {
      throw new Error(`outbox ${this.path}: cannot create directory ${dirname(this.path)}: ${messageOf(cause)}`, { cause });
    }

    let db: Database.Database | undefined;
    try {
      db = new Database(this.path, { timeout: LOCK_TIMEOUT_MS });
      // Before the first access: the lock is then held for the life of the connection, and WAL
      // keeps its index in heap memory instead of a shared -shm file.
      db.pragma('locking_mode = EXCLUSIVE');
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.exec(SCHEMA);
      // A write transaction: takes (and, in exclusive mode, keeps) the write lock now, not at the first append.
      migrateMeta(db);
      this.db = db;
    } catch (cause) {
      db?.close();
      if (isLocked(cause)) {
        throw new Error(`outbox ${this.path} is in use by another process (is another allbit agent running with this buffer.path?)`, { cause });
      }
      throw new Error(`outbox ${this.path}: cannot open as a SQLite outbox: ${messageOf(cause)}`, { cause });
    }

    this.insertRecord = db.prepare(
      'INSERT INTO records (stream, kind, first_seq, last_seq, prev_seq, created_ms, body, bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.upsertStream = db.prepare(
      'INSERT INTO streams (stream, last_seq) VALUES (?, ?) ON CONFLICT(stream) DO UPDATE SET last_seq = excluded.last_seq',
    );
    this.updateMeta = db.prepare(
      `UPDATE meta SET next_seq = @next_seq, appended_records = @appended_records, appended_readings = @appended_readings,
         acked_records = @acked_records, acked_readings = @acked_readings,
         dropped_records = @dropped_records, dropped_readings = @dropped_readings WHERE id = 1`,
    );
    this.selectRange = db.prepare(
      'SELECT id, stream, kind, first_seq, last_seq, prev_seq, created_ms, body FROM records WHERE id > ? AND id < ? ORDER BY id LIMIT ?',
    );
    this.deleteById = db.prepare('DELETE FROM records WHERE id = ? RETURNING last_seq - first_seq + 1 AS readings, bytes');
    this.selectDropCandidates = db.prepare(
      'SELECT id, first_seq, last_seq, bytes FROM records WHERE id > ? AND id < ? ORDER BY id LIMIT 256',
    );
    this.deleteUpTo = db.prepare('DELETE FROM records WHERE id <= ?');
    this.selectOldest = db.prepare('SELECT created_ms FROM records ORDER BY id LIMIT 1').pluck();

    this.meta = db
      .prepare(
        'SELECT outbox_id, next_seq, appended_records, appended_readings, acked_records, acked_readings, dropped_records, dropped_readings FROM meta WHERE id = 1',
      )
      .get() as MetaRow;
    for (const row of db.prepare('SELECT stream, last_seq FROM streams').all() as { stream: string; last_seq: number }[]) {
      this.streamLastSeq.set(row.stream, row.last_seq);
    }
    const totals = db
      .prepare('SELECT COUNT(*) AS records, COALESCE(SUM(last_seq - first_seq + 1), 0) AS readings, COALESCE(SUM(bytes), 0) AS bytes FROM records')
      .get() as Waiting;
    this.waiting = { ...totals };

    this.appendTx = db.transaction((records: readonly OutboxRecord[], encoded: readonly string[]) => this.appendInTransaction(records, encoded));
    this.ackTx = db.transaction((batch: readonly Pick<StoredRecord, 'id'>[]) => this.ackInTransaction(batch));
    this.dropForSpaceTx = db.transaction((neededBytes: number) => this.dropForSpaceInTransaction(neededBytes));
    this.logger.info({ path: this.path, outboxId: this.meta.outbox_id, waitingRecords: totals.records, nextSeq: this.meta.next_seq }, 'outbox opened');
  }

  /** The random id of this outbox file (16 hex characters), created with the file. */
  get outboxId(): string {
    return this.meta.outbox_id;
  }

  append(records: readonly OutboxRecord[]): StoredRecord[] {
    this.assertOpen();
    if (records.length === 0) return [];
    const encoded = records.map((record, index) => {
      if (!Number.isInteger(record.count) || record.count < 1) {
        throw new Error(`outbox ${this.path}: record ${index} of stream "${record.stream}" has count ${record.count}; expected an integer ≥ 1`);
      }
      const body = JSON.stringify(record.body);
      if (body === undefined) throw new Error(`outbox ${this.path}: record ${index} of stream "${record.stream}" has a body that is not JSON-serialisable`);
      return body;
    });
    let result: AppendResult;
    try {
      result = this.appendTx.immediate(records, encoded);
    } catch (cause) {
      const neededBytes = encoded.reduce((sum, body) => sum + Buffer.byteLength(body), 0);
      if (!isDiskFull(cause, this.path, neededBytes)) {
        throw new Error(`outbox ${this.path}: append of ${records.length} record(s) failed, nothing was stored: ${messageOf(cause)}`, { cause });
      }
      const freed = this.dropForSpace(neededBytes, records.length, cause);
      try {
        result = this.appendTx.immediate(records, encoded);
      } catch (retryCause) {
        throw new Error(
          `outbox ${this.path}: append of ${records.length} record(s) failed, nothing was stored (disk full; ${freed} oldest record(s) dropped to make room did not suffice): ${messageOf(retryCause)}`,
          { cause: retryCause },
        );
      }
    }
    // Commit succeeded: publish the new state to memory.
    this.meta = result.meta;
    for (const [stream, lastSeq] of result.streams) this.streamLastSeq.set(stream, lastSeq);
    this.waiting.records = result.waiting.records;
    this.waiting.readings = result.waiting.readings;
    this.waiting.bytes = result.waiting.bytes;
    if (result.dropped) {
      this.oldestDirty = true;
      this.logger.warn(
        { path: this.path, droppedRecords: result.dropped.records, droppedReadings: result.dropped.readings, firstSeq: result.dropped.firstSeq, lastSeq: result.dropped.lastSeq, maxBytes: this.maxBytes },
        `outbox over ${this.maxBytes} bytes: dropped the ${result.dropped.records} oldest record(s), seq ${result.dropped.firstSeq}..${result.dropped.lastSeq}`,
      );
    } else if (this.oldestCreatedMs === null) {
      this.oldestDirty = true;
    }
    return result.stored;
  }

  next(max: number, range: OutboxRange = {}): StoredRecord[] {
    this.assertOpen();
    if (!(max > 0)) return [];
    const rows = this.selectRange.all(range.afterId ?? 0, range.beforeId ?? Number.MAX_SAFE_INTEGER, Math.floor(max)) as RecordRow[];
    return rows.map((row) => ({
      id: row.id,
      stream: row.stream,
      kind: row.kind,
      count: row.last_seq - row.first_seq + 1,
      body: JSON.parse(row.body) as unknown,
      createdMs: row.created_ms,
      firstSeq: row.first_seq,
      lastSeq: row.last_seq,
      prevSeq: row.prev_seq,
    }));
  }

  ack(batch: readonly Pick<StoredRecord, 'id'>[]): void {
    this.assertOpen();
    if (batch.length === 0) return;
    let removed: Waiting;
    try {
      removed = this.ackTx.immediate(batch);
    } catch (cause) {
      throw new Error(`outbox ${this.path}: ack of ${batch.length} record(s) failed, they stay waiting: ${messageOf(cause)}`, { cause });
    }
    if (removed.records === 0) return;
    this.meta = { ...this.meta, acked_records: this.meta.acked_records + removed.records, acked_readings: this.meta.acked_readings + removed.readings };
    this.waiting.records -= removed.records;
    this.waiting.readings -= removed.readings;
    this.waiting.bytes -= removed.bytes;
    this.oldestDirty = true;
  }

  stats(): OutboxStats {
    this.assertOpen();
    if (this.oldestDirty) {
      // One primary-key lookup, only after the head of the queue changed.
      this.oldestCreatedMs = (this.selectOldest.get() as number | undefined) ?? null;
      this.oldestDirty = false;
    }
    return {
      records: this.waiting.records,
      readings: this.waiting.readings,
      bytes: this.waiting.bytes,
      maxBytes: this.maxBytes,
      oldestCreatedMs: this.oldestCreatedMs,
      appendedRecords: this.meta.appended_records,
      ackedRecords: this.meta.acked_records,
      droppedRecords: this.meta.dropped_records,
      droppedReadings: this.meta.dropped_readings,
      nextSeq: this.meta.next_seq,
      outboxId: this.meta.outbox_id,
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  private appendInTransaction(records: readonly OutboxRecord[], bodies: readonly string[]): AppendResult {
    const meta = { ...this.meta };
    const streams = new Map<string, number>();
    const waiting = { ...this.waiting };
    const stored: StoredRecord[] = [];
    let firstNewId = 0;
    for (let i = 0; i < records.length; i++) {
      const record = records[i];
      const body = bodies[i];
      const bytes = Buffer.byteLength(body);
      const firstSeq = meta.next_seq;
      const lastSeq = firstSeq + record.count - 1;
      const prevSeq = streams.get(record.stream) ?? this.streamLastSeq.get(record.stream) ?? null;
      const info = this.insertRecord.run(record.stream, record.kind, firstSeq, lastSeq, prevSeq, record.createdMs, body, bytes);
      const id = Number(info.lastInsertRowid);
      if (i === 0) firstNewId = id;
      this.upsertStream.run(record.stream, lastSeq);
      streams.set(record.stream, lastSeq);
      meta.next_seq = lastSeq + 1;
      meta.appended_records += 1;
      meta.appended_readings += record.count;
      waiting.records += 1;
      waiting.readings += record.count;
      waiting.bytes += bytes;
      stored.push({ ...record, id, firstSeq, lastSeq, prevSeq });
    }
    const dropped = waiting.bytes > this.maxBytes ? this.dropOldest(waiting, firstNewId) : null;
    if (dropped) {
      meta.dropped_records += dropped.records;
      meta.dropped_readings += dropped.readings;
    }
    this.updateMeta.run(meta);
    return { stored, meta, streams, waiting, dropped };
  }

  /** Deletes the oldest records older than this append until the waiting bytes fit; mutates `waiting`. */
  private dropOldest(waiting: Waiting, firstNewId: number): DropSummary | null {
    let lastDroppedId = 0;
    let summary: DropSummary | null = null;
    scan: for (;;) {
      const candidates = this.selectDropCandidates.all(lastDroppedId, firstNewId) as DropCandidate[];
      if (candidates.length === 0) break;
      for (const row of candidates) {
        if (waiting.bytes <= this.maxBytes) break scan;
        const readings = row.last_seq - row.first_seq + 1;
        summary ??= { records: 0, readings: 0, firstSeq: row.first_seq, lastSeq: row.last_seq };
        summary.records += 1;
        summary.readings += readings;
        summary.lastSeq = row.last_seq;
        waiting.records -= 1;
        waiting.readings -= readings;
        waiting.bytes -= row.bytes;
        lastDroppedId = row.id;
      }
    }
    if (lastDroppedId > 0) this.deleteUpTo.run(lastDroppedId);
    return summary;
  }

  /**
   * After an append failed on a full disk: drops the oldest records, in their own transaction, so
   * that the retry can reuse their pages. Drops enough bodies to cover the append (plus a page of
   * row overhead per record) and at least 1 % of the waiting records. Returns how many were dropped.
   * Throws the append's error when dropping cannot help (the whole outbox is smaller than the
   * append: the disk is full of something else) or when the drop itself fails.
   */
  private dropForSpace(neededBytes: number, appendRecords: number, appendCause: unknown): number {
    const pageSize = this.db.pragma('page_size', { simple: true }) as number;
    const fail = (why: string, cause: unknown): Error =>
      new Error(`outbox ${this.path}: append of ${appendRecords} record(s) failed, nothing was stored (disk full; ${why}): ${messageOf(cause)}`, { cause });
    if (this.waiting.bytes < neededBytes) throw fail(`the ${this.waiting.records} waiting record(s) are too small to make room, none dropped`, appendCause);
    let dropped: DiskFullDrop | null;
    try {
      dropped = this.dropForSpaceTx.immediate(neededBytes + pageSize * (appendRecords + 1));
    } catch (dropCause) {
      throw fail(`dropping the oldest records failed as well`, dropCause);
    }
    if (!dropped) throw fail('nothing to drop', appendCause);
    this.meta = dropped.meta;
    this.waiting.records = dropped.waiting.records;
    this.waiting.readings = dropped.waiting.readings;
    this.waiting.bytes = dropped.waiting.bytes;
    this.oldestDirty = true;
    const { summary } = dropped;
    this.logger.warn(
      { path: this.path, reason: 'disk-full', droppedRecords: summary.records, droppedReadings: summary.readings, firstSeq: summary.firstSeq, lastSeq: summary.lastSeq, err: messageOf(appendCause) },
      `outbox disk full: dropped the ${summary.records} oldest record(s), seq ${summary.firstSeq}..${summary.lastSeq}, to make room for new data`,
    );
    return summary.records;
  }

  private dropForSpaceInTransaction(targetBytes: number): DiskFullDrop | null {
    const waiting = { ...this.waiting };
    const minRecords = Math.max(1, Math.ceil(waiting.records * DISK_FULL_MIN_DROP_FRACTION));
    let freedBytes = 0;
    let lastDroppedId = 0;
    let summary: DropSummary | null = null;
    scan: for (;;) {
      const candidates = this.selectDropCandidates.all(lastDroppedId, Number.MAX_SAFE_INTEGER) as DropCandidate[];
      if (candidates.length === 0) break;
      for (const row of candidates) {
        if (summary && freedBytes >= targetBytes && summary.records >= minRecords) break scan;
        const readings = row.last_seq - row.first_seq + 1;
        summary ??= { records: 0, readings: 0, firstSeq: row.first_seq, lastSeq: row.last_seq };
        summary.records += 1;
        summary.readings += readings;
        summary.lastSeq = row.last_seq;
        freedBytes += row.bytes;
        waiting.records -= 1;
        waiting.readings -= readings;
        waiting.bytes -= row.bytes;
        lastDroppedId = row.id;
      }
    }
    if (!summary) return null;
    this.deleteUpTo.run(lastDroppedId);
    const meta = { ...this.meta, dropped_records: this.meta.dropped_records + summary.records, dropped_readings: this.meta.dropped_readings + summary.readings };
    this.updateMeta.run(meta);
    return { summary, meta, waiting };
  }

  private ackInTransaction(batch: readonly Pick<StoredRecord, 'id'>[]): Waiting {
    const removed: Waiting = { records: 0, readings: 0, bytes: 0 };
    for (const { id } of batch) {
      const row = this.deleteById.get(id) as { readings: number; bytes: number } | undefined;
      if (!row) continue;
      removed.records += 1;
      removed.readings += row.readings;
      removed.bytes += row.bytes;
    }
    if (removed.records > 0) {
      this.updateMeta.run({
        ...this.meta,
        acked_records: this.meta.acked_records + removed.records,
        acked_readings: this.meta.acked_readings + removed.readings,
      });
    }
    return removed;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`outbox ${this.path}: used after close()`);
  }
}

interface DropSummary {
  records: number;
  readings: number;
  firstSeq: number;
  lastSeq: number;
}

interface DiskFullDrop {
  summary: DropSummary;
  meta: MetaRow;
  waiting: Waiting;
}

interface AppendResult {
  stored: StoredRecord[];
  meta: MetaRow;
  streams: Map<string, number>;
  waiting: Waiting;
  dropped: DropSummary | null;
}

function messageOf(cause: unknown): string {
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${cause.message}` : cause.message;
  }
  return String(cause);
}

/**
 * Creates the meta row with a fresh outbox id for a new file, and gives a file from schema 1 (no
 * id yet) its id. Runs as a write transaction, which also takes the exclusive lock at open.
 */
function migrateMeta(db: Database.Database): void {
  const columns = (db.prepare('PRAGMA table_info(meta)').all() as { name: string }[]).map((c) => c.name);
  db.transaction(() => {
    if (!columns.includes('outbox_id')) db.exec('ALTER TABLE meta ADD COLUMN outbox_id TEXT');
    const id = newOutboxId();
    db.prepare(`INSERT OR IGNORE INTO meta VALUES (1, ${SCHEMA_VERSION}, 1, 0, 0, 0, 0, 0, 0, ?)`).run(id);
    db.prepare(`UPDATE meta SET outbox_id = ?, schema_version = ${SCHEMA_VERSION} WHERE id = 1 AND outbox_id IS NULL`).run(id);
  }).immediate();
}

/** 16 hex characters (64 random bits). */
function newOutboxId(): string {
  return randomUUID().replace(/-/g, '').slice(0, 16);
}

function sqliteCode(cause: unknown): string {
  const code = (cause as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

function isLocked(cause: unknown): boolean {
  return sqliteCode(cause).startsWith('SQLITE_BUSY') || /database is locked/i.test(messageOf(cause));
}

/**
 * Whether a failed write means the disk is full: SQLITE_FULL (ENOSPC on write, or the page limit),
 * or an SQLITE_IOERR while the file system has less than `neededBytes` plus some headroom left.
 * `freeBytes` is injectable for tests.
 */
export function isDiskFull(cause: unknown, path: string, neededBytes: number, freeBytes: (dir: string) => number = freeBytesIn): boolean {
  const code = sqliteCode(cause);
  if (code === 'SQLITE_FULL') return true;
  if (!code.startsWith('SQLITE_IOERR')) return false;
  try {
    return freeBytes(dirname(path)) < neededBytes + DISK_FULL_HEADROOM_BYTES;
  } catch {
    return false;
  }
}

function freeBytesIn(dir: string): number {
  const stats = statfsSync(dir);
  return stats.bavail * stats.bsize;
}

/**
 * Opens (creating if needed) the outbox file and locks it for this process. Throws an error naming
 * the path if it is not a usable SQLite outbox, or if another process holds it.
 */
export function openSqliteOutbox(options: SqliteOutboxOptions): SqliteOutbox {
  return new SqliteOutbox(options);
}
