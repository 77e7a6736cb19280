import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../config/package-root.js';

/**
 * The status page's files: agent/status/page/ (index.html, app.js, app.css — plain JS and CSS, no
 * build step) and uPlot from node_modules, all served by the gateway itself so the page works with
 * no internet. Read once at start; found from the package root, so the same in dist/ and in tests.
 */
export interface PageAsset {
  /** Under /assets/. */
  path: string;
  contentType: string;
  body: Buffer;
}

export const PAGE_DIR = join(PACKAGE_ROOT, 'agent', 'status', 'page');

export function loadPageAssets(): { indexHtml: string; assets: PageAsset[] } {
  const require = createRequire(join(PACKAGE_ROOT, 'package.json'));
  const read = (path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (cause) {
      throw new Error(`status page: cannot read ${path}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`, { cause });
    }
  };
  const uplot = (file: string): string => {
    try {
      return require.resolve(`uplot/dist/${file}`);
    } catch (cause) {
      throw new Error(`status page: the chart library uplot is not installed (${file})`, { cause });
    }
  };
  return {
    indexHtml: read(join(PAGE_DIR, 'index.html')).toString('utf8'),
    assets: [
      { path: 'app.js', contentType: 'text/javascript; charset=utf-8', body: read(join(PAGE_DIR, 'app.js')) },
      { path: 'app.css', contentType: 'text/css; charset=utf-8', body: read(join(PAGE_DIR, 'app.css')) },
      { path: 'uPlot.iife.min.js', contentType: 'text/javascript; charset=utf-8', body: read(uplot('uPlot.iife.min.js')) },
      { path: 'uPlot.min.css', contentType: 'text/css; charset=utf-8', body: read(uplot('uPlot.min.css')) },
    ],
  };
}
