import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteOutbox, SqliteOutbox } from '../../../agent/buffer/sqlite-outbox.js';
import { silentLogger, type Logger } from '../../../agent/core/logger.js';
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
    const compiled = resolve('dist/agent/buffer/sqlite-outbox.js');
    const source = resolve('agent/buffer/sqlite-outbox.ts');
    if (!existsSync(compiled) || statSync(compiled).mtimeMs < statSync(source).mtimeMs) {
      throw new Error(`${compiled} is missing or older than its source: run \`npm run build\` first (npm test does)`);
    }
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

  it('is an SqliteOutbox from the factory', () => {
    const outbox = openSqliteOutbox({ path: join(tempDir(), 'o.db'), maxBytes: 1 << 20, logger: silentLogger });
    expect(outbox).toBeInstanceOf(SqliteOutbox);
    outbox.close();
    expect(() => outbox.stats()).toThrow(/after close/);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
