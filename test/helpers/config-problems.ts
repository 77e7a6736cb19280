import { expect } from 'vitest';
import { ConfigError, formatIssue } from '../../config/issues.js';
import { loadConfigText } from '../../config/load.js';

/** Loads a config that must be refused; returns every problem as the CLI prints it ("path (line N): message"). */
export function configProblems(text: string, path: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    loadConfigText(text, path, { env });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues.map(formatIssue);
  }
  throw new Error('expected the config to be rejected');
}
