import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { hostChecker } from './host-check.js';
import type { GatewayView, LiveState } from '../state/live-state.js';
import { readJsonBody, sendJson as sendJsonAnswer, type JsonBody } from './http-json.js';
import { addressKey, isLoopback } from './login-limiter.js';
import { loadPageAssets, type PageAsset } from './page.js';

/** What the server reads from the live state: cheap views, never the pipeline. */
export type StatusStateSource = Pick<LiveState, 'overview' | 'device' | 'deviceValues' | 'deviceIds' | 'history' | 'alarmList'>;

/** `/metrics` (agent/status/metrics.ts, `createMetrics(snapshot)`). */
export interface StatusMetrics {
  contentType: string;
  render(): Promise<string>;
}

/**
 * Login and sessions (agent/status/auth.ts, `StatusAuth`). `handle` answers its own routes
 * (POST /api/login, POST /api/logout, GET /api/session) and returns false for any other request;
 * `canRead` says whether a request may read the page's data — asked again for every open live
 * stream at every tick, so it must stay cheap (cookie → session lookup); `authorize` checks a
 * state-changing request (session cookie, `x-csrf-token`, Origin).
 */
export interface StatusAuthPort {
  handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean>;
  canRead(req: IncomingMessage): boolean;
  /** /metrics (a scraper on the box cannot log in); `canRead` when absent. */
  canReadMetrics?(req: IncomingMessage): boolean;
  authorize(req: IncomingMessage): { ok: true; name: string } | { ok: false; status: number; error: string };
}

export const STATUS_ALARM_ACTIONS = ['acknowledge', 'shelve', 'unshelve'] as const;
export type StatusAlarmAction = (typeof STATUS_ALARM_ACTIONS)[number];

/** An operator action from the page, with who is acting (the logged-in name). */
export interface StatusAlarmCommand {
  alarm: string;
  action: StatusAlarmAction;
  by: string;
  reason: string;
  /** shelve only. */
  minutes?: number;
}

export interface StatusAlarmResult {
  ok: boolean;
  error?: string;
  state?: string;
  shelvedUntilMs?: number | null;
}

export interface StatusServerOptions {
  host: string;
  port: number;
  /** Reads the live picture; the server never touches the pipeline. */
  snapshot: () => GatewayView;
  isReady: () => boolean;
  /** The page's views (overview, one device, history, alarms). */
  state: StatusStateSource;
  logger: Logger;
  /** Timers of the live streams (default: the process's). */
  clock?: Pick<Clock, 'setTimeout' | 'clearTimeout'>;
  metrics?: StatusMetrics;
  auth?: StatusAuthPort;
  /** Runs an operator action exactly as an MQTT alarm command (audit table, outbox); absent when no alarm rule is configured. */
  alarmAction?: (command: StatusAlarmCommand) => StatusAlarmResult;
  /** Which `Host` headers are answered (agent/status/host-check.ts); default: IP literals, localhost and this machine's name. */
  hostAllowed?: (hostHeader: string | undefined) => boolean;
  /** Concurrent `/api/events` streams (default 32); more are refused with 503. */
  maxStreams?: number;
  /** Concurrent streams from one remote address (IPv6: one /64; default 4); more are refused with 429. */
  maxStreamsPerAddress?: number;
  /**
   * Remote addresses that `maxStreamsPerAddress` does not apply to (only `maxStreams` does).
   * Default: loopback — the box itself, or a reverse proxy on it through which every browser
   * arrives from one address.
   */
  uncappedAddress?: (remoteAddress: string) => boolean;
  /**
   * A stream with more unsent data than this (default 1 MiB) is skipped at a tick; one that stays
   * above it for STREAM_STALLED_TICKS ticks in a row (a client that stopped reading) is dropped.
   */
  streamBacklogBytes?: number;
  /** Open TCP connections (default 256); the kernel's further connections are closed at once. */
  maxConnections?: number;
  /** Time for a client to send a request's headers (default 10 s; node's `headersTimeout`). */
  headersTimeoutMs?: number;
  /** Time for a client to send a whole request, body included (default 30 s; node's `requestTimeout`). Answers — live streams too — are not limited by it. */
  requestTimeoutMs?: number;
  /** How often node checks those two timeouts (default 1 s; node's `connectionsCheckingInterval`). */
  timeoutCheckIntervalMs?: number;
  /** How often a stream gets an overview (default 1000 ms: "at most once a second"). */
  streamIntervalMs?: number;
  /** A comment line on every stream this often, so proxies and browsers see it alive (default 15 s). */
  heartbeatMs?: number;
  /** The `retry:` hint for reconnecting browsers (default 2000 ms). */
  retryMs?: number;
}

