/**
 * One OPC UA connection: PKI folder, endpoint discovery and the server-certificate check, secure
 * channel, session. Shared by the driver and the `allbit opcua` command.
 *
 * Certificates: every connection gets a fresh OPCUACertificateManager rooted at the configured
 * PKI folder (never the home directory), without file watchers, so a certificate trusted a moment
 * ago by `allbit opcua trust` (another process) is seen at the next connection. The client's own
 * certificate is created in `<pkiDir>/own/` on first use.
 *
 * Trust: for a secured endpoint, GetEndpoints is called over an unsecured channel first
 * (discovery, no session), the endpoint matching the configured mode and policy is picked and its
 * certificate checked against `<pkiDir>/trusted/`. An unknown certificate — also a renewed one
 * after a server restart — is refused with its SHA-1 thumbprint and the command that trusts it
 * (node-opcua copies it into `<pkiDir>/rejected/`). The client is then created with that
 * certificate, so node-opcua does not fetch or accept another one behind our back.
 *
 * No hidden retries: node-opcua's connection strategy is `maxRetry: 0` (one attempt, and no
 * automatic reconnection after a loss — `reconnectOnFailure` is then false). Retrying belongs to
 * the scheduler's backoff, which calls `open()` again. Every network step has the device timeout.
 */
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import type { Clock } from '../../agent/core/clock.js';
import type { OpcUaIdentity, OpcUaSecurityMode, OpcUaSecurityPolicy } from '../../agent/core/device.js';
import type { Logger } from '../../agent/core/logger.js';
import type { ClientSession, EndpointDescription, OPCUAClient, UserIdentityInfo } from 'node-opcua-client';
import type { OPCUACertificateManager } from 'node-opcua-certificate-manager';
import { leafCertificate, summarizeCertificate, thumbprintOf, trustCommand, type CertificateSummary } from './certificates.js';
import { loadNodeOpcua, type OpcUaLibrary } from './library.js';

export const APPLICATION_NAME = 'allbit';

export interface OpcUaEndpointSettings {
  endpointUrl: string;
  securityMode: OpcUaSecurityMode;
  securityPolicy: OpcUaSecurityPolicy;
  pkiDir: string;
}

export interface OpenSessionOptions extends OpcUaEndpointSettings {
  /** Who is connecting, for messages: "device chiller-ua" or "opcua browse". */
  who: string;
  identity: OpcUaIdentity;
  /** Every network step (connect, GetEndpoints, CreateSession, …) is abandoned after this long. */
  timeoutMs: number;
  sessionTimeoutMs: number;
  /** Session name shown by the server. */
  clientName: string;
  clock: Clock;
  logger: Logger;
  /** Where node-opcua's own (process-wide) warnings go, at debug level; default `logger`. */
  libraryLogger?: Logger;
  /** Called once when the connection or session is lost after `openSession` resolved (not after `close`). */
  onLost?: (why: string) => void;
  /** Checked between steps: a connection abandoned while opening (the driver was closed) is torn down. */
  abandoned?: () => boolean;
}

export interface OpcUaConnection {
  readonly lib: OpcUaLibrary;
  readonly client: OPCUAClient;
  readonly session: ClientSession;
  readonly certificateManager: OPCUACertificateManager;
  /** The certificate the server presented (secured endpoints only). */
  readonly serverCertificate?: CertificateSummary;
  /** Closes session and channel (each step bounded by the timeout) and releases the PKI store; safe to repeat. */
  close(options?: { graceful?: boolean }): Promise<void>;
}

export class TimeoutError extends Error {
  override name = 'TimeoutError';
}

/** Races `promise` against the clock; the loser's outcome is swallowed (no unhandled rejection). */
export function withTimeout<T>(promise: Promise<T>, ms: number, clock: Clock, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = clock.setTimeout(() => {
      if (settled) return;
      settled = true;
      reject(new TimeoutError(`${what} timed out after ${ms} ms`));
    }, ms);
    promise.then(
      (value) => {
        if (settled) return;
        settled = true;
        clock.clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        if (settled) return;
        settled = true;
        clock.clearTimeout(timer);
        reject(err);
      },
    );
  });
}

