import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { isDiskFull, openSqliteOutbox, SqliteOutbox } from '../../../agent/buffer/sqlite-outbox.js';
import { silentLogger, type Logger } from '../../../agent/core/logger.js';
import type { StoredRecord } from '../../../agent/core/outbox.js';
import { bodyOfBytes, describeOutboxContract, record } from '../../contracts/outbox-contract.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'allbit-outbox-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describeOutboxContract('SqliteOutbox', ({ maxBytes }) => openSqliteOutbox({ path: join(tempDir(), 'outbox.db'), maxBytes, logger: silentLogger }));

function recordingLogger(): Logger & { warnings: { obj: object; msg?: string }[] } {
  const warnings: { obj: object; msg?: string }[] = [];
  const logger = {
    ...silentLogger,
    warnings,
    warn(obj: object, msg?: string) {
      warnings.push({ obj, msg });
    },
    child() {
      return logger;
    },
  };
  return logger;
}

describe('SqliteOutbox on disk', () => {
  it('continues sequence numbers and chains after reopening, with unacknowledged records still waiting', () => {
    const path = join(tempDir(), 'nested', 'dirs', 'outbox.db');
    const first = openSqliteOutbox({ path, maxBytes: 1 << 20, logger: silentLogger });
    const stored = first.append([record('a', 2, { x: 1 }), record('b', 3, { x: 2 }), record('a', 1, { x: 3 })]);
    first.ack([stored[0]]);
    const before = first.stats();
    first.close();

    const second = openSqliteOutbox({ path, maxBytes: 1 << 20, logger: silentLogger });
    try {
      expect(second.next(10)).toEqual(stored.slice(1));
      expect(second.stats()).toEqual(before);
      const [a, b] = second.append([record('a', 1), record('b', 1)]);
      expect(a.firstSeq).toBe(before.nextSeq);
      expect(a.prevSeq).toBe(stored[2].lastSeq);
      expect(b.prevSeq).toBe(stored[1].lastSeq);
      expect(a.id).toBeGreaterThan(stored[2].id);
    } finally {
      second.close();
    }
  });

  it('keeps chains and totals after the outbox emptied and was reopened', () => {
    const path = join(tempDir(), 'outbox.db');
    const first = openSqliteOutbox({ path, maxBytes: 1 << 20, logger: silentLogger });
    const stored = first.append([record('a', 4)]);
    first.ack(stored);
    first.close();
    const second = openSqliteOutbox({ path, maxBytes: 1 << 20, logger: silentLogger });
    try {
      const [next] = second.append([record('a', 1)]);
      expect(next.prevSeq).toBe(stored[0].lastSeq);
      expect(next.firstSeq).toBe(stored[0].lastSeq + 1);
      expect(second.stats()).toMatchObject({ appendedRecords: 2, ackedRecords: 1, records: 1 });
    } finally {
      second.close();
    }
  });

  it('persists drop counts and logs how many and which sequence range were dropped', () => {
    const path = join(tempDir(), 'outbox.db');
    const logger = recordingLogger();
    const outbox = openSqliteOutbox({ path, maxBytes: 1000, logger });
    const old = outbox.append([record('a', 2, bodyOfBytes(600)), record('a', 3, bodyOfBytes(500))]);
    outbox.append([record('a', 1, bodyOfBytes(600))]);
    outbox.close();
    expect(logger.warnings).toHaveLength(1);
    expect(logger.warnings[0].obj).toMatchObject({ droppedRecords: 2, droppedReadings: 5, firstSeq: old[0].firstSeq, lastSeq: old[1].lastSeq });
    expect(logger.warnings[0].msg).toContain(`seq ${old[0].firstSeq}..${old[1].lastSeq}`);
    const reopened = openSqliteOutbox({ path, maxBytes: 1000, logger: silentLogger });
    try {
      expect(reopened.stats()).toMatchObject({ droppedRecords: 2, droppedReadings: 5, records: 1, bytes: 600 });
    } finally {
      reopened.close();
    }
  });

  it('refuses a file that is not a SQLite database with an error naming the path, and leaves the file alone', () => {
    const path = join(tempDir(), 'not-a-db.db');
    const content = 'this is not sqlite '.repeat(100);
    writeFileSync(path, content);
    expect(() => openSqliteOutbox({ path, maxBytes: 1 << 20, logger: silentLogger })).toThrow(
      expect.objectContaining({ message: expect.stringMatching(new RegExp(`${escape(path)}.*not a database`)) }),
    );
    expect(statSync(path).size).toBe(content.length);
  });

  it('names the path when the directory cannot be created', () => {
    const dir = tempDir();
    const blocker = join(dir, 'file');
    writeFileSync(blocker, 'x');
    const path = join(blocker, 'sub', 'outbox.db');
    expect(() => openSqliteOutbox({ path, maxBytes: 1 << 20, logger: silentLogger })).toThrow(path);
  });

  it('a write that fails (disk full) throws an error naming the path and loses nothing already stored', () => {
    const path = join(tempDir(), 'outbox.db');
    const outbox = openSqliteOutbox({ path, maxBytes: 1 << 30, logger: silentLogger });
    try {
      const kept = outbox.append([record('a', 1, { small: true })]);
      const before = outbox.stats();
      // The one fake: SQLite reports SQLITE_FULL exactly as on a full disk once the page limit is hit.
      const db = (outbox as unknown as { db: Database.Database }).db;
      const pages = db.pragma('page_count', { simple: true }) as number;
      db.pragma(`max_page_count = ${pages}`);
      expect(() => outbox.append([record('a', 1, bodyOfBytes(64 * 1024))])).toThrow(
        expect.objectContaining({ message: expect.stringMatching(new RegExp(`${escape(resolve(path))}.*SQLITE_FULL`)) }),
      );
      expect(outbox.stats()).toEqual(before);
      expect(outbox.next(10)).toEqual(kept);
      db.pragma('max_page_count = 1073741823');
      const [after] = outbox.append([record('a', 1)]);
      expect(after.firstSeq).toBe(before.nextSeq);
      expect(after.prevSeq).toBe(kept[0].lastSeq);
    } finally {
      outbox.close();
    }
  });

  it('survives kill -9 of a process appending in a loop: every sequence append returned is there', async () => {
    const compiled = compiledOutbox();
    const dir = tempDir();
    const path = join(dir, 'outbox.db');
    const script = join(dir, 'child.mjs');
    writeFileSync(
      script,
      `import { openSqliteOutbox } from ${JSON.stringify(pathToFileURL(compiled).href)};
const silent = { debug() {}, info() {}, warn() {}, error() {}, child() { return silent; } };
const outbox = openSqliteOutbox({ path: process.argv[2], maxBytes: 1 << 30, logger: silent });
const body = { device: 'd', readings: 'x'.repeat(2000) };
for (let i = 0; ; i++) {
  const [stored] = outbox.append([{ stream: 'd' + (i % 3), kind: 'data', count: 3, body, createdMs: Date.now() }]);
  process.stdout.write(stored.lastSeq + '\\n');
  if (i % 50 === 0) await new Promise((r) => setImmediate(r));
}
`,
    );
    const child = spawn(process.execPath, [script, path], { stdio: ['ignore', 'pipe', 'pipe'] });
    const printed: number[] = [];
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    let partial = '';
    const exited = new Promise<NodeJS.Signals | null>((resolveExit) => child.on('exit', (_code, signal) => resolveExit(signal)));
    await new Promise<void>((resolveEnough, reject) => {
      child.on('exit', () => reject(new Error(`child exited early: ${stderr}`)));
      child.stdout.on('data', (chunk: Buffer) => {
        const lines = (partial + chunk.toString()).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) printed.push(Number(line));
        if (printed.length >= 300) {
          child.kill('SIGKILL');
          resolveEnough();
        }
      });
    });
    expect(await exited).toBe('SIGKILL');

    const outbox = openSqliteOutbox({ path, maxBytes: 1 << 30, logger: silentLogger });
    try {
      const present = new Set<number>();
      for (;;) {
        const batch = outbox.next(500);
        if (batch.length === 0) break;
        for (const r of batch) present.add(r.lastSeq);
        outbox.ack(batch);
      }
      const missing = printed.filter((seq) => !present.has(seq));
      expect(missing).toEqual([]);
      expect(present.size).toBeGreaterThanOrEqual(printed.length);
      // Sequence numbers keep going after the crash.
      const [after] = outbox.append([record('d0', 1)]);
      expect(after.firstSeq).toBeGreaterThan(Math.max(...present));
    } finally {
      outbox.close();
    }
  });

  it('is single-writer: a second open in the same process fails, naming the path, and the first keeps working', () => {
    const path = join(tempDir(), 'outbox.db');
    const first = openSqliteOutbox({ path, maxBytes: 1 << 20, logger: silentLogger });
    try {
      const before = first.append([record('a', 2)]);
      let error: unknown;
      try {
        openSqliteOutbox({ path, maxBytes: 1 << 20, logger: silentLogger }).close();
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toBe(inUseMessage(path));
      expect(((error as Error).cause as { code?: string }).code).toMatch(/^SQLITE_BUSY/);
      // The holder is unaffected: it reads what it had and its sequence continues.
      expect(first.next(10)).toEqual(before);
      const [after] = first.append([record('a', 1)]);
      expect(after.firstSeq).toBe(before[0].lastSeq + 1);
      expect(after.prevSeq).toBe(before[0].lastSeq);
    } finally {
      first.close();
    }
    // Once closed, the file opens again.
    const reopened = openSqliteOutbox({ path, maxBytes: 1 << 20, logger: silentLogger });
    expect(reopened.stats()).toMatchObject({ records: 2, appendedRecords: 2 });
    reopened.close();
  });

  it('is single-writer: another process cannot open an outbox this process holds, and takes it once it is released', async () => {
    const path = join(tempDir(), 'outbox.db');
    const holder = openSqliteOutbox({ path, maxBytes: 1 << 20, logger: silentLogger });
    let released = false;
    try {
      const before = holder.append([record('a', 3)]);
      expect(await openInChildProcess(path)).toBe(inUseMessage(path));
      expect(holder.next(10)).toEqual(before);
      const [after] = holder.append([record('a', 1)]);
      expect(after.firstSeq).toBe(before[0].lastSeq + 1);
      holder.close();
      released = true;
      expect(await openInChildProcess(path)).toBe('opened');
    } finally {
      if (!released) holder.close();
    }
    const reopened = openSqliteOutbox({ path, maxBytes: 1 << 20, logger: silentLogger });
    try {
      // Sequence numbers were never handed out twice: the child's record continued the counter.
      expect(reopened.next(10).map((r) => [r.stream, r.firstSeq, r.lastSeq])).toEqual([
        ['a', 1, 3],
        ['a', 4, 4],
        ['intruder', 5, 5],
      ]);
    } finally {
      reopened.close();
    }
  });

  it('is released by kill -9 of the process holding it', async () => {
    const dir = tempDir();
    const path = join(dir, 'outbox.db');
    const script = join(dir, 'hold.mjs');
    writeFileSync(
      script,
      `import { openSqliteOutbox } from ${JSON.stringify(pathToFileURL(compiledOutbox()).href)};
const silent = { debug() {}, info() {}, warn() {}, error() {}, child() { return silent; } };
const outbox = openSqliteOutbox({ path: process.argv[2], maxBytes: 1 << 20, logger: silent });
outbox.append([{ stream: 'd', kind: 'data', count: 2, body: {}, createdMs: 1 }]);
process.stdout.write('holding');
setInterval(() => {}, 1000);
`,
    );
    const child = spawn(process.execPath, [script, path], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<NodeJS.Signals | null>((resolveExit) => child.on('exit', (_code, signal) => resolveExit(signal)));
    await new Promise<void>((resolveHolding, reject) => {
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('exit', () => reject(new Error(`child exited early: ${stderr}`)));
      child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('holding') && resolveHolding());
    });
    expect(() => openSqliteOutbox({ path, maxBytes: 1 << 20, logger: silentLogger })).toThrow(inUseMessage(path));
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const outbox = openSqliteOutbox({ path, maxBytes: 1 << 20, logger: silentLogger });
    try {
      expect(outbox.next(10).map((r) => [r.firstSeq, r.lastSeq])).toEqual([[1, 2]]);
    } finally {
      outbox.close();
    }
  });

  it('gives a new file a random outbox id and keeps it across reopening', () => {
    const path = join(tempDir(), 'outbox.db');
    const first = openSqliteOutbox({ path, maxBytes: 1 << 20, logger: silentLogger });
    const id = first.outboxId;
    expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(first.stats().outboxId).toBe(id);
    first.append([record('a')]);
    first.close();
    const again = openSqliteOutbox({ path, maxBytes: 1 << 20, logger: silentLogger });
    expect(again.stats().outboxId).toBe(id);
    again.close();
    // The same path after the file was deleted is a new outbox: consumers must reset.
    for (const suffix of ['', '-wal']) rmSync(path + suffix, { force: true });
    const fresh = openSqliteOutbox({ path, maxBytes: 1 << 20, logger: silentLogger });
    expect(fresh.stats()).toMatchObject({ nextSeq: 1, appendedRecords: 0 });
    expect(fresh.outboxId).not.toBe(id);
    fresh.close();
  });

  it('gives a file from before outbox ids (schema 1) an id, keeping its records and counters', () => {
    const path = join(tempDir(), 'outbox.db');
    const old = new Database(path);
    old.pragma('journal_mode = WAL');
    old.exec(`
      CREATE TABLE records (id INTEGER PRIMARY KEY AUTOINCREMENT, stream TEXT NOT NULL, kind TEXT NOT NULL, first_seq INTEGER NOT NULL,
        last_seq INTEGER NOT NULL, prev_seq INTEGER, created_ms INTEGER NOT NULL, body TEXT NOT NULL, bytes INTEGER NOT NULL);
      CREATE TABLE meta (id INTEGER PRIMARY KEY CHECK (id = 1), schema_version INTEGER NOT NULL, next_seq INTEGER NOT NULL,
        appended_records INTEGER NOT NULL, appended_readings INTEGER NOT NULL, acked_records INTEGER NOT NULL, acked_readings INTEGER NOT NULL,
        dropped_records INTEGER NOT NULL, dropped_readings INTEGER NOT NULL);
      INSERT INTO meta VALUES (1, 1, 8, 2, 7, 1, 3, 0, 0);
      CREATE TABLE streams (stream TEXT PRIMARY KEY, last_seq INTEGER NOT NULL) WITHOUT ROWID;
      INSERT INTO streams VALUES ('a', 7);
      INSERT INTO records VALUES (2, 'a', 'data', 4, 7, 3, 100, '"body"', 6);
    `);
    old.close();
    const outbox = openSqliteOutbox({ path, maxBytes: 1 << 20, logger: silentLogger });
    try {
      expect(outbox.stats()).toMatchObject({ records: 1, readings: 4, nextSeq: 8, appendedRecords: 2, ackedRecords: 1 });
      expect(outbox.outboxId).toMatch(/^[0-9a-f]{16}$/);
      const [next] = outbox.append([record('a')]);
      expect([next.firstSeq, next.prevSeq]).toEqual([8, 7]);
    } finally {
      outbox.close();
    }
    const reopened = openSqliteOutbox({ path, maxBytes: 1 << 20, logger: silentLogger });
    const id = reopened.outboxId;
    reopened.close();
    const again = openSqliteOutbox({ path, maxBytes: 1 << 20, logger: silentLogger });
    expect(again.outboxId).toBe(id);
    again.close();
  });

  it('on a full disk drops the oldest records (counted and logged like the size cap) and stores the newest', () => {
    const path = join(tempDir(), 'outbox.db');
    const logger = recordingLogger();
    const outbox = openSqliteOutbox({ path, maxBytes: 1 << 30, logger });
    try {
      const old: StoredRecord[] = [];
      for (let i = 0; i < 20; i++) old.push(...outbox.append([record(i % 2 ? 'b' : 'a', 2, bodyOfBytes(16 * 1024))]));
      // SQLite reports SQLITE_FULL exactly as on a full disk once the page limit is hit.
      const db = (outbox as unknown as { db: Database.Database }).db;
      db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
      const [fresh] = outbox.append([record('a', 3, bodyOfBytes(16 * 1024))]);

      const stats = outbox.stats();
      expect(stats.droppedRecords).toBeGreaterThanOrEqual(1);
      expect(stats.droppedReadings).toBe(2 * stats.droppedRecords);
      const dropped = old.slice(0, stats.droppedRecords);
      const kept = old.slice(stats.droppedRecords);
      expect(outbox.next(100)).toEqual([...kept, fresh]);
      expect(stats).toMatchObject({ records: kept.length + 1, readings: 2 * kept.length + 3, bytes: (kept.length + 1) * 16 * 1024, nextSeq: fresh.lastSeq + 1 });
      expect(fresh.firstSeq).toBe(old.at(-1)!.lastSeq + 1);
      expect(fresh.prevSeq).toBe(old.at(-2)!.lastSeq);
      const warning = logger.warnings.find((w) => (w.obj as { reason?: string }).reason === 'disk-full');
      expect(warning?.obj).toMatchObject({ droppedRecords: dropped.length, firstSeq: dropped[0].firstSeq, lastSeq: dropped.at(-1)!.lastSeq });
      expect(warning?.msg).toContain(`seq ${dropped[0].firstSeq}..${dropped.at(-1)!.lastSeq}`);
      outbox.close();
      const reopened = openSqliteOutbox({ path, maxBytes: 1 << 30, logger: silentLogger });
      expect(reopened.stats()).toEqual(stats);
      reopened.close();
    } finally {
      outbox.close();
    }
  });

  it('on a disk that stays full after the drop, throws the contextual error and counts what it dropped', () => {
    const path = join(tempDir(), 'outbox.db');
    const logger = recordingLogger();
    const outbox = openSqliteOutbox({ path, maxBytes: 1 << 30, logger });
    try {
      for (let i = 0; i < 4; i++) outbox.append([record('a', 1, bodyOfBytes(8 * 1024))]);
      // The fake for a disk that stays full (something else fills it): every append transaction
      // fails with SQLite's own disk-full error; the drop runs against the real file.
      const full = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
      (outbox as unknown as { appendTx: { immediate(): never } }).appendTx = {
        immediate() {
          throw full;
        },
      };
      expect(() => outbox.append([record('a', 1, bodyOfBytes(6 * 1024))])).toThrow(
        expect.objectContaining({
          message: expect.stringMatching(new RegExp(`^outbox ${escape(resolve(path))}: append of 1 record\\(s\\) failed, nothing was stored \\(disk full; 2 oldest record\\(s\\) dropped .*SQLITE_FULL`)),
          cause: full,
        }),
      );
      // 6 KB plus row overhead needs two 8 KB records; they stay dropped and counted.
      expect(outbox.stats()).toMatchObject({ droppedRecords: 2, droppedReadings: 2, records: 2 });
      expect(outbox.next(10)).toHaveLength(2);
      expect(logger.warnings.some((w) => (w.obj as { reason?: string }).reason === 'disk-full')).toBe(true);
    } finally {
      outbox.close();
    }
  });

  it('treats SQLITE_FULL, and an I/O error while the file system is (nearly) full, as a full disk', () => {
    const sqliteError = (code: string) => Object.assign(new Error('boom'), { code });
    const free = (bytes: number) => () => bytes;
    expect(isDiskFull(sqliteError('SQLITE_FULL'), '/x/o.db', 100, free(1 << 30))).toBe(true);
    expect(isDiskFull(sqliteError('SQLITE_IOERR_FSYNC'), '/x/o.db', 100, free(4096))).toBe(true);
    expect(isDiskFull(sqliteError('SQLITE_IOERR_WRITE'), '/x/o.db', 100, free(1 << 30))).toBe(false);
    expect(isDiskFull(sqliteError('SQLITE_CORRUPT'), '/x/o.db', 100, free(0))).toBe(false);
    expect(isDiskFull(new Error('no code'), '/x/o.db', 100, free(0))).toBe(false);
    expect(isDiskFull(sqliteError('SQLITE_IOERR'), '/x/o.db', 100, () => {
      throw new Error('statfs failed');
    })).toBe(false);
  });

  it('is an SqliteOutbox from the factory', () => {
    const outbox = openSqliteOutbox({ path: join(tempDir(), 'o.db'), maxBytes: 1 << 20, logger: silentLogger });
    expect(outbox).toBeInstanceOf(SqliteOutbox);
    outbox.close();
    expect(() => outbox.stats()).toThrow(/after close/);
  });
});

