/**
 * StatusAuth against real HTTP requests (a tiny node:http server on an ephemeral port that calls
 * `auth.handle`, `auth.authorize`, `auth.canRead`), real password files in a temp folder and a
 * FakeClock for every expiry and lock.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { recordingLogger } from '../../helpers/recording-logger.js';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { passwordCommand } from '../../../agent/password-command.js';
import { readJsonBody, sendJson, StatusAuth, type ReadAccess } from '../../../agent/status/auth.js';
import { hashPassword, readPasswordFile, writePasswordFile } from '../../../agent/status/password-file.js';
import { FakeClock } from '../../fakes/fake-clock.js';

const MIN = 60_000;

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json: Record<string, unknown>;
}

let dir: string;
let passwordFile: string;
let clock: FakeClock;
let logLines: string[];
let servers: Server[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'allbit-auth-'));
  passwordFile = join(dir, 'data', 'outbox-status-password.json');
  clock = new FakeClock();
  logLines = [];
  servers = [];
});

afterEach(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
  rmSync(dir, { recursive: true, force: true });
});

function makeAuth(readAccess: ReadAccess = 'open', sessionIdleMin = 30): StatusAuth {
  return new StatusAuth({ passwordFile, clock, logger: recordingLogger(logLines), readAccess, sessionIdleMs: sessionIdleMin * MIN });
}

/** The server the way agent/status/server.ts will use the API: session endpoints, one read, one action. */
async function serve(auth: StatusAuth): Promise<(method: string, path: string, options?: { headers?: Record<string, string>; body?: string | object }) => Promise<Reply>> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    void (async () => {
      if (await auth.handle(req, res, url)) return;
      if (url.pathname === '/api/read') {
        if (!auth.canRead(req)) return sendJson(res, 401, { error: 'login required' });
        return sendJson(res, 200, { data: 'plant' });
      }
      if (url.pathname === '/api/action' && req.method === 'POST') {
        const who = auth.authorize(req);
        if (!who.ok) return sendJson(res, who.status, { error: who.error });
        const body = await readJsonBody(req);
        if (!body.ok) return sendJson(res, body.status, { error: body.error });
        return sendJson(res, 200, { by: who.name, body: body.value });
      }
      sendJson(res, 404, { error: 'not found' });
    })();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return (method, path, options = {}) =>
    new Promise<Reply>((resolve, reject) => {
      const body = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
      const headers: Record<string, string> = { ...(body !== undefined && typeof options.body === 'object' ? { 'content-type': 'application/json' } : {}), ...options.headers };
      const req = request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          let json: Record<string, unknown> = {};
          try {
            json = JSON.parse(text) as Record<string, unknown>;
          } catch {
            // not JSON; the test looks at text
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      });
      req.on('error', reject);
      if (body !== undefined) req.write(body);
      req.end();
    });
}

function cookieOf(reply: Reply): string {
  const setCookie = reply.headers['set-cookie']?.[0];
  if (!setCookie) throw new Error(`no cookie in ${reply.status} ${reply.text}`);
  return setCookie.split(';')[0];
}

async function loggedIn(http: Awaited<ReturnType<typeof serve>>, password: string, name = 'maria'): Promise<{ cookie: string; csrf: string; reply: Reply }> {
  const reply = await http('POST', '/api/login', { body: { name, password } });
  expect(reply.status, reply.text).toBe(200);
  return { cookie: cookieOf(reply), csrf: reply.json.csrf as string, reply };
}

