/**
 * `allbit opcua browse | trust` — the technician's OPC UA tools. node-opcua is loaded only when
 * one of them runs (through drivers/opcua, which loads it lazily).
 *
 * browse: connects like the driver does (same security, identity and certificate check) and
 *   prints the address space below Objects (or --root) as an indented tree: browse name, NodeId,
 *   node class, and for variables the data type, engineering unit and current value — NodeIds
 *   ready to paste into tags.
 * trust: asks the server's GetEndpoints (unsecured discovery channel, no session) for its
 *   certificate, prints subject, validity and SHA-1 thumbprint, and with --yes (or a matching
 *   --thumbprint) stores it in `<pkiDir>/trusted/certs`, so the driver accepts it from then on.
 */
import { resolve } from 'node:path';
import type { OpcUaIdentity, OpcUaSecurityMode, OpcUaSecurityPolicy } from './core/device.js';
import { OPCUA_SECURITY_POLICIES } from './core/device.js';
import { silentLogger } from './core/logger.js';
import { ConfigError } from '../config/issues.js';
import { loadConfigFile } from '../config/load.js';
import { systemClock } from './scheduler/system-clock.js';
import { leafCertificate, normalizeThumbprint, summarizeCertificate, trustCommand } from '../drivers/opcua/certificates.js';
import { loadNodeOpcua, type OpcUaLibrary } from '../drivers/opcua/library.js';
import { discoverEndpoints, oneLineMessage, openCertificateManager, openSession, type OpcUaEndpointSettings } from '../drivers/opcua/session.js';
import { convertVariant, timestampMsOf, typeName, type VariantLike } from '../drivers/opcua/values.js';
import type { ClientSession, NodeId, ReferenceDescription } from 'node-opcua-client';

/** A wrong or missing option: the CLI prints it with the command's usage. */
export class OpcUaUsageError extends Error {}

export type OpcUaCommandValues = Record<string, string | boolean | string[] | undefined>;

const SECURITY_MODES: readonly OpcUaSecurityMode[] = ['None', 'Sign', 'SignAndEncrypt'];
const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_DEPTH = 6;
/** Objects/Server: the server's own diagnostics, hundreds of nodes; shown but not expanded unless it is the root. */
const SERVER_OBJECT = 'i=2253';

interface Target extends OpcUaEndpointSettings {
  identity: OpcUaIdentity;
  timeoutMs: number;
  /** Set when the target came from --config/--device. */
  deviceId?: string;
}

export async function opcuaCommand(sub: 'browse' | 'trust', values: OpcUaCommandValues, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  let target: Target;
  try {
    target = resolveTarget(sub, values);
  } catch (e) {
    if (e instanceof ConfigError) {
      err.write(`${e.message}\n`);
      return 1;
    }
    throw e;
  }
  try {
    return sub === 'browse' ? await browse(target, values, out) : await trust(target, values, out, err);
  } catch (e) {
    if (e instanceof OpcUaUsageError) throw e;
    const message = oneLineMessage(e);
    err.write(`${message.startsWith(`opcua ${sub}: `) ? `allbit ${message}` : `allbit opcua ${sub}: ${message}`}\n`);
    return 1;
  }
}

