import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildDailyReport, renderReportMarkdown, saveReport, type DailyReport } from '../../../agent/report/index.js';
import { smallFixture } from './fixtures.js';

describe('saveReport', () => {
  let dir: string;
  const report = buildDailyReport(smallFixture());
  const markdown = renderReportMarkdown(report);
  const dated = (date: string): DailyReport => ({ ...report, window: { ...report.window, date } });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'allbit-reports-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes <date>.json and <date>.md, with no temporary files left', () => {
    const saved = saveReport(join(dir, 'reports'), report, markdown);
    expect(saved.jsonPath).toBe(join(dir, 'reports', '2026-06-10.json'));
    expect(JSON.parse(readFileSync(saved.jsonPath, 'utf8'))).toEqual(report);
    expect(readFileSync(saved.markdownPath, 'utf8')).toBe(markdown.endsWith('\n') ? markdown : `${markdown}\n`);
    expect(readdirSync(join(dir, 'reports')).sort()).toEqual(['2026-06-10.json', '2026-06-10.md']);
  });

  it('replaces a report of the same date (a caught-up run again)', () => {
    saveReport(dir, report, 'old');
    saveReport(dir, report, 'new');
    expect(readFileSync(join(dir, '2026-06-10.md'), 'utf8')).toBe('new\n');
  });

  it('keeps the newest keepDays report dates and leaves other files alone', () => {
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    for (const date of ['2026-06-01', '2026-06-02', '2026-06-03', '2026-06-04']) saveReport(dir, dated(date), markdown, { keepDays: 2 });
    expect(readdirSync(dir).sort()).toEqual(['2026-06-03.json', '2026-06-03.md', '2026-06-04.json', '2026-06-04.md', 'notes.txt']);
  });

  it('fails with an error naming the path when the disk refuses, leaving nothing half-written', () => {
    // A directory where the file should go: the rename fails.
    const blocked = join(dir, 'blocked');
    const target = join(blocked, '2026-06-10.json');
    mkdirSync(join(target, 'inside'), { recursive: true });
    expect(() => saveReport(blocked, report, markdown)).toThrow(`daily report: cannot write ${target}:`);
    expect(readdirSync(blocked).filter((f) => f.includes('.tmp-'))).toEqual([]);
    // A file where the folder should be.
    writeFileSync(join(dir, 'file'), '');
    expect(() => saveReport(join(dir, 'file', 'reports'), report, markdown)).toThrow(`daily report: cannot create the folder ${join(dir, 'file', 'reports')}`);
    expect(existsSync(join(dir, 'file'))).toBe(true);
  });
});