describe('password file', () => {
  it('is created at the first start with a generated password, returned once; the second start returns none', () => {
    const first = makeAuth().initialise();
    expect(first.generatedPassword).toMatch(/^[a-z2-9]{5}-[a-z2-9]{5}-[a-z2-9]{5}-[a-z2-9]{5}$/);
    expect(first.generatedPassword).not.toMatch(/[ilo01]/);
    const text = readFileSync(passwordFile, 'utf8');
    expect(text).not.toContain(first.generatedPassword!);
    expect(JSON.parse(text)).toMatchObject({ format: 'allbit-status-password', version: 1, kdf: 'scrypt', N: 32768, r: 8, p: 1, keyLength: 32 });
    expect(statSync(passwordFile).mode & 0o777).toBe(0o600);

    const second = makeAuth().initialise();
    expect(second.generatedPassword).toBeNull();
    expect(readFileSync(passwordFile, 'utf8')).toBe(text); // untouched
    expect(logLines.join('\n')).not.toContain(first.generatedPassword!);
  });

  it('two hashes of one password differ (random salt)', () => {
    const a = hashPassword('correct horse battery');
    const b = hashPassword('correct horse battery');
    expect(a.salt.equals(b.salt)).toBe(false);
    expect(a.hash.equals(b.hash)).toBe(false);
  });

  it('a damaged file stops the start with its path, and is not replaced', () => {
    makeAuth().initialise();
    writeFileSync(passwordFile, '{"format": "allbit-status-password", "version": 1, "kdf": "scrypt", "N": 32768');
    expect(() => makeAuth().initialise()).toThrow(new RegExp(`${passwordFile.replace(/[/\\.]/g, '\\$&')}: not valid JSON: damaged`));
    expect(() => readPasswordFile(passwordFile)).toThrow(/damaged — set a new password with `allbit password/);
    writeFileSync(passwordFile, JSON.stringify({ format: 'allbit-status-password', version: 1, kdf: 'scrypt', N: 32768, r: 8, p: 1, keyLength: 32, salt: 'c2FsdA==', hash: 'aGFzaA==' }));
    expect(() => makeAuth().initialise()).toThrow(/"salt" is too short/);
    expect(readFileSync(passwordFile, 'utf8')).toContain('c2FsdA==');
  });
});

describe('login and sessions', () => {
  it('logs in with the right password: the name, a CSRF token, the expiry and an HttpOnly SameSite=Strict cookie', async () => {
    const auth = makeAuth();
    const { generatedPassword } = auth.initialise();
    const http = await serve(auth);

    const before = await http('GET', '/api/session');
    expect(before.json).toEqual({ authenticated: false, readAccess: 'open' });

    const { cookie, csrf, reply } = await loggedIn(http, generatedPassword!, '  Maria Müller ');
    expect(reply.json).toEqual({ name: 'Maria Müller', csrf, expiresMs: clock.now() + 30 * MIN });
    expect(csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const attributes = reply.headers['set-cookie']![0].split(';').map((a) => a.trim());
    expect(attributes[0]).toMatch(/^allbit_session=[A-Za-z0-9_-]{43}$/);
    expect(attributes.slice(1).sort()).toEqual(['HttpOnly', 'Path=/', 'SameSite=Strict']);
    expect(reply.headers['cache-control']).toBe('no-store');

    const session = await http('GET', '/api/session', { headers: { cookie } });
    expect(session.json).toEqual({ authenticated: true, name: 'Maria Müller', csrf, expiresMs: clock.now() + 30 * MIN, readAccess: 'open' });
    const action = await http('POST', '/api/action', { headers: { cookie, 'x-csrf-token': csrf }, body: { alarm: 'a1' } });
    expect(action.json).toEqual({ by: 'Maria Müller', body: { alarm: 'a1' } });
    expect(auth.sessionCount()).toBe(1);
  });

  it('refuses a wrong password with 401 and no cookie', async () => {
    const auth = makeAuth();
    auth.initialise();
    const http = await serve(auth);
    const reply = await http('POST', '/api/login', { body: { name: 'maria', password: 'not-the-password' } });
    expect(reply.status).toBe(401);
    expect(reply.json).toEqual({ error: 'wrong password' });
    expect(reply.headers['set-cookie']).toBeUndefined();
    expect(auth.sessionCount()).toBe(0);
  });

  it('refuses bad login bodies with clear 4xx errors', async () => {
    const auth = makeAuth();
    const { generatedPassword: password } = auth.initialise();
    const http = await serve(auth);
    const cases: Array<[string | object, Record<string, string>, number, RegExp]> = [
      [{ name: '', password }, {}, 400, /"name" must be 1–64 printable characters/],
      [{ name: 'x'.repeat(65), password }, {}, 400, /"name"/],
      [{ name: 'maria\u0000', password }, {}, 400, /"name"/],
      [{ name: 'ma\u200bria', password }, {}, 400, /"name"/],
      [{ name: 'maria' }, {}, 400, /"password" is required/],
      [[1, 2], {}, 400, /expected \{"name"/],
      ['{"name": "maria", "password": ', { 'content-type': 'application/json' }, 400, /not valid JSON/],
      [`name=maria&password=${password}`, { 'content-type': 'application/x-www-form-urlencoded' }, 415, /Content-Type: application\/json/],
      // Streamed (chunked, no length given) and announced by Content-Length.
      [JSON.stringify({ name: 'maria', password: 'x'.repeat(9000) }), { 'content-type': 'application/json' }, 413, /larger than 8192 bytes/],
      [JSON.stringify({ name: 'maria', password: 'x'.repeat(9000) }), { 'content-type': 'application/json', 'content-length': '9033' }, 413, /larger than 8192 bytes/],
      ['', { 'content-type': 'application/json' }, 400, /expected a JSON body/],
    ];
    for (const [body, headers, status, error] of cases) {
      const reply = await http('POST', '/api/login', { body, headers });
      expect(reply.status, JSON.stringify(body).slice(0, 60)).toBe(status);
      expect(reply.json.error).toMatch(error);
    }
    expect((await http('GET', '/api/login')).status).toBe(405);
    expect((await http('POST', '/api/session')).status).toBe(405);
    // None of these was a wrong password: the address is not locked.
    await loggedIn(http, password!);
  });

  it('locks an address after 5 wrong passwords (429 with Retry-After, even for the right one) and unlocks after 5 minutes', async () => {
    const auth = makeAuth();
    const { generatedPassword: password } = auth.initialise();
    const http = await serve(auth);
    for (let i = 0; i < 5; i++) {
      const reply = await http('POST', '/api/login', { body: { name: 'mallory', password: `guess-${i}-aaaaaaa` } });
      expect(reply.status).toBe(401);
    }
    const locked = await http('POST', '/api/login', { body: { name: 'maria', password } });
    expect(locked.status).toBe(429);
    expect(locked.headers['retry-after']).toBe('300');
    expect(locked.json.error).toMatch(/too many wrong passwords from your address: try again in 300 s/);

    await clock.advance(5 * MIN - 1000);
    const stillLocked = await http('POST', '/api/login', { body: { name: 'maria', password } });
    expect(stillLocked.status).toBe(429);
    expect(stillLocked.headers['retry-after']).toBe('1');

    await clock.advance(1000);
    await loggedIn(http, password!);
  });

  it('forgets wrong passwords older than the window; a success clears the count', async () => {
    const auth = makeAuth();
    const { generatedPassword: password } = auth.initialise();
    const http = await serve(auth);
    const wrong = () => http('POST', '/api/login', { body: { name: 'maria', password: 'typo-typo-typo' } });
    for (let i = 0; i < 4; i++) expect((await wrong()).status).toBe(401);
    await loggedIn(http, password!);
    for (let i = 0; i < 4; i++) expect((await wrong()).status).toBe(401);
    await clock.advance(5 * MIN);
    for (let i = 0; i < 4; i++) expect((await wrong()).status).toBe(401);
    await loggedIn(http, password!);
  });

  it('ends a session after the idle time without an action; actions keep it alive, reads do not', async () => {
    const auth = makeAuth('login', 30);
    const { generatedPassword: password } = auth.initialise();
    const http = await serve(auth);
    const { cookie, csrf } = await loggedIn(http, password!);
    const act = () => http('POST', '/api/action', { headers: { cookie, 'x-csrf-token': csrf }, body: {} });
    const read = () => http('GET', '/api/read', { headers: { cookie } });

    await clock.advance(29 * MIN);
    expect((await act()).status).toBe(200); // activity: the idle time starts again
    await clock.advance(29 * MIN);
    expect((await read()).status).toBe(200);
    expect((await http('GET', '/api/session', { headers: { cookie } })).json.expiresMs).toBe(clock.now() + 1 * MIN);
    await clock.advance(1 * MIN); // 30 min after the last action; the read did not count
    expect((await read()).status).toBe(401);
    const expired = await act();
    expect(expired.status).toBe(401);
    expect((await http('GET', '/api/session', { headers: { cookie } })).json).toEqual({ authenticated: false, readAccess: 'login' });
    expect(auth.sessionCount()).toBe(0);
  });

  it('ends a session 12 hours after the login however active it is', async () => {
    const auth = makeAuth('open', 30);
    const { generatedPassword: password } = auth.initialise();
    const http = await serve(auth);
    const { cookie, csrf } = await loggedIn(http, password!);
    const act = () => http('POST', '/api/action', { headers: { cookie, 'x-csrf-token': csrf }, body: {} });
    for (let elapsed = 0; elapsed + 25 * MIN < 12 * 60 * MIN; elapsed += 25 * MIN) {
      await clock.advance(25 * MIN);
      expect((await act()).status).toBe(200);
    }
    // 28 × 25 min = 11 h 40 min: the session now ends at 12 h, not 30 min after this action.
    expect((await http('GET', '/api/session', { headers: { cookie } })).json.expiresMs).toBe(clock.now() + 20 * MIN);
    await clock.advance(20 * MIN);
    const reply = await act();
    expect(reply.status).toBe(401);
    expect(reply.json.error).toBe('session expired: log in again');
  });

  it('refuses actions without a session, with a missing or wrong CSRF token, or from another origin', async () => {
    const auth = makeAuth();
    const { generatedPassword: password } = auth.initialise();
    const http = await serve(auth);
    const { cookie, csrf } = await loggedIn(http, password!);

    const none = await http('POST', '/api/action', { body: {} });
    expect([none.status, none.json.error]).toEqual([401, 'login required']);
    const missing = await http('POST', '/api/action', { headers: { cookie }, body: {} });
    expect([missing.status, missing.json.error]).toEqual([403, 'missing CSRF token (header x-csrf-token)']);
    const wrong = await http('POST', '/api/action', { headers: { cookie, 'x-csrf-token': `${csrf.slice(0, -1)}${csrf.endsWith('A') ? 'B' : 'A'}` }, body: {} });
    expect([wrong.status, wrong.json.error]).toEqual([403, 'wrong CSRF token']);
    const otherSessionsToken = (await loggedIn(http, password!, 'jan')).csrf;
    expect((await http('POST', '/api/action', { headers: { cookie, 'x-csrf-token': otherSessionsToken }, body: {} })).status).toBe(403);

    const foreign: Array<Record<string, string>> = [{ origin: 'http://evil.example' }, { origin: 'null' }, { 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site' }];
    for (const headers of foreign) {
      const reply = await http('POST', '/api/action', { headers: { cookie, 'x-csrf-token': csrf, ...headers }, body: {} });
      expect([reply.status, reply.json.error], JSON.stringify(headers)).toEqual([403, 'cross-origin request refused']);
      const login = await http('POST', '/api/login', { headers, body: { name: 'maria', password } });
      expect(login.status, JSON.stringify(headers)).toBe(403);
    }
    const sameOrigin = await http('POST', '/api/action', { headers: { cookie, 'x-csrf-token': csrf, origin: 'http://LOCALHOST:1234', host: 'localhost:1234', 'sec-fetch-site': 'same-origin' }, body: { ok: 1 } });
    expect(sameOrigin.json).toEqual({ by: 'maria', body: { ok: 1 } });
    const action = await http('POST', '/api/action', { headers: { cookie, 'x-csrf-token': csrf }, body: 'not json' });
    expect(action.status).toBe(415);
  });

  it('logs out: CSRF required, the cookie cleared, the session gone', async () => {
    const auth = makeAuth();
    const { generatedPassword: password } = auth.initialise();
    const http = await serve(auth);
    const { cookie, csrf } = await loggedIn(http, password!);
    expect((await http('POST', '/api/logout', { headers: { cookie } })).status).toBe(403);
    expect((await http('POST', '/api/logout', { headers: { cookie, origin: 'http://evil.example' } })).status).toBe(403);
    const out = await http('POST', '/api/logout', { headers: { cookie, 'x-csrf-token': csrf } });
    expect(out.status).toBe(200);
    expect(out.json).toEqual({ authenticated: false });
    expect(out.headers['set-cookie']![0]).toMatch(/^allbit_session=; .*Max-Age=0/);
    expect((await http('GET', '/api/session', { headers: { cookie } })).json.authenticated).toBe(false);
    expect((await http('POST', '/api/action', { headers: { cookie, 'x-csrf-token': csrf }, body: {} })).status).toBe(401);
    expect((await http('POST', '/api/logout')).status).toBe(200); // without a session: nothing to do
  });

  it('readAccess open lets anyone read; login needs a session to read (metrics stay open to the box itself)', async () => {
    const openAuth = makeAuth('open');
    const { generatedPassword: password } = openAuth.initialise();
    const open = await serve(openAuth);
    expect((await open('GET', '/api/read')).status).toBe(200);

    const auth = makeAuth('login');
    expect(auth.initialise().generatedPassword).toBeNull();
    const http = await serve(auth);
    expect((await http('GET', '/api/read')).status).toBe(401);
    expect((await http('GET', '/api/read', { headers: { cookie: 'allbit_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' } })).status).toBe(401);
    const { cookie } = await loggedIn(http, password!);
    expect((await http('GET', '/api/read', { headers: { cookie } })).status).toBe(200);
    expect((await http('GET', '/api/read', { headers: { cookie: `theme=dark; ${cookie}; other=1` } })).status).toBe(200);

    const fakeRequest = (remoteAddress: string) => ({ headers: {}, socket: { remoteAddress } }) as never;
    expect(auth.canReadMetrics(fakeRequest('127.0.0.1'))).toBe(true);
    expect(auth.canReadMetrics(fakeRequest('::ffff:127.0.0.1'))).toBe(true);
    expect(auth.canReadMetrics(fakeRequest('::1'))).toBe(true);
    expect(auth.canReadMetrics(fakeRequest('10.1.2.3'))).toBe(false);
    expect(makeAuth('open').canReadMetrics(fakeRequest('10.1.2.3'))).toBe(true);
  });
});

describe('password change while running', () => {
  it('`allbit password` takes effect at the next login without a restart and ends the old sessions', async () => {
    const config = join(dir, 'allbit.yaml');
    writeFileSync(config, `gateway: { id: g }\nmqtt: { url: "mqtt://h", password: { env: ALLBIT_TEST_UNSET_SECRET } }\nbuffer: { path: data/outbox.db }\ndevices: [{ id: c, profile: ups, host: h }]\n`);
    const auth = makeAuth();
    const { generatedPassword: oldPassword } = auth.initialise();
    const http = await serve(auth);
    const { cookie, csrf } = await loggedIn(http, oldPassword!);

    const stdin = new PassThrough();
    stdin.end('my new plant password\n');
    const out: string[] = [];
    const sink = new PassThrough();
    sink.on('data', (d) => out.push(String(d)));
    const code = await passwordCommand({ config, stdin: true, generate: false, input: stdin }, sink, sink);
    expect(code, out.join('')).toBe(0);
    expect(readFileSync(passwordFile, 'utf8')).not.toContain('my new plant password');

    expect((await http('POST', '/api/login', { body: { name: 'maria', password: oldPassword } })).status).toBe(401);
    expect((await http('POST', '/api/action', { headers: { cookie, 'x-csrf-token': csrf }, body: {} })).status).toBe(401);
    await loggedIn(http, 'my new plant password');
    expect(logLines.join('\n')).toMatch(/the password was changed; every session ended/);
  });

  it('refuses logins (503) while the file is missing or damaged, and does not recreate it', async () => {
    const auth = makeAuth();
    const { generatedPassword: password } = auth.initialise();
    const http = await serve(auth);
    writeFileSync(passwordFile, 'garbage');
    const damaged = await http('POST', '/api/login', { body: { name: 'maria', password } });
    expect(damaged.status).toBe(503);
    expect(damaged.text).not.toContain(passwordFile);
    expect(readFileSync(passwordFile, 'utf8')).toBe('garbage');
    expect(logLines.join('\n')).toContain(`${passwordFile}: not valid JSON`);
    rmSync(passwordFile);
    expect((await http('POST', '/api/login', { body: { name: 'maria', password } })).status).toBe(503);
    writePasswordFile(passwordFile, hashPassword('repaired password!'));
    await loggedIn(http, 'repaired password!');
  });
});

describe('an unusable password file fails closed', () => {
  it('ends every session and refuses actions (503) and login-protected reads while the file is damaged or missing', async () => {
    const auth = makeAuth('login');
    const { generatedPassword: password } = auth.initialise();
    const http = await serve(auth);
    const { cookie, csrf } = await loggedIn(http, password!);
    const act = () => http('POST', '/api/action', { headers: { cookie, 'x-csrf-token': csrf }, body: {} });
    expect((await act()).status).toBe(200);

    writeFileSync(passwordFile, 'garbage');
    const refused = await act();
    expect(refused.status).toBe(503);
    expect(refused.json.error).toMatch(/password file is missing or damaged/);
    expect(refused.text).not.toContain(passwordFile);
    expect((await http('GET', '/api/read', { headers: { cookie } })).status).toBe(401);
    expect((await http('GET', '/api/session', { headers: { cookie } })).json).toEqual({ authenticated: false, readAccess: 'login' });
    expect(auth.sessionCount()).toBe(0);
    expect(logLines.join('\n')).toMatch(/every session ended; logins and actions refused until the password file is repaired.*"sessionsEnded":1/);

    // Missing is the same; a request without a session is refused for the file too, not for the login.
    rmSync(passwordFile);
    const none = await http('POST', '/api/action', { body: {} });
    expect([none.status, none.json.error]).toEqual([503, 'login and actions are unavailable: the password file is missing or damaged (see the agent log)']);
    expect((await act()).status).toBe(503);
  });

  it('a new password set after a damaged spell ends the sessions of the old one', async () => {
    const auth = makeAuth('login');
    const { generatedPassword: password } = auth.initialise();
    const http = await serve(auth);
    const old = await loggedIn(http, password!);
    writeFileSync(passwordFile, 'garbage');
    expect((await http('GET', '/api/read', { headers: { cookie: old.cookie } })).status).toBe(401); // the damage is seen
    writePasswordFile(passwordFile, hashPassword('the next plant password'));
    expect((await http('POST', '/api/action', { headers: { cookie: old.cookie, 'x-csrf-token': old.csrf }, body: {} })).status).toBe(401);
    expect((await http('GET', '/api/read', { headers: { cookie: old.cookie } })).status).toBe(401);
    expect((await http('POST', '/api/login', { body: { name: 'maria', password } })).status).toBe(401);
    const fresh = await loggedIn(http, 'the next plant password');
    expect((await http('POST', '/api/action', { headers: { cookie: fresh.cookie, 'x-csrf-token': fresh.csrf }, body: {} })).status).toBe(200);
    expect(logLines.join('\n')).toMatch(/the password was changed; every session ended/);
  });
});

describe('secrets', () => {
  it('no answer carries the password, its hash, its salt or the password file', async () => {
    const auth = makeAuth('login');
    const { generatedPassword: password } = auth.initialise();
    const stored = JSON.parse(readFileSync(passwordFile, 'utf8')) as { salt: string; hash: string };
    const http = await serve(auth);
    const replies: Reply[] = [];
    replies.push(await http('POST', '/api/login', { body: { name: 'maria', password: `${password}x` } }));
    replies.push(await http('POST', '/api/login', { body: { name: '', password } }));
    const { cookie, csrf, reply } = await loggedIn(http, password!);
    replies.push(reply);
    replies.push(await http('GET', '/api/session', { headers: { cookie } }));
    replies.push(await http('GET', '/api/session'));
    replies.push(await http('POST', '/api/logout', { headers: { cookie, 'x-csrf-token': csrf } }));
    for (const r of replies) {
      const everything = `${JSON.stringify(r.headers)}\n${r.text}`;
      for (const secret of [password!, stored.salt, stored.hash, Buffer.from(stored.hash, 'base64').toString('hex'), passwordFile, 'scrypt']) {
        expect(everything, `${r.status} ${r.text}`).not.toContain(secret);
      }
    }
    expect(logLines.join('\n')).not.toContain(password!);
  });
});