function str(values: OpcUaCommandValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

function resolveTarget(sub: string, values: OpcUaCommandValues): Target {
  const timeoutMs = positiveInt(str(values, 'timeout-ms'), DEFAULT_TIMEOUT_MS, 'timeout-ms');
  const configFile = str(values, 'config');
  const deviceId = str(values, 'device');
  if (configFile !== undefined || deviceId !== undefined) {
    if (configFile === undefined || deviceId === undefined) throw new OpcUaUsageError('--config FILE and --device ID go together');
    for (const flag of ['endpoint', 'security-mode', 'security-policy', 'user', 'password-env', 'pki-dir']) {
      if (values[flag] !== undefined) throw new OpcUaUsageError(`--${flag} cannot be combined with --config/--device (the device's configuration says it)`);
    }
    const config = loadConfigFile(configFile);
    const device = config.devices.find((d) => d.id === deviceId);
    if (!device) throw new OpcUaUsageError(`--device: no device "${deviceId}" in ${config.file} (devices: ${config.devices.map((d) => d.id).join(', ') || 'none'})`);
    if (device.connection.protocol !== 'opcua') throw new OpcUaUsageError(`--device: ${deviceId} speaks ${device.connection.protocol}, not opcua`);
    const c = device.connection;
    return { endpointUrl: c.endpointUrl, securityMode: c.securityMode, securityPolicy: c.securityPolicy, pkiDir: c.pkiDir, identity: c.identity, timeoutMs, deviceId };
  }
  const endpointUrl = str(values, 'endpoint');
  if (endpointUrl === undefined) throw new OpcUaUsageError(`--endpoint URL (or --config FILE --device ID) is required`);
  if (!/^opc\.tcp:\/\/[^\s/]+/.test(endpointUrl)) throw new OpcUaUsageError(`--endpoint: expected opc.tcp://host:port[/path], got "${endpointUrl}"`);
  const securityMode = (str(values, 'security-mode') ?? 'None') as OpcUaSecurityMode;
  if (!SECURITY_MODES.includes(securityMode)) throw new OpcUaUsageError(`--security-mode: expected one of ${SECURITY_MODES.join(', ')}, got "${securityMode}"`);
  const securityPolicy = (str(values, 'security-policy') ?? 'None') as OpcUaSecurityPolicy;
  if (!(OPCUA_SECURITY_POLICIES as readonly string[]).includes(securityPolicy)) {
    throw new OpcUaUsageError(`--security-policy: expected one of ${OPCUA_SECURITY_POLICIES.join(', ')}, got "${securityPolicy}"`);
  }
  if (sub === 'browse') {
    if (securityMode !== 'None' && securityPolicy === 'None') throw new OpcUaUsageError(`--security-mode ${securityMode} needs --security-policy (Basic256Sha256 or Aes256_Sha256_RsaPss)`);
    if (securityMode === 'None' && securityPolicy !== 'None') throw new OpcUaUsageError(`--security-policy ${securityPolicy} needs --security-mode Sign or SignAndEncrypt`);
  }
  let identity: OpcUaIdentity = { type: 'anonymous' };
  const user = str(values, 'user');
  const passwordEnv = str(values, 'password-env');
  if (user !== undefined || passwordEnv !== undefined) {
    if (user === undefined || passwordEnv === undefined) throw new OpcUaUsageError('--user NAME and --password-env VAR go together (the password is read from that environment variable)');
    const password = process.env[passwordEnv];
    if (password === undefined) throw new OpcUaUsageError(`--password-env: the environment variable ${passwordEnv} is not set`);
    identity = { type: 'username', username: user, password: { reveal: () => password } };
  }
  // Relative to the current directory, never the home directory.
  const pkiDir = resolve(str(values, 'pki-dir') ?? './data/pki');
  return { endpointUrl, securityMode, securityPolicy, pkiDir, identity, timeoutMs };
}

function positiveInt(raw: string | undefined, fallback: number, name: string): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new OpcUaUsageError(`--${name}: expected a positive whole number, got "${raw}"`);
  return n;
}

// ---------------------------------------------------------------------------------------- trust