/** Longest shelving the page may ask for (the MQTT command's limit, one week). */
const MAX_SHELVE_MINUTES = 7 * 24 * 60;
/** A browser that does not read its stream: events are skipped for it above this much unsent data. */
const STREAM_BACKLOG_BYTES = 1024 * 1024;
/** Ticks in a row above the backlog limit after which a stream is dropped (its client has stopped reading). */
export const STREAM_STALLED_TICKS = 5;
/** TCP keepalive probes on a stream's socket after this much idle time, so a vanished peer is noticed. */
const STREAM_KEEPALIVE_MS = 30_000;

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'content-security-policy': CSP,
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

interface Stream {
  /** Kept for its cookie: read access is checked again at every tick. */
  req: IncomingMessage;
  res: ServerResponse;
  /** The remote address as the per-address cap counts it. */
  address: string;
  device: string | null;
  alarmsVersion: number;
  /** Ticks in a row skipped for a backlog above the limit. */
  stalledTicks: number;
}

const ACTION_ROUTE = /^\/api\/alarms\/([^/]+)\/(acknowledge|shelve|unshelve)$/;
const DEVICE_ROUTE = /^\/api\/devices\/([^/]+)(\/history)?$/;

/**
 * The local status page, its JSON API and its live stream:
 * `/` and `/assets/…` (the page), `/api/overview`, `/api/devices`, `/api/devices/:id`,
 * `/api/devices/:id/history`, `/api/alarms`, `/api/events` (server-sent events),
 * `POST /api/alarms/:id/{acknowledge,shelve,unshelve}`, `/api/status`, `/metrics`, `/healthz`,
 * `/readyz`; login routes from the auth module. docs/http.md is the contract.
 *
 * Streams end when their session does (logout, expiry, a new or unusable password file): read
 * access is checked again for every stream at every tick. A client gets at most
 * `maxStreamsPerAddress` of the `maxStreams`, and a stream whose client stopped reading is dropped.
 *
 * Cost: the streams share one timer; each second the overview is built and serialised once for
 * every browser, a device's tags once for the browsers that have that device open, the alarm
 * list only when it changed; a device goes in full on connect, then compactly (`values`). Nothing is
 * computed while no browser is connected.
 */
export class StatusServer {
  private readonly hostAllowed: (hostHeader: string | undefined) => boolean;
  private server: Server | null = null;
  private assets = new Map<string, PageAsset>();
  private indexHtml = '';
  private readonly streams = new Set<Stream>();
  private timer: TimerHandle | null = null;
  private ticksSinceHeartbeat = 0;
  private readonly clock: Pick<Clock, 'setTimeout' | 'clearTimeout'>;

  constructor(private readonly options: StatusServerOptions) {
    this.hostAllowed = options.hostAllowed ?? hostChecker();
    this.clock = options.clock ?? {
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
    };
  }

  /** Live streams open now. */
  get streamCount(): number {
    return this.streams.size;
  }

