import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A virtual serial cable: two pseudo-terminals joined by socat, reached through stable symlinks.
 * Bytes written to `a` come out of `b` and back. `stop` kills socat — the "port vanishes": the links
 * disappear and a serial port open on either end sees its device hang up (it closes with a
 * disconnect error, or its next write fails with EIO). `restart` starts socat again behind the same
 * link paths (the /dev/pts numbers may differ): the "port comes back" and must be opened again.
 */
export interface PtyPair {
  /** Symlink to one end (for example the simulator's side). */
  readonly a: string;
  /** Symlink to the other end (the master's side). */
  readonly b: string;
  /** The directory holding the links. */
  readonly dir: string;
  stop(): Promise<void>;
  restart(): Promise<void>;
  /** Stops socat and removes the directory if this helper created it. */
  close(): Promise<void>;
}

export const SOCAT_BIN = 'socat';

/** Whether socat can be run here. */
export function socatAvailable(): boolean {
  const result = spawnSync(SOCAT_BIN, ['-V'], { stdio: 'ignore' });
  return result.error === undefined && result.status === 0;
}

/** Whether a missing socat must fail the serial tests instead of skipping them (CI sets ALLBIT_REQUIRE_SOCAT). */
export function socatRequired(): boolean {
  const value = process.env.ALLBIT_REQUIRE_SOCAT;
  return value !== undefined && value !== '' && value !== '0';
}

const READY_TIMEOUT_MS = 10_000;

/**
 * Starts socat with two raw, echo-less ptys linked at `<dir>/a` and `<dir>/b` (`dir` defaults to a
 * fresh temporary directory, removed by `close`). Resolves once both links exist and socat has
 * printed "starting data transfer loop" — by condition, never by a fixed sleep.
 */
export async function startPtyPair(dir?: string): Promise<PtyPair> {
  const ownDir = dir === undefined;
  const base = dir ?? mkdtempSync(join(tmpdir(), 'allbit-pty-'));
  if (!ownDir) mkdirSync(base, { recursive: true });
  const a = join(base, 'a');
  const b = join(base, 'b');
  let child: ChildProcess | undefined;

  async function launch(): Promise<void> {
    // leftovers of a socat that was killed hard would make socat refuse to create the links
    rmSync(a, { force: true });
    rmSync(b, { force: true });
    const proc = spawn(SOCAT_BIN, ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    let log = '';
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      let poll: NodeJS.Timeout | undefined;
      const finish = (err?: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        if (poll) clearTimeout(poll);
        proc.off('exit', onExit);
        proc.off('error', onError);
        if (err) reject(err);
        else resolve();
      };
      const check = (): void => {
        poll = undefined;
        if (settled) return;
        if (!/starting data transfer loop/.test(log)) return;
        if (existsSync(a) && existsSync(b)) return finish();
        poll = setTimeout(check, 5); // the message came first: re-check the links until they exist
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null): void =>
        finish(new Error(`socat exited (${signal ?? code}) before the pty pair was ready:\n${log}`));
      const onError = (err: Error): void => finish(new Error(`cannot run ${SOCAT_BIN} (apt-get install socat)`, { cause: err }));
      const deadline = setTimeout(() => finish(new Error(`socat not ready after ${READY_TIMEOUT_MS} ms:\n${log}`)), READY_TIMEOUT_MS);
      proc.stderr?.on('data', (chunk: Buffer) => {
        log += chunk.toString();
        check();
      });
      proc.once('exit', onExit);
      proc.once('error', onError);
    }).catch(async (err: unknown) => {
      await stop();
      throw err;
    });
  }

  async function stop(): Promise<void> {
    const proc = child;
    child = undefined;
    if (proc && proc.pid !== undefined && proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      proc.kill('SIGTERM'); // socat removes its links on SIGTERM
      await exited;
    }
    // the port has vanished: no path left behind, whatever way socat ended
    rmSync(a, { force: true });
    rmSync(b, { force: true });
  }

  await launch();
  return {
    a,
    b,
    dir: base,
    stop,
    async restart() {
      await stop();
      await launch();
    },
    async close() {
      await stop();
      if (ownDir) rmSync(base, { recursive: true, force: true });
    },
  };
}
