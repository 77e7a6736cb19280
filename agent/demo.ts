/**
 * `allbit demo`: the plant simulator (Modbus TCP, Modbus RTU over TCP, OPC UA), an embedded MQTT
 * broker, the agent with config/examples/demo.yaml and the status page, in one process. Ports that are taken are
 * replaced by the next free ones, and the banner says where everything is.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { PACKAGE_ROOT } from '../config/package-root.js';
import { parse, stringify } from 'yaml';
import { loadConfigText } from '../config/load.js';
import { startOpcUaSimulator, startPlantSimulator, type DeviceKind, type OpcUaSimulator } from '../simulators/index.js';
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
  profile?: DeviceKind;
  host?: string;
  port?: number;
  bus?: string;
  endpoint?: string;
}

export async function demoCommand(options: DemoOptions, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const host = '127.0.0.1';
  const raw = parse(readFileSync(DEMO_CONFIG, 'utf8')) as {
    mqtt: { url: string };
    status: { port: number };
    buffer: { path: string };
    opcua: { pkiDir: string };
    buses: { id: string; port: number; baudRate?: number }[];
    devices: DemoDevice[];
  };
  const pick = (preferred: number): Promise<number> => (options.ephemeralPorts ? Promise.resolve(0) : firstFreePort(host, preferred, 1));

  // Every device is also served as Modbus TCP; the demo polls those the config names that way.
  const ports: Partial<Record<DeviceKind, number>> = {};
  for (const [i, kind] of (['chiller', 'cooling-tower', 'transformer', 'ups'] as const).entries()) ports[kind] = await pick(15020 + i);
  const bus = raw.buses[0];
  const simulator = await startPlantSimulator({ host, ports, timeSpeed: options.timeSpeed, rtu: { tcpPort: await pick(bus.port), baudRate: bus.baudRate } });
  // The outbox and the PKI folders live under the directory the demo was started from (data/…).
  const bufferPath = resolve(options.bufferPath ?? raw.buffer.path);
  const pkiRoot = join(dirname(bufferPath), 'demo-pki');
  let opcua: OpcUaSimulator;
  try {
    // The preferred port is the one in the transformer's endpoint URL.
    const endpoint = raw.devices.find((d) => d.endpoint !== undefined)?.endpoint ?? 'opc.tcp://127.0.0.1:15025';
    const preferred = Number(new URL(endpoint.replace(/^opc\.tcp:/, 'http:')).port) || 15025;
    // node-opcua reads its log level once, when it loads: keep its start-up notice about RSA PKCS#1
    // v1.5 on Node 20 (no endpoint here uses it) off a newcomer's console; errors still show.
    process.env.NODEOPCUA_LOG_LEVEL ??= '3';
    opcua = await startOpcUaSimulator({ plant: simulator, host, port: await pick(preferred), pkiDir: join(pkiRoot, 'simulator') });
  } catch (e) {
    await simulator.close();
    throw e;
  }
  const closeSimulators = async (): Promise<void> => {
    await opcua.close();
    await simulator.close();
  };
  let broker: Awaited<ReturnType<typeof startEmbeddedBroker>> | null = null;
  let config: ReturnType<typeof loadConfigText>;
  try {
    broker = await startEmbeddedBroker(host, options.ephemeralPorts ? 0 : await firstFreePort(host, options.brokerPort));
    bus.port = simulator.rtu!.port!;
    for (const device of raw.devices) {
      if (device.endpoint !== undefined) {
        device.endpoint = opcua.endpointUrl;
      } else if (device.bus === undefined) {
        const served = simulator.devices.find((d) => d.id === device.id);
        if (!served) throw new Error(`demo: the simulator serves no ${device.id}`);
        device.port = served.port;
      }
    }
    raw.mqtt.url = broker.url;
    raw.status.port = options.ephemeralPorts ? 0 : await firstFreePort(host, options.statusPort);
    raw.buffer.path = bufferPath;
    raw.opcua.pkiDir = join(pkiRoot, 'agent');
    config = loadConfigText(stringify(raw), DEMO_CONFIG);
  } catch (e) {
    // Nothing half-started is left running.
    await broker?.close();
    await closeSimulators();
    throw e;
  }

  const logger = createLogger(options.logLevel ?? 'warn');
  // The first start's status-page password goes into the banner (it is shown only once).
  let generatedPassword: string | null = null;
  let agent;
  try {
    agent = await startAgent({ config, logger, version: options.version, onGeneratedPassword: (password) => (generatedPassword = password) });
  } catch (e) {
    err.write(`allbit demo: cannot start the agent: ${(e as Error).message}\n`);
    await broker.close();
    await closeSimulators();
    return 1;
  }
  const status = agent.statusAddress;
  out.write(
    [
      `allbit ${options.version} demo is running`,
      ``,
      `  plant simulator   Modbus TCP ${simulator.devices.map((d) => `${d.id} ${d.host}:${d.port}`).join(', ')}`,
      `                    Modbus RTU over TCP ${host}:${simulator.rtu!.port} (${Object.entries(simulator.rtu!.units).map(([id, unit]) => `${id} unit ${unit}`).join(', ')})`,
      `                    OPC UA ${opcua.endpointUrl}`,
      `  agent polls       ${config.devices.map((d) => `${d.id} (${d.connection.protocol})`).join(', ')}`,
      `  MQTT broker       ${broker.url}${broker.port !== options.brokerPort ? ` (port ${options.brokerPort} was taken)` : ''}`,
      `  status page       ${status ? `http://${status.host}:${status.port}` : 'disabled'}${status && status.port !== options.statusPort ? ` (port ${options.statusPort} was taken)` : ''}`,
      `  outbox            ${config.buffer.path}`,
      `  log in to act     ${generatedPassword ? `any name, password ${generatedPassword} (shown this once; stored as a hash in ${config.status.passwordFile})` : `any name, with the password shown at the first start (new one: allbit password --config ${config.file} --generate)`}`,
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
  await closeSimulators();
  out.write('allbit demo: stopped cleanly (buffer closed, offline status published)\n');
  return 0;
}
