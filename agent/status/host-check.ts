/**
 * DNS rebinding: a web page in a browser on (or near) the edge box can point its own name at
 * 127.0.0.1 and then read the gateway's open API as if same-origin. The browser still sends the
 * attacker's name in `Host`, so the server answers only requests addressed to a name it knows: any
 * IP literal (nobody can rebind an address), `localhost`, the machine's host name (and its mDNS
 * `.local` form), and the names in `status.allowedHosts` (for example the DNS name operators use,
 * or a reverse proxy's). Anything else gets 421 Misdirected Request. A request without `Host`
 * (HTTP/1.0 tools) is let through: no browser sends one.
 */
import { isIP } from 'node:net';
import { hostname } from 'node:os';

export function hostChecker(allowedHosts: readonly string[] = [], machineName: string = hostname()): (hostHeader: string | undefined) => boolean {
  const names = new Set(['localhost', ...allowedHosts, machineName, `${machineName}.local`].map((n) => n.toLowerCase().replace(/\.$/, '')));
  return (hostHeader) => {
    if (hostHeader === undefined || hostHeader === '') return true;
    const host = hostNameOf(hostHeader);
    if (host === null) return false;
    if (isIP(host) !== 0) return true;
    return names.has(host.toLowerCase().replace(/\.$/, ''));
  };
}

/** "name:port" → "name", "[::1]:8080" → "::1"; null when malformed. */
function hostNameOf(header: string): string | null {
  const h = header.trim();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end > 1 ? h.slice(1, end) : null;
  }
  const colon = h.lastIndexOf(':');
  const name = colon >= 0 ? h.slice(0, colon) : h;
  return /^[A-Za-z0-9.-]+$/.test(name) ? name : null;
}