async function trust(target: Target, values: OpcUaCommandValues, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const wanted = str(values, 'thumbprint');
  const expected = wanted === undefined ? undefined : normalizeThumbprint(wanted);
  if (expected !== undefined && !/^[0-9a-f]{40}$/.test(expected)) throw new OpcUaUsageError(`--thumbprint: expected 40 hex digits (SHA-1), got "${wanted}"`);
  const lib = await loadNodeOpcua(silentLogger);
  const manager = await openCertificateManager(lib, target.pkiDir);
  try {
    const endpoints = await discoverEndpoints(lib, manager, target.endpointUrl, target.timeoutMs, systemClock);
    // From a device's configuration: the certificate of the endpoint it uses, when it is secured.
    const mode = lib.client.MessageSecurityMode[target.securityMode];
    const policy = lib.client.SecurityPolicy[target.securityPolicy];
    const relevant = target.deviceId !== undefined && target.securityMode !== 'None' ? endpoints.filter((e) => e.securityMode === mode && e.securityPolicyUri === policy) : endpoints;
    const certificates = new Map<string, { der: Buffer; offers: string[] }>();
    for (const e of relevant) {
      if (!e.serverCertificate || e.serverCertificate.length === 0) continue;
      const der = leafCertificate(e.serverCertificate);
      const { thumbprint } = summarizeCertificate(der);
      const entry = certificates.get(thumbprint) ?? { der, offers: [] };
      entry.offers.push(`${lib.client.MessageSecurityMode[e.securityMode]} ${String(e.securityPolicyUri ?? '').replace(/^.*#/, '')}`);
      certificates.set(thumbprint, entry);
    }
    if (certificates.size === 0) {
      err.write(`allbit opcua trust: ${target.endpointUrl} sent no certificate${target.deviceId ? ` for ${target.securityMode} ${target.securityPolicy}` : ''}\n`);
      return 1;
    }
    let untrusted: string[] = [];
    for (const [thumbprint, { der, offers }] of certificates) {
      const summary = summarizeCertificate(der);
      const status = await manager.getTrustStatus(der);
      const trusted = status.isGood();
      if (!trusted) untrusted.push(thumbprint);
      out.write(`Server certificate of ${target.endpointUrl}\n`);
      out.write(`  subject:     ${summary.subject}\n`);
      out.write(`  issuer:      ${summary.selfSigned ? '(self-signed)' : summary.issuer}\n`);
      if (summary.applicationUri) out.write(`  application: ${summary.applicationUri}\n`);
      out.write(`  valid:       ${summary.validFrom.toISOString()} to ${summary.validTo.toISOString()}\n`);
      out.write(`  SHA-1:       ${thumbprint}\n`);
      out.write(`  endpoints:   ${offers.join(', ')}\n`);
      out.write(`  status:      ${trusted ? 'trusted' : `not trusted (${status.name})`} in ${target.pkiDir}\n`);
    }
    if (expected !== undefined) {
      if (!certificates.has(expected)) {
        err.write(`allbit opcua trust: the server presents ${[...certificates.keys()].join(', ')}, not ${expected}: nothing trusted\n`);
        return 1;
      }
      untrusted = untrusted.filter((t) => t === expected);
    } else if (values.yes !== true) {
      if (untrusted.length > 0) {
        out.write(`\nNot trusted yet. Compare the SHA-1 thumbprint with the one the server shows (its certificate screen or file), then run:\n`);
        for (const t of untrusted) out.write(`  ${trustCommand(target.endpointUrl, target.pkiDir, t)}\n`);
        out.write(`(or repeat this command with --yes)\n`);
      }
      return 0;
    }
    for (const thumbprint of untrusted) {
      await manager.trustCertificate(certificates.get(thumbprint)!.der);
      out.write(`Trusted ${thumbprint}: stored in ${resolve(target.pkiDir, 'trusted', 'certs')}\n`);
    }
    if (untrusted.length === 0) out.write(`Already trusted: nothing to do.\n`);
    return 0;
  } finally {
    await manager.dispose().catch(() => undefined);
  }
}

// --------------------------------------------------------------------------------------- browse

interface NodeLine {
  nodeId: string;
  browseName: string;
  nodeClass: string;
  dataType?: string;
  unit?: string;
  value?: string;
  expand: boolean;
}

