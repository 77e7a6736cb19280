import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configJsonSchema } from '../../../config/json-schema.js';
import { PACKAGE_ROOT } from '../../../config/package-root.js';

describe('config/allbit.schema.json', () => {
  it('is the schema generated from config/schema.ts (run `npm run schema` after changing it)', () => {
    const committed = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'config', 'allbit.schema.json'), 'utf8'));
    expect(committed).toEqual(configJsonSchema());
  });

  it('describes what an editor needs to autocomplete a device', () => {
    const schema = configJsonSchema() as { properties: { devices: { items: { properties: Record<string, unknown> } } } };
    expect(Object.keys(schema.properties.devices.items.properties)).toEqual(expect.arrayContaining(['id', 'profile', 'host', 'port', 'unitId', 'tags', 'exclude']));
  });
});
