/**
 * `allbit demo`: the plant simulator, an embedded MQTT broker, the agent with
 * config/examples/demo.yaml and the status page, in one process. Ports that are taken are
 * replaced by the next free ones, and the banner says where everything is.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PACKAGE_ROOT } from '../config/package-root.js';
import { parse, stringify } from 'yaml';
import { loadConfigText } from '../config/load.js';
import { startPlantSimulator, type DeviceKind } from '../simulators/index.js';
import { startEmbeddedBroker } from './embedded-broker.js';
import { createLogger } from './logging.js';
import { firstFreePort } from './net-ports.js';
import { waitForSignal } from './run-command.js';
import { startAgent } from './runtime.js';

export const DEMO_CONFIG = join(PACKAGE_ROOT, 'config', 'examples', 'demo.yaml');

export interface DemoOptions {
  brokerPort: number;
  statusPort: number;
  timeSpeed: number;
  version: string;
  /** Where the demo keeps its outbox; defaults to the config's (data/demo-outbox.db). */
  bufferPath?: string;
  /** Resolves to stop the demo; defaults to the first SIGINT/SIGTERM. */
  until?: Promise<void>;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** Let the OS pick every port (tests run beside a real demo this way). */
  ephemeralPorts?: boolean;
}

interface DemoDevice {
  id: string;
  profile: DeviceKind;
  host: string;
  port: number;
}

export async function demoCommand(options: DemoOptions, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const host = '127.0.0.1';
  const raw = parse(readFileSync(DEMO_CONFIG, 'utf8')) as {
    mqtt: { url: string };
    status: { port: number };
    buffer: { path: string };
    devices: DemoDevice[];
  };

  const ports: Partial<Record<DeviceKind, number>> = {};
  for (const device of raw.devices) ports[device.profile] = options.ephemeralPorts ? 0 : await firstFreePort(host, device.port, 1);
  const simulator = await startPlantSimulator({ host, ports, timeSpeed: options.timeSpeed });
  const broker = await startEmbeddedBroker(host, options.ephemeralPorts ? 0 : await firstFreePort(host, options.brokerPort));

  for (const device of raw.devices) {
    const served = simulator.devices.find((d) => d.kind === device.profile);
    if (!served) throw new Error(`demo: the simulator serves no ${device.profile}`);
    device.port = served.port;
  }
  raw.mqtt.url = broker.url;
  raw.status.port = options.ephemeralPorts ? 0 : await firstFreePort(host, options.statusPort);
  // The demo keeps its outbox under the directory it was started from (data/demo-outbox.db).
  raw.buffer.path = resolve(options.bufferPath ?? raw.buffer.path);
  const config = loadConfigText(stringify(raw), DEMO_CONFIG);

  const logger = createLogger(options.logLevel ?? 'warn');
  let agent;
  try {
    agent = await startAgent({ config, logger, version: options.version });
  } catch (e) {
    err.write(`allbit demo: cannot start the agent: ${(e as Error).message}\n`);
    await broker.close();
    await simulator.close();
    return 1;
  }
  const status = agent.statusAddress;
  out.write(
    [
      `allbit ${options.version} demo is running`,
      ``,
      `  plant simulator   ${simulator.devices.map((d) => `${d.id} on ${d.host}:${d.port}`).join(', ')}`,
      `  MQTT broker       ${broker.url}${broker.port !== options.brokerPort ? ` (port ${options.brokerPort} was taken)` : ''}`,
      `  status page       ${status ? `http://${status.host}:${status.port}` : 'disabled'}${status && status.port !== options.statusPort ? ` (port ${options.statusPort} was taken)` : ''}`,
      `  outbox            ${config.buffer.path}`,
      ``,
      `  watch the data:   mosquitto_sub -h ${broker.host} -p ${broker.port} -t '${config.mqtt.topicPrefix}/#' -v`,
      ``,
      `Press Ctrl-C to stop.`,
      ``,
    ].join('\n'),
  );

  await (options.until ?? waitForSignal(() => err.write('allbit demo: stopping…\n')));
  await agent.stop();
  await broker.close();
  await simulator.close();
  out.write('allbit demo: stopped cleanly (buffer closed, offline status published)\n');
  return 0;
}
