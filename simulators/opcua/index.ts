/**
 * The plant served over OPC UA: the same running plant (same physics, same values) as the Modbus
 * devices, as an OPC UA server with a folder per kind of device and an AnalogItem per analog point.
 *
 * This module loads node-opcua only when `startOpcUaSimulator` is called (node-opcua-server takes
 * about a second and ~80 MB to load), so a Modbus-only user of simulators/index.ts does not pay for it.
 */
import type { PlantSimulator } from '../index.js';

export type OpcUaSecurityMode = 'None' | 'Sign' | 'SignAndEncrypt';
export type OpcUaSecurityPolicy = 'None' | 'Basic256Sha256' | 'Aes128_Sha256_RsaOaep' | 'Aes256_Sha256_RsaPss';
/** An OPC UA status code name (node-opcua's `StatusCodes`), e.g. 'Good', 'UncertainLastUsableValue', 'BadSensorFailure'. */
export type OpcUaStatusName = 'Good' | 'UncertainLastUsableValue' | 'BadSensorFailure' | 'BadCommunicationError' | (string & {});

export interface OpcUaSimulatorOptions {
  /** The running plant; values come from `plant.values(deviceId)` after every step. */
  plant: PlantSimulator;
  /** Interface to bind and the host name in the endpoint URL; default 127.0.0.1. */
  host?: string;
  /** 0 or absent = an ephemeral port, kept across stop()/start(). */
  port?: number;
  /** The server's own PKI folder: its certificate and key (created when missing) and the client certificates it has seen. */
  pkiDir: string;
  /** Default all three. */
  securityModes?: OpcUaSecurityMode[];
  /** Default all four. */
  securityPolicies?: OpcUaSecurityPolicy[];
  /** Default true. */
  allowAnonymous?: boolean;
  /** Username → password. */
  users?: Record<string, string>;
  /** Plant device ids to expose; default all. */
  devices?: string[];
  /** For benchmarks: N extra Double variables under Objects/Plant/Bench, each changing at every plant step; default 0. */
  extraVariables?: number;
}

export interface OpcUaSimulator {
  /** opc.tcp://<host>:<port>/allbit/plant */
  readonly endpointUrl: string;
  readonly port: number;
  /** 'urn:allbit:simulator:plant': the namespace of every plant node. */
  readonly namespaceUri: string;
  /** SHA-1 (lowercase hex, no colons) of the DER certificate the server presents now. */
  readonly certificateThumbprint: string;
  /** Node ids of the Bench variables (`extraVariables`), in order. */
  readonly benchNodeIds: readonly string[];
  /** 'ns=<index>;s=<deviceId>.<point>'; throws for an unknown device or point. */
  nodeIdOf(deviceId: string, point: string): string;
  /** 'nsu=urn:allbit:simulator:plant;s=<deviceId>.<point>' */
  expandedNodeIdOf(deviceId: string, point: string): string;
  /**
   * Applies a status code to the point's next and later values until set back to 'Good'. Takes
   * effect at once. With a Bad status the value is null (OPC 10000-4 §7.7.1); Uncertain keeps it.
   */
  setPointStatus(deviceId: string, point: string, status: OpcUaStatusName): void;
  /**
   * Takes a device offline on this server only (its variables report BadCommunicationError, value
   * null), or back online. A device the plant has stopped (`plant.stopDevice`) is offline too.
   */
  setDeviceOnline(deviceId: string, online: boolean): void;
  /** Shuts the server down: connections drop, sessions and subscriptions are gone. */
  stop(): Promise<void>;
  /** Starts again on the same port with the same address space (node ids), as after a server restart. */
  start(): Promise<void>;
  /** Creates a new self-signed certificate and key; it takes effect at the next start(). Returns its thumbprint. */
  renewCertificate(): Promise<string>;
  /** Stops for good. */
  close(): Promise<void>;
}

export const OPCUA_NAMESPACE_URI = 'urn:allbit:simulator:plant';
export const OPCUA_RESOURCE_PATH = '/allbit/plant';

export async function startOpcUaSimulator(options: OpcUaSimulatorOptions): Promise<OpcUaSimulator> {
  const { startOpcUaServer } = await import('./server.js');
  return startOpcUaServer(options);
}
