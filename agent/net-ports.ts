import { createServer } from 'node:net';

/** The first port from `preferred` upwards (up to `tries` ports) that can be bound on `host`; 0 lets the OS choose when none can. */
export async function firstFreePort(host: string, preferred: number, tries = 20): Promise<number> {
  for (let port = preferred; port < preferred + tries && port <= 65535; port++) {
    if (await canBind(host, port)) return port;
  }
  return 0;
}

function canBind(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}
