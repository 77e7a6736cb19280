import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSqliteOutbox } from '../../agent/buffer/sqlite-outbox.js';
import { silentLogger } from '../../agent/core/logger.js';
import { freePort, waitFor } from '../helpers/brokers.js';
import { runCli, startCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'allbit-cli-'));

describe('allbit CLI', () => {
  it('prints help for the tool and for every command', async () => {
    const top = await runCli(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/run --config FILE/);
    for (const command of ['run', 'validate', 'simulate', 'demo']) {
      const r = await runCli([command, '--help']);
      expect(r.code, command).toBe(0);
      expect(r.stdout, command).toMatch(new RegExp(`^Usage: allbit ${command}`));
    }
    const none = await runCli([]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^allbit .* — edge gateway/);
    const badLevel = await runCli(['run', '--config', 'config/examples/demo.yaml', '--log-level', 'verbose']);
    expect(badLevel.code).toBe(1);
    expect(badLevel.stderr).toMatch(/^allbit run: --log-level: expected one of debug, info, warn, error, got "verbose"\n\nUsage: allbit run/);
    const badPort = await runCli(['demo', '--broker-port', 'abc']);
    expect(badPort.code).toBe(1);
    expect(badPort.stderr).toMatch(/^allbit demo: --broker-port: expected a port number 0–65535, got "abc"/);
    const unknown = await runCli(['frobnicate']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/unknown command "frobnicate"/);
  });

  it('validate exits 0 for the demo config with a summary', async () => {
    const r = await runCli(['validate', '--config', 'config/examples/demo.yaml']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/OK — gateway demo-edge-01, 4 devices \(\+ 5 calculated\), \d+ tags, \d+ Modbus requests per poll cycle/);
  });

  it('validate exits 1 listing every problem as path: message', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(
      bad,
      `gateway: { id: edge-01 }
mqtt: { url: "mqtt://127.0.0.1:1883" }
devices:
  - id: chiller-1
    profile: chiller
    host: 127.0.0.1
    tags:
      - { name: chw_supply_temp, type: float }
      - { name: extra, area: holding, address: 5 }
`,
    );
    const r = await runCli(['validate', '--config', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('2 problems');
    expect(r.stderr).toMatch(/devices\[0\]\.tags\[0\]\.type \(line 8\): expected one of bool, int16, uint16/);
    expect(r.stderr).toMatch(/devices\[0\]\.tags\[1\]\.type \(line 9\): required for a tag not in the profile/);
  });

  it('run refuses a bad config before touching an existing buffer', async () => {
    const bufferPath = join(dir, 'outbox.db');
    const outbox = openSqliteOutbox({ path: bufferPath, maxBytes: 1 << 20, logger: silentLogger });
    outbox.append([{ stream: 'chiller-1', kind: 'data', count: 2, body: { device: 'chiller-1', cycleMs: 1, readings: [] }, createdMs: 1 }]);
    outbox.close();
    const hash = () => createHash('sha256').update(readFileSync(bufferPath)).digest('hex');
    const before = hash();
    const bad = join(dir, 'bad-run.yaml');
    writeFileSync(bad, `gateway: { id: edge-01 }\nmqtt: { url: "mqtt://127.0.0.1:1" }\nbuffer: { path: ${JSON.stringify(bufferPath)} }\ndevices:\n  - { id: x, profile: chiller, host: 127.0.0.1, pollIntervalMs: 0 }\n`);
    const r = await runCli(['run', '--config', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/devices\[0\]\.pollIntervalMs \(line 5\)/);
    expect(hash()).toBe(before);
    const reopened = openSqliteOutbox({ path: bufferPath, maxBytes: 1 << 20, logger: silentLogger });
    expect(reopened.stats().records).toBe(1);
    reopened.close();
  });

  it('run refuses a second agent on the same outbox with a clear error, and the first keeps running', async () => {
    const closedPort = await freePort();
    const file = join(dir, 'one-outbox.yaml');
    writeFileSync(
      file,
      `gateway: { id: edge-01 }\nmqtt: { url: "mqtt://127.0.0.1:${closedPort}" }\nbuffer: { path: shared-outbox.db }\nstatus: { enabled: false }\ndevices:\n  - { id: ups-1, profile: ups, host: 127.0.0.1, port: ${closedPort} }\n`,
    );
    const first = startCli(['run', '--config', file, '--log-level', 'info']);
    try {
      await waitFor('the first agent to start', () => first.output().includes('"agent started"'), 20000);
      const second = await runCli(['run', '--config', file]);
      expect(second.code).toBe(1);
      expect(second.stderr).toContain(`allbit: cannot start: outbox ${join(dir, 'shared-outbox.db')} is in use by another process`);
      expect(first.child.exitCode).toBeNull();
    } finally {
      first.child.kill('SIGTERM');
      expect(await first.exited).toBe(0);
    }
  });
});
