/**
 * The status page's operator password, stored only as a scrypt hash (node:crypto only).
 *
 * One password per gateway. The file is JSON, mode 0600, always written atomically (a temp file
 * in the same folder, fsync, rename), so a reader sees the old or the new password, never half:
 *
 *   { "format": "allbit-status-password", "version": 1, "kdf": "scrypt",
 *     "N": 32768, "r": 8, "p": 1, "keyLength": 32, "salt": "<base64>", "hash": "<base64>",
 *     "changedMs": 1764288000000 }
 *
 * The parameters travel with the hash, so a later release can raise them without breaking old
 * files. A file that exists but cannot be read or is damaged is an error naming the path — never
 * a reason to generate a new password silently.
 */
import { randomBytes, randomInt, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';
import { chownSync, closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export interface PasswordHash {
  kdf: 'scrypt';
  N: number;
  r: number;
  p: number;
  keyLength: number;
  salt: Buffer;
  hash: Buffer;
  /** Wall-clock ms of the change (informational). */
  changedMs: number;
}

/** scrypt cost: 2^15 × 8 × 128 B = 32 MiB and some 50–100 ms on an edge box per hash. */
export const SCRYPT_PARAMS = { N: 32768, r: 8, p: 1, keyLength: 32 } as const;
const SALT_BYTES = 16;
const FORMAT = 'allbit-status-password';

export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 1024;

/** Letters and digits that cannot be mistaken for one another when read off a console (no i l o 0 1). */
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

/** A strong, typeable password: 4 groups of 5 from a 31-character alphabet (≈ 99 bits), e.g. `k3mzt-9qawe-…`. */
export function generatePassword(): string {
  const groups: string[] = [];
  for (let g = 0; g < 4; g++) {
    let group = '';
    for (let i = 0; i < 5; i++) group += ALPHABET[randomInt(ALPHABET.length)];
    groups.push(group);
  }
  return groups.join('-');
}

/** Why a new password is refused, or null when it is acceptable. */
export function passwordProblem(password: string): string | null {
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) return `the password must have at least ${MIN_PASSWORD_LENGTH} characters (it has ${length})`;
  if (length > MAX_PASSWORD_LENGTH) return `the password must have at most ${MAX_PASSWORD_LENGTH} characters`;
  if (/\p{Cc}/u.test(password)) return 'the password must not contain control characters (line breaks, tabs, …)';
  return null;
}

/** NFC, so the same password typed on different systems gives the same bytes. */
function passwordBytes(password: string): Buffer {
  return Buffer.from(password.normalize('NFC'), 'utf8');
}

function scryptOptions(h: Pick<PasswordHash, 'N' | 'r' | 'p'>): { N: number; r: number; p: number; maxmem: number } {
  return { N: h.N, r: h.r, p: h.p, maxmem: 256 * h.N * h.r + 1024 * 1024 };
}

/** Hashes with a fresh random salt (synchronous: for the CLI and the first start). */
export function hashPassword(password: string, nowMs: number = Date.now()): PasswordHash {
  const salt = randomBytes(SALT_BYTES);
  const hash = scryptSync(passwordBytes(password), salt, SCRYPT_PARAMS.keyLength, scryptOptions(SCRYPT_PARAMS));
  return { kdf: 'scrypt', ...SCRYPT_PARAMS, salt, hash, changedMs: nowMs };
}

/** Compares in constant time; scrypt runs on the libuv thread pool, not the event loop. */
export function verifyPassword(password: string, stored: PasswordHash): Promise<boolean> {
  return new Promise((resolve, reject) => {
    scrypt(passwordBytes(password), stored.salt, stored.keyLength, scryptOptions(stored), (err, derived) => {
      if (err) reject(err);
      else resolve(derived.length === stored.hash.length && timingSafeEqual(derived, stored.hash));
    });
  });
}

export class PasswordFileError extends Error {
  constructor(
    readonly path: string,
    problem: string,
    options?: { cause?: unknown },
  ) {
    super(`status page password file ${path}: ${problem}`, options);
    this.name = 'PasswordFileError';
  }
}

/** The stored hash; null when the file does not exist. Throws PasswordFileError when it cannot be read or is damaged. */
export function readPasswordFile(path: string): PasswordHash | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new PasswordFileError(path, `cannot read it (${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message})`, { cause });
  }
  return parsePasswordFile(text, path);
}

