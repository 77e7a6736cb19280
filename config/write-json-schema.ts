/** `npm run schema`: regenerates config/allbit.schema.json from the zod schema. */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { configJsonSchema } from './json-schema.js';

const target = fileURLToPath(new URL('../../config/allbit.schema.json', import.meta.url));
writeFileSync(target, JSON.stringify(configJsonSchema(), null, 2) + '\n');
console.log(`wrote ${target}`);
