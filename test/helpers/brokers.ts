import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes, type AedesOptions } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';

/** A broker a test owns. `stop` takes it off the network (connections cut), `restart` brings it back on the same port. */
export interface TestBroker {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
  restart(): Promise<void>;
  close(): Promise<void>;
}

export interface AedesBroker extends TestBroker {
  readonly broker: Aedes;
}

/**
 * aedes in-process on an ephemeral port. The broker instance (retained messages, persistent
 * sessions) survives `stop`/`restart`; only the listener and the connections go away.
 */
export async function startAedes(options: Partial<AedesOptions> = {}): Promise<AedesBroker> {
  const broker = await Aedes.createBroker(options);
  const sockets = new Set<net.Socket>();
  let server: net.Server | null = null;
  let port = 0;

  async function listen(onPort: number): Promise<number> {
    const created = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      broker.handle(socket);
    });
    await new Promise<void>((resolve, reject) => {
      created.once('error', reject);
      created.listen(onPort, '127.0.0.1', () => resolve());
    });
    server = created;
    return (created.address() as net.AddressInfo).port;
  }

  async function stop(): Promise<void> {
    const current = server;
    server = null;
    if (!current) return;
    const closed = new Promise<void>((resolve) => current.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  }

  port = await listen(0);
  return {
    broker,
    port,
    url: `mqtt://127.0.0.1:${port}`,
    stop,
    async restart() {
      await stop();
      await listen(port);
    },
    async close() {
      await stop();
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    },
  };
}

export const MOSQUITTO_BIN = '/usr/sbin/mosquitto';
export const MOSQUITTO_PASSWD_BIN = '/usr/bin/mosquitto_passwd';

/** Whether Mosquitto tests can run; with ALLBIT_REQUIRE_MOSQUITTO=1 a missing broker must fail them. */
export function mosquittoStatus(): { available: boolean; required: boolean; reason: string } {
  const required = process.env.ALLBIT_REQUIRE_MOSQUITTO === '1';
  if (!existsSync(MOSQUITTO_BIN)) return { available: false, required, reason: `${MOSQUITTO_BIN} not found (apt-get install mosquitto)` };
  if (!existsSync(MOSQUITTO_PASSWD_BIN)) return { available: false, required, reason: `${MOSQUITTO_PASSWD_BIN} not found` };
  return { available: true, required, reason: '' };
}

/** A port that was free a moment ago (Mosquitto needs a concrete port in its config). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface MosquittoOptions {
  /** Users allowed to connect; when given, anonymous access is off. */
  users?: Record<string, string>;
  /**
   * Keep persistent sessions and queued QoS 1 messages across `stop`/`restart` (persistence on,
   * stopped with SIGTERM so it saves), as a production broker would: a subscriber then misses
   * nothing that the broker acknowledged before the outage.
   */
  persistent?: boolean;
  /** Further configuration lines, for example a TLS listener. */
  extraConfig?: string[];
}

/** A real Mosquitto process on a free port with a temporary config (no persistence, large queues). */
export async function startMosquitto(options: MosquittoOptions = {}): Promise<TestBroker> {
  const dir = mkdtempSync(join(tmpdir(), 'allbit-mosquitto-'));
  // Started as root, Mosquitto drops to the `mosquitto` user, which must still read its files.
  chmodSync(dir, 0o755);
  const port = await freePort();
  const lines = [
    `listener ${port} 127.0.0.1`,
    ...(options.persistent ? ['persistence true', `persistence_location ${dir}/`] : ['persistence false']),
    'max_queued_messages 100000',
    'max_inflight_messages 0',
    'log_dest stderr',
    'log_type all',
  ];
  if (options.users) {
    const passwordFile = join(dir, 'passwords');
    writeFileSync(passwordFile, '');
    for (const [user, password] of Object.entries(options.users)) {
      const result = spawnSync(MOSQUITTO_PASSWD_BIN, ['-b', passwordFile, user, password], { encoding: 'utf8' });
      if (result.status !== 0) throw new Error(`mosquitto_passwd failed: ${result.stderr}`);
    }
    chmodSync(passwordFile, 0o644);
    lines.push('allow_anonymous false', `password_file ${passwordFile}`);
  } else {
    lines.push('allow_anonymous true');
  }
  lines.push(...(options.extraConfig ?? []));
  const config = join(dir, 'mosquitto.conf');
  writeFileSync(config, lines.join('\n') + '\n');

  let child: ChildProcess | null = null;
  let log = '';

  async function launch(): Promise<void> {
    const proc = spawn(MOSQUITTO_BIN, ['-c', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        log += chunk.toString();
        if (/running/.test(log)) {
          proc.stderr?.off('data', onData);
          proc.stderr?.on('data', (more: Buffer) => (log += more.toString()));
          resolve();
        }
      };
      proc.stderr?.on('data', onData);
      proc.once('exit', (code) => reject(new Error(`mosquitto exited with ${code} before accepting connections:\n${log}`)));
    });
  }

  async function stop(): Promise<void> {
    const proc = child;
    child = null;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill(options.persistent ? 'SIGTERM' : 'SIGKILL');
    await exited;
  }

  await launch();
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    stop,
    async restart() {
      await stop();
      log = '';
      await launch();
    },
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface ReceivedMessage {
  topic: string;
  payload: string;
  retain: boolean;
}

/** A subscribing client that records what it receives and lets a test wait for a condition. */
export interface Collector {
  readonly client: MqttClient;
  readonly messages: ReceivedMessage[];
  /** Resolves once `predicate` holds (checked after every message); rejects after `timeoutMs` with `what`. */
  until(what: string, predicate: (messages: ReceivedMessage[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function collect(url: string, topic: string, options: { clientId?: string; clean?: boolean } = {}): Promise<Collector> {
  const client = mqtt.connect(url, { clientId: options.clientId, clean: options.clean ?? true, reconnectPeriod: 50 });
  const messages: ReceivedMessage[] = [];
  const checks = new Set<() => void>();
  client.on('message', (t, payload, packet) => {
    messages.push({ topic: t, payload: payload.toString(), retain: packet.retain });
    for (const check of [...checks]) check();
  });
  client.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => client.subscribe(topic, { qos: 1 }, (error) => (error ? reject(error) : resolve())));
  });
  return {
    client,
    messages,
    until(what, predicate, timeoutMs = 10_000) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!predicate(messages)) return;
          checks.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          checks.delete(check);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${messages.length} messages received)`));
        }, timeoutMs);
        checks.add(check);
        check();
      });
    },
    async close() {
      await client.endAsync(true);
    },
  };
}

/** Resolves once `predicate` holds, re-checked every few ms: for state that has no event to wait on (a condition, not a sleep). */
export function waitFor(what: string, predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const started = Date.now();
    const poll = () => {
      if (predicate()) return resolve();
      if (Date.now() - started > timeoutMs) return reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      setTimeout(poll, 5);
    };
    poll();
  });
}

/** Like `waitFor`, for a condition that takes a round trip to check (an HTTP request, an open attempt). */
export async function waitForAsync(what: string, predicate: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const started = Date.now();
  while (!(await predicate())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise<void>((resolve) => setTimeout(resolve, 5));
  }
}