async function browse(target: Target, values: OpcUaCommandValues, out: NodeJS.WritableStream): Promise<number> {
  const depth = positiveInt(str(values, 'depth'), DEFAULT_DEPTH, 'depth');
  const root = str(values, 'root') ?? 'i=85';
  const connection = await openSession({
    ...target,
    who: 'opcua browse',
    sessionTimeoutMs: 60_000,
    clientName: 'allbit browse',
    clock: systemClock,
    logger: silentLogger,
  });
  try {
    const { lib, session } = connection;
    let rootId: NodeId;
    try {
      rootId = lib.client.coerceNodeId(root);
    } catch {
      throw new OpcUaUsageError(`--root: not a NodeId: "${root}" (for example i=85 or ns=2;s=Plant)`);
    }
    const namespaces = await session.readNamespaceArray();
    const security = target.securityMode === 'None' ? 'no security' : `${target.securityMode} ${target.securityPolicy}`;
    out.write(`${target.endpointUrl} (${security}${connection.serverCertificate ? `, server certificate ${connection.serverCertificate.thumbprint}` : ''})\n`);
    out.write(`namespaces: ${namespaces.map((uri, i) => `ns=${i} ${uri}`).join(', ')}\n\n`);
    const [rootName, rootClass] = await session.read([
      { nodeId: rootId, attributeId: lib.client.AttributeIds.BrowseName },
      { nodeId: rootId, attributeId: lib.client.AttributeIds.NodeClass },
    ]);
    if (!rootName.statusCode.isGood()) throw new Error(`--root ${root}: ${rootName.statusCode.toString()}`);
    const browser = new TreeBrowser(lib, session);
    out.write(`${(rootName.value.value as { name?: string }).name ?? root}  ${compactNodeId(rootId.toString())}  ${lib.client.NodeClass[rootClass.value.value as number] ?? ''}\n`);
    let nodes = 0;
    const walk = async (nodeId: NodeId | string, level: number): Promise<void> => {
      if (level > depth) return;
      const children = await browser.children(nodeId);
      for (const child of children) {
        nodes++;
        const parts = [child.browseName, child.nodeId, child.nodeClass, child.dataType, child.unit, child.value === undefined ? undefined : `= ${child.value}`];
        const skipped = child.nodeId === SERVER_OBJECT && compactNodeId(rootId.toString()) !== SERVER_OBJECT;
        if (skipped) parts.push(`(not expanded: --root ${SERVER_OBJECT})`);
        out.write(`${'  '.repeat(level)}${parts.filter((p) => p !== undefined && p !== '').join('  ')}\n`);
        if (child.expand && !skipped) await walk(child.nodeId, level + 1);
      }
    };
    await walk(rootId, 1);
    if (nodes === 0) out.write(`  (no children)\n`);
    return 0;
  } finally {
    await connection.close();
  }
}

/** "ns=0;i=85" → "i=85": namespace 0 needs no prefix (and tags accept both). */
function compactNodeId(text: string): string {
  return text.startsWith('ns=0;') ? text.slice(5) : text;
}

/** A value for people: scalars as the driver would deliver them, arrays and structures summarized. */
function formatValue(variant: VariantLike): string {
  if ((variant.arrayType ?? 0) !== 0) {
    const length = (variant.value as ArrayLike<unknown> | null)?.length ?? 0;
    return `[${length} × ${typeName(variant.dataType)}]`;
  }
  if (variant.dataType === DATE_TIME) {
    const ms = timestampMsOf(variant.value as Date | null);
    return ms === null ? '(no date)' : new Date(ms).toISOString();
  }
  const converted = convertVariant(variant);
  if (!converted.ok) return `(${converted.error.replace(/: a tag holds one.*$/, '')})`;
  return typeof converted.value === 'string' ? JSON.stringify(converted.value) : String(converted.value);
}

const DATE_TIME = 13;

