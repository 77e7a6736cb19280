/** A server-sent events client for tests: records every event and lets a test wait for a condition. */
export interface SseEvent {
  event: string;
  data: string;
}

export interface EventStream {
  readonly status: number;
  readonly headers: Headers;
  readonly events: SseEvent[];
  /** The last `retry:` hint, ms. */
  readonly retryMs: number | null;
  /** Comment lines (": heartbeat"). */
  readonly comments: string[];
  until(what: string, predicate: (stream: EventStream) => boolean, timeoutMs?: number): Promise<void>;
  close(): void;
}

export async function openEventStream(url: string, headers: Record<string, string> = {}): Promise<EventStream> {
  const abort = new AbortController();
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
  const checks = new Set<() => void>();
  const stream = {
    status: res.status,
    headers: res.headers,
    events: [] as SseEvent[],
    retryMs: null as number | null,
    comments: [] as string[],
    until(what: string, predicate: (s: EventStream) => boolean, timeoutMs = 10_000): Promise<void> {
      if (predicate(stream)) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          checks.delete(check);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${stream.events.length} events)`));
        }, timeoutMs);
        const check = () => {
          if (!predicate(stream)) return;
          clearTimeout(timer);
          checks.delete(check);
          resolve();
        };
        checks.add(check);
      });
    },
    close() {
      abort.abort();
    },
  };
  if (res.status !== 200 || !res.body) {
    await res.body?.cancel();
    throw new Error(`${url}: HTTP ${res.status}`);
  }
  void (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) stream.comments.push(line.slice(1).trim());
            else if (line.startsWith('retry:')) stream.retryMs = Number(line.slice(6).trim());
            else if (line.startsWith('event:')) event = line.slice(6).trim();
            else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
          }
          if (data.length > 0) stream.events.push({ event, data: data.join('\n') });
          for (const check of [...checks]) check();
        }
      }
    } catch {
      // Aborted by close(), or the server went away.
    }
  })();
  return stream;
}
