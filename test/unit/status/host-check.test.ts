import { describe, expect, it } from 'vitest';
import { hostChecker } from '../../../agent/status/host-check.js';

describe('host check (DNS rebinding)', () => {
  const allowed = hostChecker(['gateway-a.plant.example'], 'edge-01');

  it('answers IP literals, localhost, the machine\'s name and the configured names, with or without a port', () => {
    for (const h of ['127.0.0.1', '127.0.0.1:8080', '10.20.0.5:8080', '[::1]:8080', '[fe80::1]', 'localhost:8080', 'LOCALHOST', 'edge-01:8080', 'edge-01.local', 'gateway-a.plant.example', 'Gateway-A.Plant.Example.', undefined, '']) {
      expect(allowed(h), String(h)).toBe(true);
    }
  });

  it('refuses any other name, and malformed host headers', () => {
    for (const h of ['rebind.attacker.example', 'rebind.attacker.example:8080', '127.0.0.1.attacker.example', 'edge-01.attacker.example', 'evil/path', '[::1', 'name with space']) {
      expect(allowed(h), h).toBe(false);
    }
  });
});
