/** The status block's login settings: defaults, the password file beside the outbox, paths relative to the config. */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../config/issues.js';
import { loadConfigText, statusPasswordPathFor } from '../../../config/load.js';

const BASE = `gateway: { id: edge-01 }
mqtt: { url: "mqtt://broker" }
devices: [{ id: c, profile: ups, host: h }]
`;

describe('status login settings', () => {
  it('defaults: reading open, 30 min idle, the password file beside the outbox', () => {
    const config = loadConfigText(`${BASE}buffer: { path: data/allbit-outbox.db }\n`, '/etc/allbit/allbit.yaml');
    expect(config.status).toMatchObject({ readAccess: 'open', sessionIdleMin: 30, passwordFile: '/etc/allbit/data/allbit-outbox-status-password.json' });
  });

  it('a relative passwordFile is relative to the config file; an absolute one is kept', () => {
    const relative = loadConfigText(`${BASE}status: { passwordFile: secrets/status.json, readAccess: login, sessionIdleMin: 5 }\n`, '/etc/allbit/allbit.yaml');
    expect(relative.status).toMatchObject({ passwordFile: '/etc/allbit/secrets/status.json', readAccess: 'login', sessionIdleMin: 5 });
    const absolute = loadConfigText(`${BASE}status: { passwordFile: /var/lib/allbit/pw.json }\n`, '/etc/allbit/allbit.yaml');
    expect(absolute.status.passwordFile).toBe('/var/lib/allbit/pw.json');
  });

  it('refuses an unknown readAccess and a session idle time of 0', () => {
    try {
      loadConfigText(`${BASE}status: { readAccess: everyone, sessionIdleMin: 0 }\n`, '/etc/allbit/allbit.yaml');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const paths = (e as ConfigError).issues.map((i) => i.path);
      expect(paths).toEqual(expect.arrayContaining(['status.readAccess', 'status.sessionIdleMin']));
    }
  });

  it('derives the name like the alarm state file', () => {
    expect(statusPasswordPathFor('/d/outbox.db')).toBe('/d/outbox-status-password.json');
    expect(statusPasswordPathFor('/d/outbox.sqlite3')).toBe('/d/outbox-status-password.json');
    expect(statusPasswordPathFor('/d/outbox')).toBe('/d/outbox-status-password.json');
  });
});
