import type { Logger } from '../../agent/core/logger.js';

/** A logger that keeps every line ("message {fields}"), to check what reaches the log (never a password). */
export function recordingLogger(lines: string[]): Logger {
  const logger: Logger = {
    debug: (o, m) => lines.push(`${m} ${JSON.stringify(o)}`),
    info: (o, m) => lines.push(`${m} ${JSON.stringify(o)}`),
    warn: (o, m) => lines.push(`${m} ${JSON.stringify(o)}`),
    error: (o, m) => lines.push(`${m} ${JSON.stringify(o)}`),
    child: () => logger,
  };
  return logger;
}
