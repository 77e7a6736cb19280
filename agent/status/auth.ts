/**
 * Who may read the status page and who may act on it (issue 5). Independent of the server: it
 * sees only node:http requests, the password file, a Clock and a Logger.
 *
 * API (for agent/status/server.ts and the runtime):
 *
 *   const auth = new StatusAuth({ passwordFile, clock, logger, readAccess, sessionIdleMs });
 *   const { generatedPassword } = auth.initialise();   // at start; print a non-null password ONCE
 *   await auth.handle(req, res, url)   // true when it answered: POST /api/login, POST /api/logout,
 *                                      //   GET /api/session
 *   auth.canRead(req)                  // page and /api/* reads: true with readAccess "open", else a session
 *   auth.canReadMetrics(req)           // /metrics: canRead, or a request from the box itself
 *   auth.authorize(req)                // every state-changing request: origin, session, CSRF →
 *                                      //   { ok: true, name } (the operator, for the audit's `by`)
 *                                      //   or { ok: false, status, error } to send as JSON
 *                                      //   (503 while the password file is unusable)
 *   readJsonBody(req), sendJson(res, status, body)   // from ./http-json.js, re-exported here
 *
 * The endpoints:
 *   POST /api/login   {"name":"maria","password":"…"} → 200 {name, csrf, expiresMs} and the cookie
 *                     allbit_session; 400 bad body, 401 wrong password, 403 cross-origin, 413, 415,
 *                     429 with Retry-After (too many wrong passwords), 503 password file unusable
 *   POST /api/logout  (x-csrf-token when logged in) → 200 {authenticated: false}, cookie cleared
 *   GET  /api/session → {authenticated, name?, csrf?, expiresMs?, readAccess}
 *   Errors are always {error: "…"}. `expiresMs` is wall-clock epoch ms: when the session ends if
 *   it is not used for an action before.
 *
 * Rules:
 * - One operator password per gateway, stored only as a scrypt hash (./password-file.ts). The
 *   name given at login is who the operator says they are; it is recorded with each action.
 * - The password file is checked (stat) at every login attempt, action and login-protected read
 *   (and so at every tick of a login-protected live stream): a new password (`allbit password`)
 *   is used at once and ends every session opened before it. A damaged or missing file fails
 *   closed: it ends every session, refuses logins and actions (503, logged with the path) and,
 *   with readAccess "login", reads — never a silent reset. A good file that comes back afterwards
 *   is compared with the last good password: a different one is a new password (sessions end).
 * - Sessions live in memory (a restart logs everyone out). They end after `sessionIdleMs` without
 *   a login or an action — reading (the page's polling) does not keep a session alive — and after
 *   12 hours in any case; both judged on the injected monotonic clock.
 * - Every state-changing request needs the session's CSRF token in `x-csrf-token` (compared in
 *   constant time) and, when the browser says where it comes from (`Origin`, `Sec-Fetch-Site`),
 *   the same origin. Login and logout are checked for origin too.
 * - Logins are rate-limited (./login-limiter.ts): 5 wrong passwords in 5 minutes lock an address
 *   for 5 minutes, at most 30 wrong passwords a minute gateway-wide, and at most one password
 *   check in flight per address (4 in all: each scrypt takes 32 MiB).
 *   The remote address is the socket's: behind a reverse proxy every client shares the proxy's.
 * - /metrics: with readAccess "login" it needs a session, except from the box itself (loopback),
 *   because Prometheus cannot log in: scrape it with an agent on the box (or keep readAccess open).
 *   It carries the same plant data as the API, so it is not open to the network when reading is not.
 * - No response carries the password, its hash or salt, or any secret of the config.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { readJsonBody, sendJson } from './http-json.js';
import { addressKey, isLoopback, LoginLimiter, type LoginLimits } from './login-limiter.js';
import { generatePassword, hashPassword, MAX_PASSWORD_LENGTH, passwordFileVersion, readPasswordFile, verifyPassword, writePasswordFile, type PasswordHash } from './password-file.js';

export { MAX_BODY_BYTES, readJsonBody, sendJson, type JsonBody } from './http-json.js';

export type ReadAccess = 'open' | 'login';

export interface StatusAuthOptions {
  /** Absolute path of the password file (config `status.passwordFile`, resolved). */
  passwordFile: string;
  clock: Clock;
  logger: Logger;
  readAccess: ReadAccess;
  /** Config `status.sessionIdleMin` × 60 000. */
  sessionIdleMs: number;
  /** Absolute session lifetime; default 12 h. */
  sessionMaxMs?: number;
  /** At most this many sessions; the least recently active one ends first. Default 64. */
  maxSessions?: number;
  loginLimits?: Partial<LoginLimits>;
}

export type Authorization = { ok: true; name: string } | { ok: false; status: number; error: string };

