/**
 * The OPC UA server's lifecycle around node-opcua's OPCUAServer. Loaded lazily by ./index.ts.
 *
 * A stop()/start() is a real restart: a new OPCUAServer each time (node-opcua's cannot be started
 * again after shutdown), so sessions and subscriptions are gone and the certificate is read again;
 * the port, the namespace and every node id stay the same.
 */
import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import { OPCUACertificateManager } from 'node-opcua-certificate-manager';
import { SecurityPolicy } from 'node-opcua-secure-channel';
import { OPCUAServer } from 'node-opcua-server';
import { StatusCodes, type StatusCode } from 'node-opcua-status-code';
import { MessageSecurityMode } from 'node-opcua-types';
import { benchPoint, BENCH_FOLDER, buildPlantAddressSpace, stringNodeId, type DeviceModel, type PlantNodes } from './address-space.js';
import { installRenewedCertificate, prepareRenewedCertificate, thumbprintOf } from './certificate.js';
import { OPCUA_NAMESPACE_URI, OPCUA_RESOURCE_PATH, type OpcUaSimulator, type OpcUaSimulatorOptions } from './index.js';
import { variableSpecOf } from './point-model.js';

const APPLICATION_URI = 'urn:allbit:simulator:opcua-server';
const APPLICATION_NAME = 'allbit plant simulator';
/** How long start() keeps retrying a port that is still taken (a restart right after another process let go of it). */
const PORT_RETRY_MS = 3000;
const PORT_RETRY_STEP_MS = 100;

interface Running {
  server: OPCUAServer;
  nodes: PlantNodes;
}

