/**
 * JSON in and out for the status API: request bodies are JSON only and size-limited; errors are
 * `{ "error": "…" }` with a 4xx status. For the login endpoints and the action endpoints alike.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export const MAX_BODY_BYTES = 8 * 1024;

export type JsonBody = { ok: true; value: unknown } | { ok: false; status: number; error: string };

/**
 * Reads the request body as JSON: 415 unless `Content-Type: application/json`, 413 above
 * `maxBytes` (decided from Content-Length before reading when it is given), 400 for an empty
 * body, invalid UTF-8 or invalid JSON. After a 413 the rest of the body is not read: send the
 * answer with `connection: close` (sendJson does for 413).
 */
export function readJsonBody(req: IncomingMessage, maxBytes: number = MAX_BODY_BYTES): Promise<JsonBody> {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/json') return Promise.resolve({ ok: false, status: 415, error: 'expected Content-Type: application/json' });
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.resolve(tooLarge(maxBytes));
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (result: JsonBody): void => {
      if (done) return;
      done = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onError);
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) {
        req.pause();
        finish(tooLarge(maxBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => finish(parse(Buffer.concat(chunks)));
    const onError = (): void => finish({ ok: false, status: 400, error: 'the request body was not received completely' });
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onError);
  });
}

function tooLarge(maxBytes: number): JsonBody {
  return { ok: false, status: 413, error: `the request body is larger than ${maxBytes} bytes` };
}

function parse(bytes: Buffer): JsonBody {
  if (bytes.length === 0) return { ok: false, status: 400, error: 'expected a JSON body' };
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { ok: false, status: 400, error: 'the request body is not valid UTF-8' };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    return { ok: false, status: 400, error: `the request body is not valid JSON: ${(e as Error).message}` };
  }
}

/**
 * A JSON answer with the status page's safety headers (no caching: answers may carry a CSRF
 * token). The one JSON answer of the status server and of the login routes alike. A 413 always
 * closes the connection: the rest of that body is never read, and a client still uploading it
 * (chunked) would otherwise wait on a kept-alive connection that nobody reads.
 */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string | string[]> = {}, options: { head?: boolean } = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': String(Buffer.byteLength(text)),
    'x-content-type-options': 'nosniff',
    ...headers,
    ...(status === 413 ? { connection: 'close' } : {}),
  });
  res.end(options.head ? undefined : text);
}
