import { z } from 'zod';
import { configSchema } from './schema.js';

/** The JSON Schema of the config file, generated from the zod schema (what a user writes, so input types). */
export function configJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }),
    $id: 'https://allbit.dev/schema/allbit.schema.json',
    title: 'allbit gateway configuration',
  };
}