/** A PKI store rooted at `pkiDir` that never accepts an unknown certificate on its own. */
export async function openCertificateManager(lib: OpcUaLibrary, pkiDir: string): Promise<OPCUACertificateManager> {
  const manager = new lib.certificates.OPCUACertificateManager({
    rootFolder: pkiDir,
    automaticallyAcceptUnknownCertificate: false,
    disableFileWatchers: true,
  });
  await manager.initialize();
  return manager;
}

/** Creates the client's own certificate in `<pkiDir>/own/` if it is missing (key generation is slow; kept out of the network timeouts). */
export async function ensureOwnCertificate(client: OPCUAClient): Promise<void> {
  await client.createDefaultCertificate();
}

function connectionStrategy(timeoutMs: number) {
  return { maxRetry: 0, initialDelay: Math.min(1000, timeoutMs), maxDelay: Math.min(1000, timeoutMs), randomisationFactor: 0 };
}

/**
 * GetEndpoints over an unsecured channel, no session: what the server offers and with which
 * certificate. The client's own certificate is created first if missing.
 */
export async function discoverEndpoints(
  lib: OpcUaLibrary,
  manager: OPCUACertificateManager,
  endpointUrl: string,
  timeoutMs: number,
  clock: Clock,
): Promise<EndpointDescription[]> {
  const client = lib.client.OPCUAClient.create({
    applicationName: APPLICATION_NAME,
    clientName: 'allbit-discovery',
    clientCertificateManager: manager,
    endpointMustExist: false,
    connectionStrategy: connectionStrategy(timeoutMs),
    transportTimeout: timeoutMs,
    defaultTransactionTimeout: timeoutMs,
  });
  try {
    await ensureOwnCertificate(client);
    await withTimeout(client.connect(endpointUrl), timeoutMs, clock, `connect to ${endpointUrl}`);
    return await withTimeout(client.getEndpoints(), timeoutMs, clock, `GetEndpoints on ${endpointUrl}`);
  } finally {
    await withTimeout(client.disconnect(), timeoutMs, clock, 'disconnect').catch(() => undefined);
  }
}

/** The endpoint offering exactly this mode and policy, or an error listing what the server offers. */
export function pickEndpoint(lib: OpcUaLibrary, endpoints: readonly EndpointDescription[], settings: OpcUaEndpointSettings, who: string): EndpointDescription {
  const mode = lib.client.MessageSecurityMode[settings.securityMode];
  const policyUri = lib.client.SecurityPolicy[settings.securityPolicy];
  const match = endpoints.find((e) => e.securityMode === mode && e.securityPolicyUri === policyUri);
  if (match) return match;
  const offered = [...new Set(endpoints.map((e) => `${lib.client.MessageSecurityMode[e.securityMode]} ${String(e.securityPolicyUri ?? '').replace(/^.*#/, '')}`))];
  throw new Error(
    `${who}: ${settings.endpointUrl} offers no endpoint with securityMode ${settings.securityMode} and securityPolicy ${settings.securityPolicy} (it offers: ${offered.join('; ') || 'nothing'})`,
  );
}

/** Refuses a server certificate that is not in `<pkiDir>/trusted/`, naming its thumbprint and the command that trusts it. */
export async function checkServerCertificate(
  manager: OPCUACertificateManager,
  certificate: Buffer,
  settings: OpcUaEndpointSettings,
  who: string,
): Promise<CertificateSummary> {
  const summary = summarizeCertificate(certificate);
  const status = await manager.checkCertificate(leafCertificate(certificate));
  if (status.isGood()) return summary;
  const what = `server certificate of ${settings.endpointUrl} (subject ${summary.subject}, SHA-1 thumbprint ${summary.thumbprint})`;
  if (status.name === 'BadCertificateUntrusted') {
    throw new Error(
      `${who}: ${what} is not trusted: it is not in ${settings.pkiDir}/trusted/certs. ` +
        `Compare the thumbprint with the one the server shows, then trust it with: ${trustCommand(settings.endpointUrl, settings.pkiDir, summary.thumbprint)}`,
    );
  }
  throw new Error(`${who}: ${what} was refused: ${status.toString()} (valid ${summary.validFrom.toISOString()} to ${summary.validTo.toISOString()})`);
}

