import type { z } from 'zod';

/** One problem found in a config: where (a path such as devices[2].tags[5].type) and what. */
export interface ConfigIssue {
  path: string;
  message: string;
  /** 1-based line in the file, when known. */
  line?: number;
}

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly issues: ConfigIssue[],
  ) {
    super(`${file}: ${issues.length} problem${issues.length === 1 ? '' : 's'}\n${issues.map((i) => `  ${formatIssue(i)}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function formatIssue(issue: ConfigIssue): string {
  const where = issue.line ? `${issue.path || '(root)'} (line ${issue.line})` : issue.path || '(root)';
  return `${where}: ${issue.message}`;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `"${value}"`;
  return `${typeof value} ${String(value)}`;
}

/** Turns zod issues into plain-language problems with paths a technician can find in the YAML. */
export function fromZodIssues(issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[] = []): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    const input = (issue as { input?: unknown }).input;
    switch (issue.code) {
      case 'invalid_value': {
        const values = issue.values.map(String);
        const expected = values.length === 1 ? `expected "${values[0]}"` : `expected one of ${values.join(', ')}`;
        out.push({ path: formatPath(path), message: `${expected}, got ${describe(input)}` });
        break;
      }
      case 'invalid_type':
        out.push({
          path: formatPath(path),
          message: input === undefined ? `required (${issue.expected})` : `expected ${issue.expected}, got ${describe(input)}`,
        });
        break;
      case 'unrecognized_keys':
        for (const key of issue.keys) out.push({ path: formatPath([...path, key]), message: 'unknown setting (check the spelling; see config/allbit.schema.json)' });
        break;
      case 'invalid_union':
        out.push({ path: formatPath(path), message: `${issue.message}: got ${describe(input)}` });
        break;
      default:
        out.push({ path: formatPath(path), message: input === undefined ? issue.message : `${issue.message}, got ${describe(input)}` });
    }
  }
  return out;
}
