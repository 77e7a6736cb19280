/**
 * `allbit password` as an operator runs it: the real CLI from the build in a child process, a real
 * config and password file in a temp folder. The stored file holds a hash that verifies, never the
 * password; a short password changes nothing.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPasswordFile, verifyPassword } from '../../agent/status/password-file.js';
import { assertBuilt, runCli } from '../helpers/cli.js';

let dir: string;
let config: string;
let passwordFile: string;

beforeAll(() => {
  assertBuilt();
  dir = mkdtempSync(join(tmpdir(), 'allbit-password-cli-'));
  config = join(dir, 'allbit.yaml');
  // The MQTT password comes from a variable only the service sets: the command does not need it.
  writeFileSync(config, `gateway: { id: edge-01 }\nmqtt: { url: "mqtt://broker", username: u, password: { env: ALLBIT_PASSWORD_CLI_TEST_UNSET } }\nbuffer: { path: data/outbox.db }\ndevices: [{ id: c, profile: ups, host: h }]\n`);
  passwordFile = join(dir, 'data', 'outbox-status-password.json');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('allbit password', () => {
  it('is listed in the usage and has its own help', async () => {
    expect((await runCli(['--help'])).stdout).toMatch(/password --config FILE\s+set the status page's operator password/);
    const help = await runCli(['password', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--generate/);
    expect(help.stdout).toMatch(/--stdin/);
  });

  it('needs --config and exactly one of --stdin and --generate', async () => {
    const noConfig = await runCli(['password', '--generate']);
    expect(noConfig.code).toBe(1);
    expect(noConfig.stderr).toMatch(/allbit password: --config FILE is required/);
    const neither = await runCli(['password', '--config', config]);
    expect(neither.code).toBe(1);
    expect(neither.stderr).toMatch(/choose one: --stdin .* or --generate/);
    const both = await runCli(['password', '--config', config, '--stdin', '--generate']);
    expect(both.code).toBe(1);
  });

  it('--generate prints a new password and stores only its hash (mode 0600) where the config says', async () => {
    const result = await runCli(['password', '--config', config, '--generate']);
    expect(result.code, result.stderr).toBe(0);
    const password = /New status page password: (\S+)/.exec(result.stdout)?.[1];
    expect(password).toMatch(/^[a-z2-9]{5}(-[a-z2-9]{5}){3}$/);
    expect(result.stdout).toContain(`Stored as a hash in ${passwordFile}`);
    expect(readFileSync(passwordFile, 'utf8')).not.toContain(password!);
    expect(statSync(passwordFile).mode & 0o777).toBe(0o600);
    expect(await verifyPassword(password!, readPasswordFile(passwordFile)!)).toBe(true);
    expect(await verifyPassword(`${password}x`, readPasswordFile(passwordFile)!)).toBe(false);
  });

  it('--stdin sets the piped password (one trailing newline removed) and refuses a short one', async () => {
    const before = readFileSync(passwordFile, 'utf8');
    const short = await runCli(['password', '--config', config, '--stdin'], { input: 'short-pass\n' });
    expect(short.code).toBe(1);
    expect(short.stderr).toMatch(/at least 12 characters \(it has 10\); nothing changed/);
    expect(readFileSync(passwordFile, 'utf8')).toBe(before);

    const result = await runCli(['password', '--config', config, '--stdin'], { input: 'Kältemaschine 7 läuft\n' });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).not.toContain('Kältemaschine');
    const stored = readPasswordFile(passwordFile)!;
    expect(await verifyPassword('Kältemaschine 7 läuft', stored)).toBe(true);
    expect(await verifyPassword('Kältemaschine 7 läuft\n', stored)).toBe(false);
  });

  it('reports a config problem instead of writing anywhere', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'gateway: { id: edge-01 }\nstatus: { readAccess: everyone }\n');
    const result = await runCli(['password', '--config', bad, '--generate']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/status\.readAccess/);
    expect(result.stdout).toBe('');
  });
});