  async start(): Promise<{ host: string; port: number }> {
    const page = loadPageAssets();
    this.assets = new Map(page.assets.map((a) => [a.path, a]));
    // Asset URLs carry a hash of their content, so they can be cached for a year and an upgrade is still seen at once.
    const version = createHash('sha256')
      .update(page.assets.map((a) => a.body).reduce((acc, b) => Buffer.concat([acc, b]), Buffer.alloc(0)))
      .digest('hex')
      .slice(0, 12);
    this.indexHtml = page.indexHtml.replaceAll('{{v}}', version);
    // A LAN page: a slow or idle client gets seconds, not minutes, to send its request, and a flood
    // of sockets meets a connection limit rather than the process's file descriptors.
    const server = createServer(
      {
        headersTimeout: this.options.headersTimeoutMs ?? 10_000,
        requestTimeout: this.options.requestTimeoutMs ?? 30_000,
        connectionsCheckingInterval: this.options.timeoutCheckIntervalMs ?? 1000,
      },
      (req, res) => {
        this.handle(req, res).catch((err: unknown) => this.fail(res, err, req.url ?? ''));
      },
    );
    server.maxConnections = this.options.maxConnections ?? 256;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      const onListenError = (err: NodeJS.ErrnoException): void =>
        reject(new Error(`status page: cannot listen on ${this.options.host}:${this.options.port}: ${err.code ?? err.message}`, { cause: err }));
      server.once('error', onListenError);
      server.listen(this.options.port, this.options.host, () => {
        server.off('error', onListenError);
        resolve();
      });
    });
    // An error of the listening server later (accept failing: EMFILE, ENFILE) is logged; without a
    // listener it would be thrown and end the agent.
    server.on('error', (err: NodeJS.ErrnoException) => {
      this.options.logger.error({ err: err.message, code: err.code }, 'status page: server error');
    });
    const address = server.address() as AddressInfo;
    return { host: this.options.host, port: address.port };
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    this.stopTimer();
    for (const s of this.streams) s.res.end();
    this.streams.clear();
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private fail(res: ServerResponse, err: unknown, path: string): void {
    this.options.logger.error({ err: (err as Error).message, path }, 'status page request failed');
    if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
    else res.destroy();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    const read = method === 'GET' || method === 'HEAD';
    const { auth } = this.options;

    // DNS rebinding: only requests addressed to a name this gateway answers to.
    if (!this.hostAllowed(req.headers.host)) {
      return sendJson(res, 421, { error: `this gateway does not answer to the name "${String(req.headers.host).slice(0, 100)}": add it to status.allowedHosts if operators use it` }, req);
    }

    // Liveness and readiness: always open (a supervisor has no session).
    if (path === '/healthz' || path === '/readyz') {
      if (!read) return methodNotAllowed(res, 'GET, HEAD');
      if (path === '/healthz') return sendJson(res, 200, { status: 'ok' }, req);
      const ready = this.options.isReady();
      return sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'starting' }, req);
    }

    // The page itself and its files: always served, so a browser can show the login.
    if (path === '/' || path === '/index.html') {
      if (!read) return methodNotAllowed(res, 'GET, HEAD');
      return send(res, 200, 'text/html; charset=utf-8', this.indexHtml, { 'cache-control': 'no-cache' }, req);
    }
    if (path.startsWith('/assets/')) {
      if (!read) return methodNotAllowed(res, 'GET, HEAD');
      const asset = this.assets.get(path.slice('/assets/'.length));
      if (!asset) return sendJson(res, 404, { error: `no asset ${path}` });
      return send(res, 200, asset.contentType, asset.body, { 'cache-control': 'public, max-age=31536000, immutable' }, req);
    }

    // Login, logout, session: the auth module's own routes.
    if (path.startsWith('/api/') && !isOwnApiPath(path)) {
      if (auth && (await auth.handle(req, res, url))) return;
      if (path === '/api/session') {
        // No auth module: nobody can log in, so nobody can act.
        if (!read) return methodNotAllowed(res, 'GET, HEAD');
        return sendJson(res, 200, { authenticated: false, loginAvailable: false }, req);
      }
      return sendJson(res, 404, { error: `no such endpoint: ${method} ${path}` });
    }

    // Operator actions: a session, its CSRF token and a same-origin request.
    const action = ACTION_ROUTE.exec(path);
    if (action) {
      if (method !== 'POST') return methodNotAllowed(res, 'POST');
      return this.alarmAction(req, res, decodeURIComponent(action[1]), action[2] as StatusAlarmAction);
    }

    if (path === '/metrics' || isOwnApiPath(path)) {
      if (!read) return methodNotAllowed(res, 'GET, HEAD');
      const allowed = !auth || (path === '/metrics' && auth.canReadMetrics ? auth.canReadMetrics(req) : auth.canRead(req));
      if (!allowed) return sendJson(res, 401, { error: 'log in to read the status' });
    }

    const { state } = this.options;
    switch (path) {
      case '/metrics': {
        if (!this.options.metrics) return sendJson(res, 404, { error: 'metrics are not enabled' });
        const body = await this.options.metrics.render();
        return send(res, 200, this.options.metrics.contentType, body, {}, req);
      }
      case '/api/status':
        return sendJson(res, 200, this.options.snapshot(), req);
      case '/api/overview':
        return sendJson(res, 200, state.overview(), req);
      case '/api/devices':
        return sendJson(res, 200, { devices: state.overview().devices }, req);
      case '/api/alarms':
        return sendJson(res, 200, this.alarmsBody(), req);
      case '/api/events':
        return this.openStream(req, res, url);
    }
    const device = DEVICE_ROUTE.exec(path);
    if (device) {
      const id = decodeURIComponent(device[1]);
      if (device[2]) {
        const tags = url.searchParams.get('tags');
        const history = state.history(id, tags ? tags.split(',').filter(Boolean) : undefined);
        return history ? sendJson(res, 200, history, req) : sendJson(res, 404, { error: `no device "${id}"` });
      }
      const view = state.device(id);
      return view ? sendJson(res, 200, view, req) : sendJson(res, 404, { error: `no device "${id}"` });
    }
    return sendJson(res, 404, { error: `no such endpoint: ${method} ${path}` });
  }

  private alarmsBody(): ReturnType<StatusStateSource['alarmList']> & { actions: boolean } {
    return { ...this.options.state.alarmList(), actions: this.options.alarmAction !== undefined };
  }

  private async alarmAction(req: IncomingMessage, res: ServerResponse, alarm: string, action: StatusAlarmAction): Promise<void> {
    const { auth, alarmAction } = this.options;
    if (!auth) return sendJson(res, 403, { ok: false, error: 'log in to act: this gateway has no login configured' });
    const who = auth.authorize(req);
    if (!who.ok) return sendJson(res, who.status, { ok: false, error: who.error });
    if (!alarmAction) return sendJson(res, 409, { ok: false, error: 'no alarm rules are configured on this gateway' });
    // No body at all counts as {} (acknowledge needs nothing); a body must be JSON.
    const empty = req.headers['content-length'] === '0' || (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined);
    const body: JsonBody = empty ? { ok: true, value: {} } : await readJsonBody(req);
    if (!body.ok) return sendJson(res, body.status, { ok: false, error: body.error });
    const b = body.value as Record<string, unknown>;
    if (b === null || typeof b !== 'object' || Array.isArray(b)) return sendJson(res, 400, { ok: false, error: 'the body must be a JSON object' });
    if (b.reason !== undefined && (typeof b.reason !== 'string' || b.reason.length > 1000)) return sendJson(res, 400, { ok: false, error: 'reason: a text of at most 1000 characters' });
    const command: StatusAlarmCommand = { alarm, action, by: who.name, reason: typeof b.reason === 'string' ? b.reason : '' };
    if (action === 'shelve') {
      if (typeof b.minutes !== 'number' || !Number.isFinite(b.minutes) || b.minutes <= 0 || b.minutes > MAX_SHELVE_MINUTES) {
        return sendJson(res, 400, { ok: false, error: `minutes: how long to shelve, 1–${MAX_SHELVE_MINUTES}` });
      }
      command.minutes = b.minutes;
    } else if (b.minutes !== undefined) {
      return sendJson(res, 400, { ok: false, error: `minutes applies to shelve, not ${action}` });
    }
    const result = alarmAction(command);
    if (!result.ok) return sendJson(res, result.error?.startsWith('no alarm') ? 404 : 409, { ok: false, alarm, action, error: result.error ?? 'refused' });
    // Browsers see the change at the next tick; the one that acted gets it in the answer.
    return sendJson(res, 200, { ok: true, alarm, action, by: who.name, state: result.state ?? null, shelvedUntilMs: result.shelvedUntilMs ?? null });
  }

  // ---- live streams ---------------------------------------------------------------------------

  private openStream(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const device = url.searchParams.get('device');
    if (device !== null && this.options.state.device(device) === null) return sendJson(res, 404, { error: `no device "${device}"` });
    const max = this.options.maxStreams ?? 32;
    if (this.streams.size >= max) {
      return sendJson(res, 503, { error: `too many live streams (${max}); close another browser tab or try again later` }, undefined, { 'retry-after': '10' });
    }
    const remote = req.socket.remoteAddress ?? 'unknown';
    const address = addressKey(remote);
    const maxPerAddress = this.options.maxStreamsPerAddress ?? 4;
    let fromAddress = 0;
    for (const s of this.streams) if (s.address === address) fromAddress++;
    if (fromAddress >= maxPerAddress && !(this.options.uncappedAddress ?? isLoopback)(remote)) {
      return sendJson(res, 429, { error: `too many live streams from your address (${maxPerAddress}); close another browser tab or try again later` }, undefined, { 'retry-after': '10' });
    }
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    req.socket.setNoDelay(true);
    req.socket.setKeepAlive(true, STREAM_KEEPALIVE_MS);
    const stream: Stream = { req, res, address, device, alarmsVersion: -1, stalledTicks: 0 };
    this.streams.add(stream);
    const cleanup = (): void => {
      this.streams.delete(stream);
      if (this.streams.size === 0) this.stopTimer();
    };
    req.once('close', cleanup);
    res.once('close', cleanup);
    res.once('error', cleanup);
    // A new browser gets everything at once; afterwards, the shared tick.
    const state = this.options.state;
    const alarms = this.alarmsBody();
    stream.alarmsVersion = alarms.version;
    let first = `retry: ${this.options.retryMs ?? 2000}\n\n`;
    first += sseEvent('overview', JSON.stringify(state.overview()));
    first += sseEvent('alarms', JSON.stringify(alarms));
    if (device !== null) first += sseEvent('device', JSON.stringify(state.device(device)));
    res.write(first);
    this.startTimer();
  }

  private startTimer(): void {
    if (this.timer !== null || this.streams.size === 0) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      try {
        this.tick();
      } catch (err) {
        this.options.logger.error({ err: (err as Error).message }, 'status stream tick failed');
      }
      this.startTimer();
    }, this.options.streamIntervalMs ?? 1000);
  }

  private stopTimer(): void {
    if (this.timer === null) return;
    this.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  /**
   * Ends the streams that may no longer read: their session ended (logout, idle or absolute
   * expiry, a new or unusable password file). Only with a login to read; a cookie → session lookup each.
   */
  private dropUnreadableStreams(): void {
    const { auth } = this.options;
    if (!auth) return;
    for (const s of this.streams) {
      if (auth.canRead(s.req)) continue;
      this.streams.delete(s);
      s.res.end();
    }
  }

  /** One second of the live streams: each view built and serialised once, whatever the number of browsers. */
  private tick(): void {
    this.dropUnreadableStreams();
    if (this.streams.size === 0) return;
    const state = this.options.state;
    const overview = sseEvent('overview', JSON.stringify(state.overview()));
    const alarms = this.alarmsBody();
    let alarmsEvent: string | null = null;
    const devices = new Map<string, string>();
    const every = Math.max(1, Math.round((this.options.heartbeatMs ?? 15_000) / (this.options.streamIntervalMs ?? 1000)));
    const heartbeat = ++this.ticksSinceHeartbeat >= every;
    if (heartbeat) this.ticksSinceHeartbeat = 0;
    const backlogLimit = this.options.streamBacklogBytes ?? STREAM_BACKLOG_BYTES;
    for (const s of this.streams) {
      // A browser that does not read (a suspended tab, a dead link) is skipped rather than buffered
      // for; one that stays behind for several ticks has stopped reading and gives its slot back.
      if (s.res.writableLength > backlogLimit) {
        if (++s.stalledTicks >= STREAM_STALLED_TICKS) {
          this.options.logger.warn({ address: s.address, unsentBytes: s.res.writableLength }, 'status page: live stream dropped (its client stopped reading)');
          this.streams.delete(s);
          s.res.destroy();
        }
        continue;
      }
      s.stalledTicks = 0;
      let chunk = heartbeat ? ': heartbeat\n\n' : '';
      chunk += overview;
      if (s.alarmsVersion !== alarms.version) {
        alarmsEvent ??= sseEvent('alarms', JSON.stringify(alarms));
        chunk += alarmsEvent;
        s.alarmsVersion = alarms.version;
      }
      if (s.device !== null) {
        let event = devices.get(s.device);
        if (event === undefined) {
          // The full view went out on connect; what changes goes compactly.
          const view = state.deviceValues(s.device);
          event = view ? sseEvent('values', JSON.stringify(view)) : '';
          devices.set(s.device, event);
        }
        chunk += event;
      }
      s.res.write(chunk);
    }
  }
}

