/**
 * `--browsers N`: N operators with the status page open during the measurement window, emulated by
 * plain HTTP clients of the page's live stream in the bench process — what the agent serves a
 * browser is exactly this stream (`/api/events?device=ID`: an overview every second and that
 * device's values every second); the browser's own rendering costs the browser, not the agent. Each
 * "browser" watches a different device, the largest first (a bulk device: 1000 tags), the worst
 * case for the agent.
 */
import { request, type ClientRequest } from 'node:http';

export interface BrowserStreams {
  /** Stops every stream and returns what they received. */
  stop(): BrowserStreamsReport;
}

export interface BrowserStreamsReport {
  browsers: number;
  devices: string[];
  events: { overview: number; device: number; values: number; alarms: number };
  bytes: number;
  /** Streams that ended or failed before stop(). */
  failures: number;
}

export async function openBrowserStreams(address: { host: string; port: number }, count: number): Promise<BrowserStreams> {
  const base = `http://${address.host}:${address.port}`;
  const res = await fetch(`${base}/api/devices`);
  if (!res.ok) throw new Error(`--browsers: GET /api/devices answered ${res.status}`);
  const { devices } = (await res.json()) as { devices: { id: string; tagCount: number }[] };
  const watched = [...devices].sort((a, b) => b.tagCount - a.tagCount).map((d) => d.id);
  const report: BrowserStreamsReport = { browsers: count, devices: [], events: { overview: 0, device: 0, values: 0, alarms: 0 }, bytes: 0, failures: 0 };
  const requests: ClientRequest[] = [];
  let stopped = false;
  for (let i = 0; i < count; i++) {
    const device = watched[i % watched.length];
    report.devices.push(device);
    await new Promise<void>((resolve, reject) => {
      const req = request(`${base}/api/events?device=${encodeURIComponent(device)}`, { headers: { accept: 'text/event-stream' } }, (stream) => {
        if (stream.statusCode !== 200) {
          reject(new Error(`--browsers: /api/events answered ${stream.statusCode}`));
          stream.resume();
          return;
        }
        resolve();
        stream.setEncoding('utf8');
        stream.on('data', (chunk: string) => {
          report.bytes += Buffer.byteLength(chunk);
          for (const m of chunk.matchAll(/^event: (overview|device|values|alarms)$/gm)) report.events[m[1] as keyof BrowserStreamsReport['events']]++;
        });
        stream.on('end', () => {
          if (!stopped) report.failures++;
        });
      });
      req.on('error', (err) => {
        if (!stopped) report.failures++;
        reject(err);
      });
      req.end();
      requests.push(req);
    });
  }
  return {
    stop() {
      stopped = true;
      for (const req of requests) req.destroy();
      return report;
    },
  };
}