export async function startOpcUaServer(options: OpcUaSimulatorOptions): Promise<OpcUaSimulator> {
  const { plant, pkiDir } = options;
  const host = options.host ?? '127.0.0.1';
  const unspecifiedHost = host === '0.0.0.0' || host === '::';
  const endpointHost = unspecifiedHost ? osHostname() : host;
  const extraVariables = options.extraVariables ?? 0;
  if (!Number.isInteger(extraVariables) || extraVariables < 0) throw new RangeError(`opcua: extraVariables must be an integer ≥ 0, got ${extraVariables}`);
  const securityModes = (options.securityModes ?? ['None', 'Sign', 'SignAndEncrypt']).map((m) => MessageSecurityMode[m]);
  const securityPolicies = (options.securityPolicies ?? ['None', 'Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss']).map((p) => SecurityPolicy[p]);
  const users = options.users;

  const devices: DeviceModel[] = (options.devices ?? plant.devices.map((d) => d.id)).map((id) => {
    const device = plant.devices.find((d) => d.id === id);
    if (!device) throw new Error(`opcua: unknown simulated device "${id}" (known: ${plant.devices.map((d) => d.id).join(', ')})`);
    return { id, kind: device.kind, variables: plant.pointMap(id).map((p) => variableSpecOf(device.kind, p)) };
  });
  const pointsOf = new Map(devices.map((d) => [d.id, new Set(d.variables.map((v) => v.point))]));
  const checkPoint = (deviceId: string, point: string): void => {
    const points = pointsOf.get(deviceId);
    if (!points) throw new Error(`opcua: device "${deviceId}" is not served (served: ${[...pointsOf.keys()].join(', ')})`);
    if (!points.has(point)) throw new Error(`opcua: device "${deviceId}" has no point "${point}"`);
  };

  const pointStatus = new Map<string, StatusCode>();
  const offline = new Set<string>();
  const isOnline = (deviceId: string): boolean => !offline.has(deviceId) && (plant.registers(deviceId).isOnline?.() ?? true);
  const source = {
    timeMs: () => plant.timeMs,
    values: (deviceId: string) => plant.values(deviceId),
    statusOf: (deviceId: string, point: string): StatusCode =>
      isOnline(deviceId) ? (pointStatus.get(stringNodeId(deviceId, point)) ?? StatusCodes.Good) : StatusCodes.BadCommunicationError,
  };

  let port = options.port ?? 0;
  let namespaceIndex = -1;
  let thumbprint = '';
  let running: Running | undefined;
  let closed = false;

  const createServer = (): OPCUAServer =>
    new OPCUAServer({
      port,
      host,
      hostname: endpointHost,
      resourcePath: OPCUA_RESOURCE_PATH,
      serverCertificateManager: new OPCUACertificateManager({ rootFolder: pkiDir, automaticallyAcceptUnknownCertificate: true, disableFileWatchers: true }),
      // node-opcua's default user PKI lives in the home directory; keep everything in pkiDir
      userCertificateManager: new OPCUACertificateManager({ rootFolder: join(pkiDir, 'user'), automaticallyAcceptUnknownCertificate: true, disableFileWatchers: true }),
      securityModes,
      securityPolicies,
      allowAnonymous: options.allowAnonymous ?? true,
      userManager: users ? { isValidUser: (userName: string, password: string) => Object.hasOwn(users, userName) && users[userName] === password } : undefined,
      serverInfo: { applicationUri: APPLICATION_URI, productUri: 'urn:allbit:simulator', applicationName: { text: APPLICATION_NAME, locale: 'en' } },
      buildInfo: { productName: APPLICATION_NAME, productUri: 'urn:allbit:simulator', manufacturerName: 'allbit' },
    });

  const launchOnce = async (): Promise<Running> => {
    const server = createServer();
    try {
      await server.initialize();
      const addressSpace = server.engine.addressSpace;
      if (!addressSpace) throw new Error('opcua: node-opcua initialised without an address space');
      const namespace = addressSpace.registerNamespace(OPCUA_NAMESPACE_URI);
      if (namespaceIndex !== -1 && namespace.index !== namespaceIndex) {
        throw new Error(`opcua: namespace index changed across restart (${namespaceIndex} → ${namespace.index})`);
      }
      namespaceIndex = namespace.index;
      const nodes = buildPlantAddressSpace(addressSpace, namespace, devices, extraVariables, source);
      await server.start();
      return { server, nodes };
    } catch (err) {
      await server.shutdown(0).catch(() => undefined);
      throw err;
    }
  };

  const launch = async (): Promise<void> => {
    installRenewedCertificate(pkiDir);
    const deadline = Date.now() + PORT_RETRY_MS;
    for (;;) {
      try {
        running = await launchOnce();
        break;
      } catch (err) {
        if (port === 0 || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || Date.now() > deadline) {
          throw new Error(`opcua: cannot start the server on ${host}:${port}`, { cause: err });
        }
        await new Promise((resolve) => setTimeout(resolve, PORT_RETRY_STEP_MS));
      }
    }
    running.nodes.publish(); // the plant may have stepped while the server was starting
    port = running.server.endpoints[0].port;
    thumbprint = thumbprintOf(running.server.getCertificate());
  };

  const shutdown = async (): Promise<void> => {
    const current = running;
    running = undefined;
    if (current) await current.server.shutdown(0);
  };

  // stop/start/renew/close run one at a time, in call order
  let queue: Promise<unknown> = Promise.resolve();
  const serialized = <T>(operation: () => Promise<T>): Promise<T> => {
    const result = queue.then(operation);
    queue = result.catch(() => undefined);
    return result;
  };

  const unsubscribe = plant.onUpdate(() => running?.nodes.publish());
  try {
    await launch();
  } catch (err) {
    unsubscribe();
    throw err;
  }

  const republish = (deviceId: string): void => running?.nodes.publish(deviceId);
  const nodeIdOf = (deviceId: string, point: string): string => {
    checkPoint(deviceId, point);
    return `ns=${namespaceIndex};s=${stringNodeId(deviceId, point)}`;
  };

  return {
    get endpointUrl() {
      return `opc.tcp://${endpointHost}:${port}${OPCUA_RESOURCE_PATH}`;
    },
    get port() {
      return port;
    },
    namespaceUri: OPCUA_NAMESPACE_URI,
    get certificateThumbprint() {
      return thumbprint;
    },
    benchNodeIds: Array.from({ length: extraVariables }, (_, i) => `ns=${namespaceIndex};s=${stringNodeId(BENCH_FOLDER, benchPoint(i))}`),
    nodeIdOf,
    expandedNodeIdOf: (deviceId, point) => {
      checkPoint(deviceId, point);
      return `nsu=${OPCUA_NAMESPACE_URI};s=${stringNodeId(deviceId, point)}`;
    },
    setPointStatus: (deviceId, point, status) => {
      checkPoint(deviceId, point);
      const code = (StatusCodes as unknown as Record<string, StatusCode | undefined>)[status];
      if (!code || typeof code !== 'object') throw new Error(`opcua: unknown status code name "${status}"`);
      if (code === StatusCodes.Good) pointStatus.delete(stringNodeId(deviceId, point));
      else pointStatus.set(stringNodeId(deviceId, point), code);
      republish(deviceId);
    },
    setDeviceOnline: (deviceId, online) => {
      if (!pointsOf.has(deviceId)) throw new Error(`opcua: device "${deviceId}" is not served (served: ${[...pointsOf.keys()].join(', ')})`);
      if (online) offline.delete(deviceId);
      else offline.add(deviceId);
      republish(deviceId);
    },
    stop: () => serialized(shutdown),
    start: () =>
      serialized(async () => {
        if (closed) throw new Error('opcua: simulator closed');
        if (!running) await launch();
      }),
    renewCertificate: () =>
      serialized(() => prepareRenewedCertificate(pkiDir, { applicationUri: APPLICATION_URI, applicationName: APPLICATION_NAME, hosts: [endpointHost, host] })),
    close: () =>
      serialized(async () => {
        closed = true;
        unsubscribe();
        await shutdown();
      }),
  };
}

