/**
 * Saving reports locally: `<dir>/<date>.json` and `<dir>/<date>.md`, each written to a temporary
 * file, flushed to disk and renamed over the target, so a reader (or a crash) never sees half a
 * report. Keeps the newest `keepDays` report dates and deletes older ones. A failure throws an
 * error naming the path; recording the run is the caller's decision.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DailyReport } from './types.js';

export const DEFAULT_KEEP_DAYS = 90;
const REPORT_FILE = /^(\d{4}-\d{2}-\d{2})\.(json|md)$/;

export interface SavedReport {
  jsonPath: string;
  markdownPath: string;
  /** Files deleted because they were older than the newest keepDays dates. */
  deleted: string[];
}

function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (cause) {
    rmSync(tmp, { force: true });
    throw new Error(`daily report: cannot write ${path}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`, { cause });
  }
}

export function saveReport(dir: string, report: DailyReport, markdown: string, options: { keepDays?: number } = {}): SavedReport {
  const keepDays = options.keepDays ?? DEFAULT_KEEP_DAYS;
  if (!(Number.isInteger(keepDays) && keepDays >= 1)) throw new Error(`daily report: keepDays must be an integer ≥ 1, got ${String(options.keepDays)}`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(report.window.date)) throw new Error(`daily report: window date "${report.window.date}" is not YYYY-MM-DD`);
  const folder = resolve(dir);
  try {
    mkdirSync(folder, { recursive: true });
  } catch (cause) {
    throw new Error(`daily report: cannot create the folder ${folder}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`, { cause });
  }
  const jsonPath = join(folder, `${report.window.date}.json`);
  const markdownPath = join(folder, `${report.window.date}.md`);
  writeAtomic(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
  writeAtomic(markdownPath, markdown.endsWith('\n') ? markdown : `${markdown}\n`);

  // Retention by count of report dates, not by the clock: a clock that jumped does not wipe the folder.
  const deleted: string[] = [];
  const files = readdirSync(folder).filter((f) => REPORT_FILE.test(f));
  const dates = [...new Set(files.map((f) => REPORT_FILE.exec(f)![1]!))].sort().reverse();
  const keep = new Set(dates.slice(0, keepDays));
  for (const f of files) {
    if (keep.has(REPORT_FILE.exec(f)![1]!)) continue;
    const path = join(folder, f);
    try {
      rmSync(path);
      deleted.push(path);
    } catch {
      // Retention is best effort; the next save tries again.
    }
  }
  return { jsonPath, markdownPath, deleted: deleted.sort() };
}