/** Children of a node, with what a technician needs to write a tag; data type names cached. */
class TreeBrowser {
  private readonly typeNames = new Map<string, string>();
  constructor(
    private readonly lib: OpcUaLibrary,
    private readonly session: ClientSession,
  ) {}

  async children(nodeId: NodeId | string): Promise<NodeLine[]> {
    const { client } = this.lib;
    const result = await client.browseAll(this.session, {
      nodeId,
      referenceTypeId: 'HierarchicalReferences',
      includeSubtypes: true,
      browseDirection: client.BrowseDirection.Forward,
      nodeClassMask: 0,
      resultMask: 63,
    });
    const seen = new Set<string>();
    // A node reached by several references (Organizes and HasComponent) is listed once.
    const refs: ReferenceDescription[] = (result.references ?? []).filter((r) => {
      const key = r.nodeId.toString();
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    const lines: NodeLine[] = refs.map((r) => ({
      nodeId: compactNodeId(r.nodeId.toString()),
      browseName: r.browseName.name ?? '',
      nodeClass: client.NodeClass[r.nodeClass] ?? String(r.nodeClass),
      expand: r.nodeClass === client.NodeClass.Object,
    }));
    const variables = lines.filter((l) => l.nodeClass === 'Variable');
    if (variables.length > 0) await this.describeVariables(variables);
    return lines;
  }

  private async describeVariables(variables: NodeLine[]): Promise<void> {
    const { client } = this.lib;
    const attributes = await this.session.read(
      variables.flatMap((v) => [
        { nodeId: v.nodeId, attributeId: client.AttributeIds.DataType },
        { nodeId: v.nodeId, attributeId: client.AttributeIds.Value },
      ]),
    );
    const typeIds = variables.map((_, i) => attributes[2 * i].value.value as NodeId | null);
    await this.loadTypeNames(typeIds.filter((t): t is NodeId => !!t));
    variables.forEach((v, i) => {
      const typeId = typeIds[i];
      v.dataType = typeId ? this.typeNames.get(typeId.toString()) : undefined;
      const dataValue = attributes[2 * i + 1];
      if (dataValue.statusCode.isBad()) {
        v.value = `(${dataValue.statusCode.name})`;
        return;
      }
      v.value = formatValue(dataValue.value as VariantLike);
    });
    // EngineeringUnits: the HasProperty child of AnalogItems (OPC 10000-8).
    const properties = await client.browseAll(
      this.session,
      variables.map((v) => ({
        nodeId: v.nodeId,
        referenceTypeId: 'HasProperty',
        includeSubtypes: true,
        browseDirection: client.BrowseDirection.Forward,
        nodeClassMask: 0,
        resultMask: 63,
      })),
    );
    const unitNodes: Array<{ line: NodeLine; nodeId: string }> = [];
    properties.forEach((p, i) => {
      const eu = (p.references ?? []).find((r) => r.browseName.name === 'EngineeringUnits');
      if (eu) unitNodes.push({ line: variables[i], nodeId: eu.nodeId.toString() });
    });
    if (unitNodes.length === 0) return;
    const units = await this.session.read(unitNodes.map((u) => ({ nodeId: u.nodeId, attributeId: client.AttributeIds.Value })));
    unitNodes.forEach((u, i) => {
      const eu = units[i].value.value as { displayName?: { text?: string | null } } | null;
      const text = eu?.displayName?.text;
      if (text) u.line.unit = text;
    });
  }

  private async loadTypeNames(typeIds: NodeId[]): Promise<void> {
    const missing = [...new Map(typeIds.map((t) => [t.toString(), t])).entries()].filter(([key]) => !this.typeNames.has(key));
    if (missing.length === 0) return;
    const names = await this.session.read(missing.map(([, t]) => ({ nodeId: t, attributeId: this.lib.client.AttributeIds.BrowseName })));
    missing.forEach(([key], i) => {
      const name = (names[i].value.value as { name?: string } | null)?.name;
      this.typeNames.set(key, name ?? key);
    });
  }
}
