/**
 * A lean `fetch` for the openai client: node:http(s) with keep-alive agents instead of the WHATWG
 * fetch in undici. The client only needs a Response with status, headers and a body; building it
 * from a buffered reply costs a fraction of undici's fetch machinery, which dominated the suite's
 * CPU per request against a local vLLM (benchmarks/environment.bench.ts).
 */
import http from 'node:http';
import https from 'node:https';

const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 256 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 256 }),
};

function headerRecord(init: RequestInit | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  const h = init?.headers;
  if (!h) return out;
  if (h instanceof Headers) h.forEach((v, k) => (out[k] = v));
  else if (Array.isArray(h)) for (const [k, v] of h) out[k!] = v!;
  else Object.assign(out, h as Record<string, string>);
  return out;
}

export async function httpFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
  const lib = url.protocol === 'https:' ? https : http;
  const agent = agents[url.protocol as 'http:' | 'https:'];
  if (!agent) return fetch(input, init); // anything exotic: the platform fetch
  const body = init?.body;
  const payload = body === undefined || body === null ? undefined : typeof body === 'string' ? body : body instanceof Uint8Array ? body : undefined;
  if (body !== undefined && body !== null && payload === undefined) return fetch(input, init); // streams and forms
  const signal = init?.signal ?? undefined;
  return new Promise<Response>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new DOMException('aborted', 'AbortError'));
    const req = lib.request(url, { method: init?.method ?? 'GET', headers: headerRecord(init), agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const headers = new Headers();
        for (const [k, v] of Object.entries(res.headers)) {
          if (v === undefined) continue;
          if (Array.isArray(v)) for (const x of v) headers.append(k, x);
          else headers.set(k, v);
        }
        const status = res.statusCode ?? 500;
        const noBody = status === 204 || status === 304;
        resolve(new Response(noBody ? null : Buffer.concat(chunks), { status, statusText: res.statusMessage ?? '', headers }));
      });
      res.on('error', reject);
    });
    const onAbort = () => req.destroy(signal?.reason instanceof Error ? signal.reason : new DOMException('aborted', 'AbortError'));
    signal?.addEventListener('abort', onAbort, { once: true });
    req.on('close', () => signal?.removeEventListener('abort', onAbort));
    req.on('error', reject);
    if (payload !== undefined) req.end(payload);
    else req.end();
  });
}