function identityInfo(lib: OpcUaLibrary, identity: OpcUaIdentity): UserIdentityInfo {
  const { UserTokenType } = lib.client;
  switch (identity.type) {
    case 'anonymous':
      return { type: UserTokenType.Anonymous };
    case 'username':
      return { type: UserTokenType.UserName, userName: identity.username, password: identity.password.reveal() };
    case 'certificate':
      // X509Certificate reads PEM and DER alike; `.raw` is the DER OPC UA sends.
      return { type: UserTokenType.Certificate, certificateData: new X509Certificate(readFileSync(identity.certificateFile)).raw, privateKey: identity.privateKey.reveal() };
  }
}

function describeIdentity(identity: OpcUaIdentity): string {
  switch (identity.type) {
    case 'anonymous':
      return 'anonymous access';
    case 'username':
      return `user "${identity.username}"`;
    case 'certificate':
      return `the user certificate ${identity.certificateFile}`;
  }
}

function identityHint(identity: OpcUaIdentity): string {
  switch (identity.type) {
    case 'anonymous':
      return 'the server wants a user name and password or a user certificate';
    case 'username':
      return 'check the user name and password';
    case 'certificate':
      return 'check that the server trusts the user certificate and that the private key belongs to it';
  }
}

const IDENTITY_REFUSED = /Bad(UserAccessDenied|IdentityTokenRejected|IdentityTokenInvalid|UserSignatureInvalid|CertificateUntrusted|SecurityChecksFailed)/;

/**
 * node-opcua's multi-line messages on one line; its "cannot be established … Err = (connect
 * ECONNREFUSED …)" reduced to the cause.
 */
export function oneLineMessage(err: unknown): string {
  const message = (err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, ' ').trim();
  const cause = /^The connection cannot be established with server .*Err = \((.*)\)$/.exec(message);
  return cause ? cause[1] : message;
}

/**
 * Connects and creates the session. Rejects with an error naming `who`, the endpoint and the
 * cause; whatever was built is torn down first.
 */
