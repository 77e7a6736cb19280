/**
 * Rate limiting of status page logins, on the injected monotonic clock.
 *
 * - Per remote address (IPv6 per /64, the block one subscriber gets): `perAddressFailures` wrong
 *   passwords within `perAddressWindowMs` lock that address for `lockMs`.
 * - Gateway-wide: at most `globalFailures` wrong passwords within `globalWindowMs`, against a guess
 *   spread over many addresses. This throttles (it lets attempts through again as old failures
 *   age out) rather than locks, so it can delay an operator's login by at most one window.
 * - Successes do not count, and clear their address's failures.
 * - Bounded memory: at most `maxAddresses` addresses are remembered (expired ones dropped first,
 *   then the least recently failed); the global record holds at most `globalFailures` times.
 */
import type { Clock } from '../core/clock.js';

export interface LoginLimits {
  perAddressFailures: number;
  perAddressWindowMs: number;
  lockMs: number;
  globalFailures: number;
  globalWindowMs: number;
  maxAddresses: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = {
  perAddressFailures: 5,
  perAddressWindowMs: 5 * 60_000,
  lockMs: 5 * 60_000,
  globalFailures: 30,
  globalWindowMs: 60_000,
  maxAddresses: 10_000,
};

export type LoginPermission = { allowed: true } | { allowed: false; retryAfterMs: number; scope: 'address' | 'gateway' };

interface AddressRecord {
  /** Monotonic times of recent failures (at most perAddressFailures). */
  failures: number[];
  lockedUntilMs: number;
}

export class LoginLimiter {
  private readonly limits: LoginLimits;
  private readonly addresses = new Map<string, AddressRecord>();
  private globalFailureTimes: number[] = [];

  constructor(
    private readonly clock: Pick<Clock, 'monotonicMs'>,
    limits: Partial<LoginLimits> = {},
  ) {
    this.limits = { ...DEFAULT_LOGIN_LIMITS, ...limits };
  }

  /** May this address try a password now? */
  check(remoteAddress: string): LoginPermission {
    const now = this.clock.monotonicMs();
    const record = this.addresses.get(addressKey(remoteAddress));
    if (record && record.lockedUntilMs > now) return { allowed: false, retryAfterMs: record.lockedUntilMs - now, scope: 'address' };
    const { globalFailures, globalWindowMs } = this.limits;
    this.globalFailureTimes = this.globalFailureTimes.filter((t) => now - t < globalWindowMs);
    if (this.globalFailureTimes.length >= globalFailures) {
      // Allowed again when the oldest of the last `globalFailures` failures leaves the window.
      const oldest = this.globalFailureTimes[this.globalFailureTimes.length - globalFailures];
      return { allowed: false, retryAfterMs: oldest + globalWindowMs - now, scope: 'gateway' };
    }
    return { allowed: true };
  }

  /** A wrong password from this address. Returns true when it locked the address. */
  recordFailure(remoteAddress: string): boolean {
    const now = this.clock.monotonicMs();
    const { perAddressFailures, perAddressWindowMs, lockMs, globalFailures } = this.limits;
    this.globalFailureTimes.push(now);
    if (this.globalFailureTimes.length > globalFailures) this.globalFailureTimes.splice(0, this.globalFailureTimes.length - globalFailures);

    const key = addressKey(remoteAddress);
    const record = this.addresses.get(key) ?? { failures: [], lockedUntilMs: 0 };
    this.addresses.delete(key); // re-inserted last: the Map's order is least recently failed first
    record.failures = record.failures.filter((t) => now - t < perAddressWindowMs);
    record.failures.push(now);
    let locked = false;
    if (record.failures.length >= perAddressFailures) {
      record.lockedUntilMs = now + lockMs;
      record.failures = [];
      locked = true;
    }
    this.addresses.set(key, record);
    if (this.addresses.size > this.limits.maxAddresses) this.evict(now);
    return locked;
  }

  recordSuccess(remoteAddress: string): void {
    this.addresses.delete(addressKey(remoteAddress));
  }

  /** How many addresses are remembered (for tests and metrics). */
  trackedAddresses(): number {
    return this.addresses.size;
  }

  private evict(now: number): void {
    for (const [key, r] of this.addresses) {
      if (r.lockedUntilMs <= now && r.failures.every((t) => now - t >= this.limits.perAddressWindowMs)) this.addresses.delete(key);
    }
    for (const key of this.addresses.keys()) {
      if (this.addresses.size <= this.limits.maxAddresses) break;
      this.addresses.delete(key);
    }
  }
}

/** IPv4 (also IPv4-mapped IPv6) as is; IPv6 by its /64 prefix. */
export function addressKey(remoteAddress: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(remoteAddress);
  if (mapped) return mapped[1];
  if (!remoteAddress.includes(':')) return remoteAddress;
  const groups = expandIPv6(remoteAddress.split('%')[0]);
  return groups ? `${groups.slice(0, 4).join(':')}::/64` : remoteAddress;
}

function expandIPv6(address: string): string[] | null {
  const halves = address.toLowerCase().split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  // An embedded IPv4 tail (::ffff:… handled above; others are rare) counts as two groups.
  if (tail.length > 0 && tail[tail.length - 1].includes('.')) tail.splice(tail.length - 1, 1, '0', '0');
  const missing = 8 - head.length - tail.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return null;
  const groups = [...head, ...Array<string>(missing).fill('0'), ...tail];
  if (!groups.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return null;
  return groups.map((g) => g.replace(/^0+(?=.)/, ''));
}

export function isLoopback(remoteAddress: string | undefined): boolean {
  if (!remoteAddress) return false;
  const v4 = /^(?:::ffff:)?(\d+)\.\d+\.\d+\.\d+$/i.exec(remoteAddress);
  if (v4) return v4[1] === '127';
  return remoteAddress === '::1';
}
