import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../core/logger.js';
import type { GatewayView } from '../state/live-state.js';
import { STATUS_PAGE_HTML } from './page.js';

export interface StatusServerOptions {
  host: string;
  port: number;
  /** Reads the live picture; the server never touches the pipeline. */
  snapshot: () => GatewayView;
  isReady: () => boolean;
  logger: Logger;
}

/** The local status page and its JSON API: `/`, `/api/status`, `/healthz`, `/readyz`. Read-only. */
export class StatusServer {
  private server: Server | null = null;

  constructor(private readonly options: StatusServerOptions) {}

  async start(): Promise<{ host: string; port: number }> {
    const server = createServer((req, res) => this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(new Error(`status page: cannot listen on ${this.options.host}:${this.options.port}: ${err.code ?? err.message}`, { cause: err })),
      );
      server.listen(this.options.port, this.options.host, () => resolve());
    });
    const address = server.address() as AddressInfo;
    return { host: this.options.host, port: address.port };
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n', { allow: 'GET, HEAD' });
      return;
    }
    try {
      switch (url.pathname) {
        case '/':
          send(res, 200, 'text/html; charset=utf-8', STATUS_PAGE_HTML);
          return;
        case '/api/status':
          send(res, 200, 'application/json', JSON.stringify(this.options.snapshot()));
          return;
        case '/healthz':
          send(res, 200, 'application/json', JSON.stringify({ status: 'ok' }));
          return;
        case '/readyz': {
          const ready = this.options.isReady();
          send(res, ready ? 200 : 503, 'application/json', JSON.stringify({ status: ready ? 'ready' : 'starting' }));
          return;
        }
        default:
          send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
      }
    } catch (err) {
      this.options.logger.error({ err: (err as Error).message, path: url.pathname }, 'status page request failed');
      send(res, 500, 'text/plain; charset=utf-8', 'internal error\n');
    }
  }
}

function send(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    'content-type': type,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'content-security-policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'",
    ...headers,
  });
  res.end(body);
}
