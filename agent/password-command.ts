/**
 * `allbit password --config FILE --stdin | --generate` — sets the status page's operator password.
 * Writes only the scrypt hash, atomically, to `status.passwordFile`; a running agent uses the new
 * password from the next login (and ends the sessions opened with the old one).
 */
import { ConfigError } from '../config/issues.js';
import { loadConfigFile } from '../config/load.js';
import { generatePassword, hashPassword, MAX_PASSWORD_LENGTH, passwordProblem, PasswordFileError, writePasswordFile } from './status/password-file.js';

/** A wrong combination of options: reported with the command's usage. */
export class PasswordUsageError extends Error {}

export interface PasswordCommandOptions {
  config: string;
  stdin: boolean;
  generate: boolean;
  /** Where --stdin reads from (process.stdin). */
  input?: NodeJS.ReadableStream & { isTTY?: boolean };
}

export async function passwordCommand(options: PasswordCommandOptions, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  if (options.stdin === options.generate) throw new PasswordUsageError('choose one: --stdin (read the new password from a pipe) or --generate');
  const input = options.input ?? process.stdin;
  if (options.stdin && input.isTTY) throw new PasswordUsageError('--stdin reads a piped password (e.g. `pass show allbit | allbit password --config FILE --stdin`); on a terminal use --generate');

  let passwordFile: string;
  try {
    // The command needs only the password file's path: secrets the config refers to (variables a
    // service manager sets for the agent, not in the operator's shell) are not an error here.
    const env = new Proxy(process.env, { get: (target, name) => (typeof name === 'string' ? (target[name] ?? 'not-needed-by-allbit-password') : undefined) });
    passwordFile = loadConfigFile(options.config, { env }).status.passwordFile;
  } catch (e) {
    if (e instanceof ConfigError) {
      err.write(`${e.message}\n`); // "FILE: N problems" and one "path (line N): message" per line
      return 1;
    }
    throw e;
  }

  let password: string;
  if (options.generate) password = generatePassword();
  else {
    password = (await readAll(input, MAX_PASSWORD_LENGTH * 4 + 2)).replace(/\r?\n$/, '');
    const problem = passwordProblem(password);
    if (problem) {
      err.write(`allbit password: ${problem}; nothing changed\n`);
      return 1;
    }
  }

  try {
    writePasswordFile(passwordFile, hashPassword(password));
  } catch (e) {
    if (e instanceof PasswordFileError) {
      err.write(`allbit password: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  if (options.generate) out.write(`New status page password: ${password}\n`);
  out.write(`Stored as a hash in ${passwordFile}. A running agent uses it from the next login; sessions opened with the old password end.\n`);
  return 0;
}

/** The whole stream as UTF-8, refusing more than maxBytes. */
async function readAll(input: NodeJS.ReadableStream, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of input) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += b.length;
    if (size > maxBytes) throw new PasswordUsageError(`the password on stdin is longer than ${MAX_PASSWORD_LENGTH} characters`);
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}
