import { pino } from 'pino';
import type { Logger } from './core/logger.js';

/** The agent's logger: JSON lines on stdout (what journald and log shippers want), secrets never included. */
export function createLogger(level: 'debug' | 'info' | 'warn' | 'error', destination: NodeJS.WritableStream = process.stdout): Logger {
  return pino(
    {
      level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: ['password', '*.password', 'key', '*.key'], censor: '[redacted]' },
    },
    destination as unknown as pino.DestinationStream,
  ) as unknown as Logger;
}