export interface SessionView {
  authenticated: boolean;
  name?: string;
  csrf?: string;
  expiresMs?: number;
  readAccess: ReadAccess;
}

export const SESSION_COOKIE = 'allbit_session';
export const CSRF_HEADER = 'x-csrf-token';
export const SESSION_MAX_MS = 12 * 60 * 60_000;
/** Who the operator says they are: 1–64 characters, none of them control or invisible format characters. */
const NAME_PATTERN = /^[^\p{C}]{1,64}$/u;
const MAX_CHECKS_IN_FLIGHT = 4;
const PASSWORD_FILE_UNUSABLE = 'login and actions are unavailable: the password file is missing or damaged (see the agent log)';

interface Session {
  name: string;
  csrf: string;
  createdMs: number;
  lastActiveMs: number;
}

type Lookup = { state: 'none' } | { state: 'expired' } | { state: 'valid'; key: string; session: Session };

export class StatusAuth {
  private readonly sessions = new Map<string, Session>();
  private readonly limiter: LoginLimiter;
  private readonly sessionMaxMs: number;
  private readonly maxSessions: number;
  private loadedVersion: string | null | undefined = undefined;
  /** The password now in force; null while the file is missing or damaged (nobody may log in or act). */
  private password: PasswordHash | null = null;
  /** The last password read from a good file, kept across a damaged spell to recognise a new one. */
  private lastGoodPassword: PasswordHash | null = null;
  private passwordProblem = 'the password file has not been read yet';
  private readonly checksInFlight = new Map<string, number>();
  private totalChecksInFlight = 0;

  constructor(private readonly options: StatusAuthOptions) {
    this.limiter = new LoginLimiter(options.clock, options.loginLimits);
    this.sessionMaxMs = options.sessionMaxMs ?? SESSION_MAX_MS;
    this.maxSessions = options.maxSessions ?? 64;
  }

  /**
   * At start: creates the password file when there is none and returns the generated password —
   * to be printed once, it is stored nowhere in plain — or null when the file exists. Throws
   * PasswordFileError (with the path) when the file exists but cannot be read or is damaged.
   */
  initialise(): { generatedPassword: string | null } {
    const path = this.options.passwordFile;
    let generatedPassword: string | null = null;
    if (readPasswordFile(path) === null) {
      generatedPassword = generatePassword();
      writePasswordFile(path, hashPassword(generatedPassword, this.options.clock.now()));
      this.options.logger.info({ passwordFile: path }, 'status page: no password file, generated a password (shown once on the console; change it with `allbit password`)');
    }
    this.refreshPassword();
    if (this.password === null) throw new Error(`status page: ${this.passwordProblem}`);
    return { generatedPassword };
  }

  /** Answers the session endpoints; false (nothing sent) for any other path. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const route = ROUTES[url.pathname];
    if (!route) return false;
    if (req.method !== route.method && !(route.method === 'GET' && req.method === 'HEAD')) {
      sendJson(res, 405, { error: `use ${route.method} for ${url.pathname}` }, { allow: route.method === 'GET' ? 'GET, HEAD' : route.method });
      return true;
    }
    try {
      if (route.name === 'login') await this.login(req, res);
      else if (route.name === 'logout') this.logout(req, res);
      else sendJson(res, 200, this.sessionView(req));
    } catch (err) {
      this.options.logger.error({ err: (err as Error).message, path: url.pathname }, 'status page: session request failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
    }
    return true;
  }

  /** May this request read the page and its data? Reading does not keep a session alive. */
  canRead(req: IncomingMessage): boolean {
    if (this.options.readAccess === 'open') return true;
    this.refreshPassword();
    if (this.password === null) return false;
    return this.lookup(req).state === 'valid';
  }

  /** /metrics: as canRead, and always from the box itself (a local scraper cannot log in). */
  canReadMetrics(req: IncomingMessage): boolean {
    return this.canRead(req) || isLoopback(req.socket.remoteAddress);
  }

  /** For every state-changing request: same origin, a live session, its CSRF token. An allowed action keeps the session alive. */
  authorize(req: IncomingMessage): Authorization {
    if (!sameOrigin(req)) return { ok: false, status: 403, error: 'cross-origin request refused' };
    this.refreshPassword();
    if (this.password === null) return { ok: false, status: 503, error: PASSWORD_FILE_UNUSABLE };
    const found = this.lookup(req);
    if (found.state === 'none') return { ok: false, status: 401, error: 'login required' };
    if (found.state === 'expired') return { ok: false, status: 401, error: 'session expired: log in again' };
    const csrfProblem = checkCsrf(req, found.session);
    if (csrfProblem) return { ok: false, status: 403, error: csrfProblem };
    found.session.lastActiveMs = this.options.clock.monotonicMs();
    return { ok: true, name: found.session.name };
  }