export async function openSession(options: OpenSessionOptions): Promise<OpcUaConnection> {
  const { who, endpointUrl, timeoutMs, clock, logger } = options;
  const lib = await loadNodeOpcua(options.libraryLogger ?? logger);
  const manager = await openCertificateManager(lib, options.pkiDir);
  let client: OPCUAClient | null = null;
  let session: ClientSession | null = null;
  let established = false;
  let closing: Promise<void> | null = null;
  let lostReported = false;

  const close = (closeOptions: { graceful?: boolean } = {}): Promise<void> => {
    closing ??= (async () => {
      established = false;
      if (session && closeOptions.graceful !== false) {
        await withTimeout(session.close(true), timeoutMs, clock, 'CloseSession').catch((err) => logger.debug({ err: oneLineMessage(err) }, 'closing the session failed'));
      }
      if (client) await withTimeout(client.disconnect(), timeoutMs, clock, 'disconnect').catch((err) => logger.debug({ err: oneLineMessage(err) }, 'disconnect failed'));
      await manager.dispose().catch(() => undefined);
    })();
    return closing;
  };
  const lost = (why: string): void => {
    if (!established || lostReported) return;
    lostReported = true;
    established = false;
    options.onLost?.(why);
  };
  const checkAbandoned = (): void => {
    if (options.abandoned?.()) throw new Error(`${who}: closed while connecting to ${endpointUrl}`);
  };

  try {
    let serverCertificate: Buffer | undefined;
    let summary: CertificateSummary | undefined;
    if (options.securityMode !== 'None') {
      let endpoints: EndpointDescription[];
      try {
        endpoints = await discoverEndpoints(lib, manager, endpointUrl, timeoutMs, clock);
      } catch (err) {
        throw new Error(`${who}: cannot reach ${endpointUrl} to fetch its certificate: ${oneLineMessage(err)}`, { cause: err });
      }
      checkAbandoned();
      const endpoint = pickEndpoint(lib, endpoints, options, who);
      if (!endpoint.serverCertificate || endpoint.serverCertificate.length === 0) throw new Error(`${who}: ${endpointUrl} sent no server certificate for ${options.securityMode} ${options.securityPolicy}`);
      serverCertificate = endpoint.serverCertificate;
      summary = await checkServerCertificate(manager, serverCertificate, options, who);
      checkAbandoned();
    }

    const created = lib.client.OPCUAClient.create({
      applicationName: APPLICATION_NAME,
      clientName: options.clientName,
      clientCertificateManager: manager,
      securityMode: lib.client.MessageSecurityMode[options.securityMode],
      securityPolicy: lib.client.SecurityPolicy[options.securityPolicy],
      ...(serverCertificate ? { serverCertificate } : {}),
      endpointMustExist: false,
      connectionStrategy: connectionStrategy(timeoutMs),
      requestedSessionTimeout: options.sessionTimeoutMs,
      // node-opcua's transportTimeout is the socket's idle timeout, not a request timeout: a link
      // that carries only publish responses is idle for up to a keep-alive period (at most a quarter
      // of the session timeout), so it must be longer than that or a healthy subscription is dropped.
      transportTimeout: Math.max(60_000, options.sessionTimeoutMs),
      defaultTransactionTimeout: timeoutMs,
      keepSessionAlive: false,
    });
    client = created;
    created.on('connection_lost', () => lost(`connection to ${endpointUrl} lost`));
    created.on('close', (err?: Error | null) => lost(`connection to ${endpointUrl} closed${err ? `: ${oneLineMessage(err)}` : ''}`));
    created.on('backoff', (count: number) => logger.debug({ count }, 'node-opcua backoff (unexpected with maxRetry 0)'));
    await ensureOwnCertificate(created);
    checkAbandoned();
    try {
      await withTimeout(created.connect(endpointUrl), timeoutMs, clock, `connect to ${endpointUrl}`);
    } catch (err) {
      const message = oneLineMessage(err);
      const hint = /BadSecurityChecksFailed|BadCertificate/.test(message)
        ? ` — the server may not trust this client's certificate (${options.pkiDir}/own/certs/client_certificate.pem): add it to the server's trusted certificates`
        : '';
      throw new Error(`${who}: cannot connect to ${endpointUrl}: ${message}${hint}`, { cause: err });
    }
    checkAbandoned();
    try {
      session = await withTimeout(created.createSession(identityInfo(lib, options.identity)), timeoutMs, clock, `CreateSession on ${endpointUrl}`);
    } catch (err) {
      const message = oneLineMessage(err);
      const refused = IDENTITY_REFUSED.exec(message);
      if (refused) {
        throw new Error(`${who}: ${endpointUrl} refused ${describeIdentity(options.identity)}: ${message} — ${identityHint(options.identity)}`, { cause: err });
      }
      throw new Error(`${who}: cannot create a session on ${endpointUrl}: ${message}`, { cause: err });
    }
    checkAbandoned();
    session.on('session_closed', (status: { toString(): string }) => lost(`session on ${endpointUrl} closed (${status.toString()})`));
    session.on('keepalive_failure', () => lost(`session keep-alive on ${endpointUrl} failed`));
    established = true;
    const connection: OpcUaConnection = { lib, client: created, session, certificateManager: manager, ...(summary ? { serverCertificate: summary } : {}), close };
    return connection;
  } catch (err) {
    await close({ graceful: false });
    throw err;
  }
}

export { thumbprintOf };
