/**
 * Headless Chromium for the status page's end-to-end tests: Debian's /usr/bin/chromium driven by
 * playwright-core. Without it the tests skip with a message — unless ALLBIT_REQUIRE_CHROMIUM=1
 * (CI), where a missing browser fails them.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { PACKAGE_ROOT } from '../../config/package-root.js';

export const CHROMIUM = '/usr/bin/chromium';
export const chromiumAvailable = existsSync(CHROMIUM);
export const chromiumRequired = process.env.ALLBIT_REQUIRE_CHROMIUM === '1';
/** Screenshots and other artifacts of a test run (gitignored). */
export const ARTIFACTS = join(PACKAGE_ROOT, 'test-artifacts');

if (!chromiumAvailable && !chromiumRequired) console.warn(`status page e2e skipped: ${CHROMIUM} not found (apt-get install chromium; set ALLBIT_REQUIRE_CHROMIUM=1 to make this a failure)`);

/** The number the device page holds for a tag (data-raw: the value before display formatting); null when it shows none. */
export async function shownValue(page: Page, tag: string): Promise<number | null> {
  const raw = await page.locator(`#tag-rows tr[data-tag="${tag}"] td.val`).getAttribute('data-raw');
  return raw === null ? null : Number(raw);
}
