import type { ResolvedConfig } from '../config/load.js';
import { createLogger } from './logging.js';
import { startAgent } from './runtime.js';

/** `allbit run`: start the agent and stop it cleanly on SIGINT/SIGTERM (a second signal forces exit). */
export async function runUntilSignal(config: ResolvedConfig, options: { logLevel?: string; version: string; err: NodeJS.WritableStream }): Promise<number> {
  const level = (options.logLevel ?? config.log.level) as 'debug' | 'info' | 'warn' | 'error';
  const logger = createLogger(level);
  let agent;
  try {
    agent = await startAgent({ config, logger, version: options.version });
  } catch (err) {
    options.err.write(`allbit: cannot start: ${(err as Error).message}\n`);
    return 1;
  }
  await waitForSignal(() => options.err.write('allbit: stopping (send the signal again to force)\n'));
  await agent.stop();
  return 0;
}

export function waitForSignal(onFirst: () => void): Promise<void> {
  return new Promise((resolve) => {
    let count = 0;
    const handler = (): void => {
      count++;
      if (count === 1) {
        onFirst();
        resolve();
      } else {
        process.exit(130);
      }
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
  });
}
