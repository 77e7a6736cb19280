/** Starting the bench's helper processes (compiled siblings in dist/bench/) and talking to them over IPC. */
import { fork, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));

/** Forks `dist/bench/<script>` and resolves with it and its first message of type `readyType`. */
export function forkHelper<T>(
  script: string,
  args: string[],
  readyType: string,
  timeoutMs = 30_000,
  onOther?: (message: { type?: string }) => void,
): Promise<{ child: ChildProcess; message: T }> {
  const child = fork(join(BENCH_DIR, script), args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`bench: ${script} did not report "${readyType}" within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (m: { type?: string }) => {
      if (m?.type !== readyType) {
        onOther?.(m);
        return;
      }
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve({ child, message: m as T });
    };
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`bench: ${script} exited with ${code} before reporting "${readyType}"`));
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Waits for the next IPC message of `type` from `child`. */
export function nextMessage<T>(child: ChildProcess, type: string, timeoutMs = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', onMessage);
      reject(new Error(`bench: no "${type}" message within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (m: { type?: string }) => {
      if (m?.type !== type) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(m as T);
    };
    child.on('message', onMessage);
  });
}

/** Asks a helper to stop, and kills it (by its own pid) if it has not exited within `timeoutMs`. */
export async function stopHelper(child: ChildProcess, timeoutMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (child.connected) child.send({ type: 'stop' });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
}
