import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The folder of allbit's package.json, found by walking up from this file — the same answer
 * whether the code runs compiled (dist/config/) or from source (config/, as in tests).
 */
export const PACKAGE_ROOT: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'config', 'profiles'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the allbit package root above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
})();