/** The built module, for tests that need a second process. */
function compiledOutbox(): string {
  const compiled = resolve('dist/agent/buffer/sqlite-outbox.js');
  const source = resolve('agent/buffer/sqlite-outbox.ts');
  if (!existsSync(compiled) || statSync(compiled).mtimeMs < statSync(source).mtimeMs) {
    throw new Error(`${compiled} is missing or older than its source: run \`npm run build\` first (npm test does)`);
  }
  return compiled;
}

/** Runs `openSqliteOutbox` on `path` in a child process; resolves with what it printed: 'opened' or the error message. */
async function openInChildProcess(path: string): Promise<string> {
  const dir = tempDir();
  const script = join(dir, 'open.mjs');
  writeFileSync(
    script,
    `import { openSqliteOutbox } from ${JSON.stringify(pathToFileURL(compiledOutbox()).href)};
const silent = { debug() {}, info() {}, warn() {}, error() {}, child() { return silent; } };
try {
  const outbox = openSqliteOutbox({ path: process.argv[2], maxBytes: 1 << 20, logger: silent });
  outbox.append([{ stream: 'intruder', kind: 'data', count: 1, body: {}, createdMs: 1 }]);
  outbox.close();
  process.stdout.write('opened');
} catch (error) {
  process.stdout.write(error.message);
}
`,
  );
  const child = spawn(process.execPath, [script, path], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolveExit) => child.on('exit', (exitCode) => resolveExit(exitCode)));
  if (code !== 0) throw new Error(`child exited with ${code}: ${stderr}`);
  return stdout;
}

function inUseMessage(path: string): string {
  return `outbox ${resolve(path)} is in use by another process (is another allbit agent running with this buffer.path?)`;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