const DAMAGED = 'damaged — set a new password with `allbit password --config FILE --generate` (or --stdin)';

export function parsePasswordFile(text: string, path: string): PasswordHash {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new PasswordFileError(path, `not valid JSON: ${DAMAGED}`, { cause });
  }
  const o = raw as Record<string, unknown>;
  const problem = (what: string): never => {
    throw new PasswordFileError(path, `${what}: ${DAMAGED}`);
  };
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return problem('not a JSON object');
  if (o.format !== FORMAT) return problem(`"format" is not "${FORMAT}"`);
  if (o.version !== 1) return problem(`unknown version ${JSON.stringify(o.version)}`);
  if (o.kdf !== 'scrypt') return problem(`unknown kdf ${JSON.stringify(o.kdf)}`);
  const int = (name: string, min: number, max: number): number => {
    const v = o[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) return problem(`"${name}" must be an integer ${min}–${max}`);
    return v;
  };
  const N = int('N', 1024, 1 << 20);
  if ((N & (N - 1)) !== 0) problem('"N" must be a power of two');
  const r = int('r', 1, 32);
  const p = int('p', 1, 16);
  const keyLength = int('keyLength', 16, 128);
  const bytes = (name: string, min: number): Buffer => {
    const v = o[name];
    if (typeof v !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(v)) return problem(`"${name}" must be base64`);
    const b = Buffer.from(v, 'base64');
    if (b.length < min) return problem(`"${name}" is too short`);
    return b;
  };
  const salt = bytes('salt', 16);
  const hash = bytes('hash', 16);
  if (hash.length !== keyLength) problem(`"hash" has ${hash.length} bytes, "keyLength" says ${keyLength}`);
  const changedMs = typeof o.changedMs === 'number' && Number.isFinite(o.changedMs) ? o.changedMs : 0;
  return { kdf: 'scrypt', N, r, p, keyLength, salt, hash, changedMs };
}

export function formatPasswordFile(h: PasswordHash): string {
  return `${JSON.stringify(
    { format: FORMAT, version: 1, kdf: h.kdf, N: h.N, r: h.r, p: h.p, keyLength: h.keyLength, salt: h.salt.toString('base64'), hash: h.hash.toString('base64'), changedMs: h.changedMs },
    null,
    2,
  )}\n`;
}

/**
 * Writes atomically with mode 0600 (parent folders created). Run as root (e.g. `sudo allbit
 * password`), the file keeps the owner of the file it replaces — or takes the folder's — so the
 * agent's own user can still read it.
 */
export function writePasswordFile(path: string, h: PasswordHash): void {
  const dir = dirname(path);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (cause) {
    throw new PasswordFileError(path, `cannot create its folder (${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message})`, { cause });
  }
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let fd: number | null = null;
  try {
    fd = openSync(temp, 'wx', 0o600);
    writeSync(fd, formatPasswordFile(h));
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    keepOwner(temp, path, dir);
    renameSync(temp, path);
  } catch (cause) {
    if (fd !== null) closeSync(fd);
    try {
      unlinkSync(temp);
    } catch {
      // the temp file was never created or is already renamed
    }
    throw new PasswordFileError(path, `cannot write it (${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message})`, { cause });
  }
  // The rename is durable only once the folder is synced; not every platform can open a folder.
  try {
    const dirFd = openSync(dir, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  } catch {
    // best effort
  }
}

function keepOwner(temp: string, path: string, dir: string): void {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return;
  let owner: { uid: number; gid: number };
  try {
    owner = statSync(path);
  } catch {
    owner = statSync(dir);
  }
  chownSync(temp, owner.uid, owner.gid);
}

/** What identifies one version of the file: an atomic replacement always has a new inode; an edit in place a new mtime or size. */
export function passwordFileVersion(path: string): string | null {
  try {
    const s = statSync(path, { bigint: true });
    return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  } catch {
    return null;
  }
}