function isOwnApiPath(path: string): boolean {
  return (
    path === '/api/status' ||
    path === '/api/overview' ||
    path === '/api/devices' ||
    path === '/api/alarms' ||
    path === '/api/events' ||
    DEVICE_ROUTE.test(path) ||
    ACTION_ROUTE.test(path)
  );
}

function sseEvent(name: string, data: string): string {
  // JSON.stringify never emits a raw newline, so one data line is enough.
  return `event: ${name}\ndata: ${data}\n\n`;
}

function methodNotAllowed(res: ServerResponse, allow: string): void {
  sendJson(res, 405, { error: 'method not allowed' }, undefined, { allow });
}

/** Every JSON answer goes through http-json's (a 413 closes the connection), with the page's security headers. */
function sendJson(res: ServerResponse, status: number, body: unknown, req?: IncomingMessage, headers: Record<string, string> = {}): void {
  sendJsonAnswer(res, status, body, { ...SECURITY_HEADERS, ...headers }, { head: req?.method === 'HEAD' });
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer, headers: Record<string, string> = {}, req?: IncomingMessage): void {
  res.writeHead(status, {
    'content-type': type,
    'cache-control': 'no-store',
    'content-length': String(Buffer.byteLength(body)),
    ...SECURITY_HEADERS,
    ...headers,
  });
  res.end(req?.method === 'HEAD' ? undefined : body);
}

/** A request id for an action from the page, for the audit table (MQTT commands bring their own). */
export function statusRequestId(): string {
  return `status-page-${randomUUID()}`;
}
