/** The login rate limiter on a FakeClock: per address, gateway-wide, bounded memory; and address keys. */
import { describe, expect, it } from 'vitest';
import { addressKey, isLoopback, LoginLimiter } from '../../../agent/status/login-limiter.js';
import { FakeClock } from '../../fakes/fake-clock.js';

describe('LoginLimiter', () => {
  it('caps wrong passwords gateway-wide (30 a minute) against a guess spread over many addresses', async () => {
    const clock = new FakeClock();
    const limiter = new LoginLimiter(clock);
    for (let i = 0; i < 30; i++) {
      expect(limiter.check(`10.0.0.${i}`)).toEqual({ allowed: true });
      limiter.recordFailure(`10.0.0.${i}`);
      await clock.advance(1000);
    }
    // 30 failures at 0 s … 29 s: the next address is refused until the first leaves the minute.
    expect(limiter.check('10.0.1.1')).toEqual({ allowed: false, retryAfterMs: 30_000, scope: 'gateway' });
    await clock.advance(29_999);
    expect(limiter.check('10.0.1.1').allowed).toBe(false);
    await clock.advance(1);
    expect(limiter.check('10.0.1.1')).toEqual({ allowed: true });
    // No address reached its own limit.
    for (let i = 0; i < 30; i++) expect(limiter.check(`10.0.0.${i}`).allowed).toBe(true);
  });

  it('locks one address without touching the others', () => {
    const clock = new FakeClock();
    const limiter = new LoginLimiter(clock);
    for (let i = 0; i < 4; i++) expect(limiter.recordFailure('192.0.2.7')).toBe(false);
    expect(limiter.recordFailure('192.0.2.7')).toBe(true);
    expect(limiter.check('192.0.2.7')).toEqual({ allowed: false, retryAfterMs: 300_000, scope: 'address' });
    expect(limiter.check('192.0.2.8')).toEqual({ allowed: true });
    expect(limiter.check('::ffff:192.0.2.7').allowed).toBe(false); // the same address over IPv6 sockets
  });

  it('remembers a bounded number of addresses, dropping expired ones first', async () => {
    const clock = new FakeClock();
    const limiter = new LoginLimiter(clock, { maxAddresses: 100, globalFailures: 1_000_000 });
    for (let i = 0; i < 5; i++) limiter.recordFailure('203.0.113.1'); // locked
    for (let i = 0; i < 1000; i++) limiter.recordFailure(`198.51.${i >> 8}.${i & 255}`);
    expect(limiter.trackedAddresses()).toBeLessThanOrEqual(100);
    await clock.advance(5 * 60_000);
    limiter.recordFailure('203.0.113.2');
    expect(limiter.trackedAddresses()).toBeLessThanOrEqual(100);
  });

  it('groups IPv6 addresses by /64 and keeps IPv4 as is', () => {
    expect(addressKey('192.0.2.1')).toBe('192.0.2.1');
    expect(addressKey('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:0db8:0001:0002:ffff:0:0:9')).toBe('2001:db8:1:2::/64');
    expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(isLoopback('127.0.0.1')).toBe(true);
    expect(isLoopback('127.8.9.10')).toBe(true);
    expect(isLoopback('::1')).toBe(true);
    expect(isLoopback('::ffff:127.0.0.1')).toBe(true);
    expect(isLoopback('10.127.0.1')).toBe(false);
    expect(isLoopback('2001:db8::1')).toBe(false);
    expect(isLoopback(undefined)).toBe(false);
  });

  it('per-address locks and the gateway-wide cap combine: a locked address is refused first', () => {
    const clock = new FakeClock();
    const limiter = new LoginLimiter(clock, { globalFailures: 5 });
    for (let i = 0; i < 5; i++) limiter.recordFailure('192.0.2.9');
    expect(limiter.check('192.0.2.9')).toMatchObject({ allowed: false, scope: 'address' });
    expect(limiter.check('192.0.2.10')).toMatchObject({ allowed: false, scope: 'gateway', retryAfterMs: 60_000 });
  });
});