  /** Live sessions (for tests and metrics). */
  sessionCount(): number {
    this.pruneExpired();
    return this.sessions.size;
  }

  private async login(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!sameOrigin(req)) return sendJson(res, 403, { error: 'cross-origin request refused' });
    const remote = req.socket.remoteAddress ?? 'unknown';
    const key = addressKey(remote);
    const permission = this.limiter.check(remote);
    if (!permission.allowed) return tooManyAttempts(res, permission.retryAfterMs, permission.scope === 'address' ? 'too many wrong passwords from your address' : 'too many wrong passwords at this gateway');
    const body = await readJsonBody(req);
    if (!body.ok) return sendJson(res, body.status, { error: body.error });
    const credentials = parseLogin(body.value);
    if ('error' in credentials) return sendJson(res, 400, { error: credentials.error });

    this.refreshPassword();
    const stored = this.password;
    if (stored === null) return sendJson(res, 503, { error: PASSWORD_FILE_UNUSABLE });
    if ((this.checksInFlight.get(key) ?? 0) > 0 || this.totalChecksInFlight >= MAX_CHECKS_IN_FLIGHT) return tooManyAttempts(res, 1000, 'another login attempt is being checked');
    this.checksInFlight.set(key, (this.checksInFlight.get(key) ?? 0) + 1);
    this.totalChecksInFlight++;
    let good: boolean;
    try {
      good = await verifyPassword(credentials.password, stored);
    } finally {
      this.totalChecksInFlight--;
      const n = (this.checksInFlight.get(key) ?? 1) - 1;
      if (n > 0) this.checksInFlight.set(key, n);
      else this.checksInFlight.delete(key);
    }
    // The password may have changed while scrypt ran; a stale match must not open a session.
    if (good && this.password !== stored) good = false;
    if (!good) {
      const locked = this.limiter.recordFailure(remote);
      this.options.logger.warn({ address: remote, name: credentials.name, locked }, 'status page: login refused (wrong password)');
      return sendJson(res, 401, { error: 'wrong password' });
    }
    this.limiter.recordSuccess(remote);

    const previous = this.lookup(req);
    if (previous.state === 'valid') this.sessions.delete(previous.key);
    const token = randomBytes(32).toString('base64url');
    const now = this.options.clock.monotonicMs();
    const session: Session = { name: credentials.name, csrf: randomBytes(32).toString('base64url'), createdMs: now, lastActiveMs: now };
    this.makeRoom();
    this.sessions.set(tokenKey(token), session);
    this.options.logger.info({ address: remote, name: session.name }, 'status page: operator logged in');
    // No `Secure`: the page is plain HTTP on a local interface, and a Secure cookie would never be
    // sent back. HttpOnly keeps it from scripts; SameSite=Strict from other sites' requests.
    sendJson(res, 200, { name: session.name, csrf: session.csrf, expiresMs: this.expiresMs(session) }, { 'set-cookie': `${SESSION_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/` });
  }

  private logout(req: IncomingMessage, res: ServerResponse): void {
    if (!sameOrigin(req)) return sendJson(res, 403, { error: 'cross-origin request refused' });
    const found = this.lookup(req);
    if (found.state === 'valid') {
      const csrfProblem = checkCsrf(req, found.session);
      if (csrfProblem) return sendJson(res, 403, { error: csrfProblem });
      this.sessions.delete(found.key);
      this.options.logger.info({ name: found.session.name }, 'status page: operator logged out');
    }
    sendJson(res, 200, { authenticated: false }, { 'set-cookie': `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0` });
  }

  private sessionView(req: IncomingMessage): SessionView {
    const readAccess = this.options.readAccess;
    this.refreshPassword();
    const found = this.lookup(req);
    if (this.password === null || found.state !== 'valid') return { authenticated: false, readAccess };
    const s = found.session;
    return { authenticated: true, name: s.name, csrf: s.csrf, expiresMs: this.expiresMs(s), readAccess };
  }

  private lookup(req: IncomingMessage): Lookup {
    const tokens = cookieValues(req.headers.cookie, SESSION_COOKIE);
    if (tokens.length === 0) return { state: 'none' };
    let expired = false;
    for (const token of tokens) {
      const key = tokenKey(token);
      const session = this.sessions.get(key);
      if (!session) continue;
      if (this.isExpired(session)) {
        this.sessions.delete(key);
        this.options.logger.info({ name: session.name }, 'status page: session expired');
        expired = true;
        continue;
      }
      return { state: 'valid', key, session };
    }
    // An unknown token is most often a session from before a restart or a password change.
    return expired ? { state: 'expired' } : { state: 'none' };
  }

  private isExpired(s: Session): boolean {
    const now = this.options.clock.monotonicMs();
    return now - s.lastActiveMs >= this.options.sessionIdleMs || now - s.createdMs >= this.sessionMaxMs;
  }

  private expiresMs(s: Session): number {
    const endMono = Math.min(s.lastActiveMs + this.options.sessionIdleMs, s.createdMs + this.sessionMaxMs);
    return this.options.clock.now() + (endMono - this.options.clock.monotonicMs());
  }

  private pruneExpired(): void {
    for (const [key, s] of this.sessions) if (this.isExpired(s)) this.sessions.delete(key);
  }

  private makeRoom(): void {
    this.pruneExpired();
    while (this.sessions.size >= this.maxSessions) {
      let oldestKey: string | null = null;
      let oldest = Infinity;
      for (const [key, s] of this.sessions) {
        if (s.lastActiveMs < oldest) {
          oldest = s.lastActiveMs;
          oldestKey = key;
        }
      }
      if (oldestKey === null) break;
      this.sessions.delete(oldestKey);
    }
  }

  /**
   * Re-reads the password file when it changed (stat only otherwise). Fails closed: a missing or
   * damaged file ends every session. A good file whose password differs from the last good one
   * (even with a damaged spell in between) ends every session too.
   */
  private refreshPassword(): void {
    const path = this.options.passwordFile;
    const version = passwordFileVersion(path);
    if (version === this.loadedVersion) return;
    this.loadedVersion = version;
    try {
      this.password = readPasswordFile(path);
      if (this.password === null) this.passwordProblem = `the password file ${path} is missing — set a password with \`allbit password --config FILE --generate\``;
    } catch (err) {
      this.password = null;
      this.passwordProblem = (err as Error).message;
    }
    if (this.password === null) {
      const ended = this.endAllSessions();
      this.options.logger.error({ passwordFile: path, problem: this.passwordProblem, sessionsEnded: ended }, 'status page: every session ended; logins and actions refused until the password file is repaired');
      return;
    }
    const lastGood = this.lastGoodPassword;
    this.lastGoodPassword = this.password;
    if (lastGood !== null && !(lastGood.hash.equals(this.password.hash) && lastGood.salt.equals(this.password.salt))) {
      const ended = this.endAllSessions();
      this.options.logger.info({ passwordFile: path, sessionsEnded: ended }, 'status page: the password was changed; every session ended');
    }
  }

  private endAllSessions(): number {
    const ended = this.sessions.size;
    this.sessions.clear();
    return ended;
  }
}

