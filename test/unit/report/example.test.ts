import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { exampleReport } from './example.js';

it('docs/reports.md shows the Markdown this code renders for the realistic example', () => {
  const dir = mkdtempSync(join(tmpdir(), 'allbit-example-'));
  try {
    const { markdown } = exampleReport(join(dir, 'history.db'));
    if (process.env.PRINT_EXAMPLE) process.stdout.write(`${markdown}\n`);
    const docs = readFileSync(new URL('../../../docs/reports.md', import.meta.url), 'utf8');
    expect(docs).toContain(markdown);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