const ROUTES: Record<string, { name: 'login' | 'logout' | 'session'; method: 'GET' | 'POST' }> = {
  '/api/login': { name: 'login', method: 'POST' },
  '/api/logout': { name: 'logout', method: 'POST' },
  '/api/session': { name: 'session', method: 'GET' },
};

function parseLogin(value: unknown): { name: string; password: string } | { error: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { error: 'expected {"name": "…", "password": "…"}' };
  const { name, password } = value as Record<string, unknown>;
  const trimmed = typeof name === 'string' ? name.trim() : '';
  if (!NAME_PATTERN.test(trimmed)) return { error: '"name" must be 1–64 printable characters: who you are, recorded with every action' };
  if (typeof password !== 'string' || password.length === 0) return { error: '"password" is required' };
  if (password.length > MAX_PASSWORD_LENGTH) return { error: `"password" is longer than ${MAX_PASSWORD_LENGTH} characters` };
  return { name: trimmed, password };
}

function tooManyAttempts(res: ServerResponse, retryAfterMs: number, why: string): void {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  sendJson(res, 429, { error: `${why}: try again in ${seconds} s` }, { 'retry-after': String(seconds) });
}

/**
 * False when the browser says the request comes from another origin: an `Origin` that is not this
 * Host (or "null"), or `Sec-Fetch-Site` other than same-origin / none. Clients that send neither
 * (curl, scripts) are not browsers that could be misused by another page.
 */
export function sameOrigin(req: IncomingMessage): boolean {
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') return false;
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  const host = req.headers.host;
  if (!host || origin === 'null') return false;
  try {
    return new URL(origin).host.toLowerCase() === host.toLowerCase();
  } catch {
    return false;
  }
}

function checkCsrf(req: IncomingMessage, session: Session): string | null {
  const given = req.headers[CSRF_HEADER];
  if (typeof given !== 'string' || given === '') return `missing CSRF token (header ${CSRF_HEADER})`;
  // Equal-length digests, so the comparison neither fails early nor leaks the length.
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(session.csrf).digest();
  return timingSafeEqual(a, b) ? null : 'wrong CSRF token';
}

/** Sessions are kept by the SHA-256 of their token, so the map never holds a usable token. */
function tokenKey(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function cookieValues(header: string | undefined, name: string): string[] {
  if (!header) return [];
  const values: string[] = [];
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim();
      if (/^[A-Za-z0-9_-]{43}$/.test(value)) values.push(value);
    }
  }
  return values;
}
