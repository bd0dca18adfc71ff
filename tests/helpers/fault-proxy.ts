/**
 * A faulty endpoint in front of a healthy one: an HTTP proxy (node:http only, 127.0.0.1, a free
 * port) that forwards chat requests to `target` except for a seeded share it spoils: HTTP 500, 429
 * with Retry-After 0, a request never answered (the client must time out), a garbage body (JSON
 * cut off), and a 200 whose choice has `content: null`. The healthy answers are the target's own, so
 * a run through the proxy must end with exactly what a run against the target gives.
 */
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Rng } from '../../lib/rng.ts';

export interface FaultMix {
  error500?: number;
  error429?: number;
  hang?: number;
  garbage?: number;
  nullContent?: number;
  seed?: number;
}

export interface FaultProxy {
  readonly baseURL: string;
  readonly counts: { requests: number; error500: number; error429: number; hang: number; garbage: number; nullContent: number; passed: number };
  close(): Promise<void>;
}

export async function startFaultProxy(target: string, mix: FaultMix): Promise<FaultProxy> {
  const t = new URL(target);
  const counts = { requests: 0, error500: 0, error429: 0, hang: 0, garbage: 0, nullContent: 0, passed: 0 };
  const rng = new Rng(mix.seed ?? 1);
  const draw = () => rng.uniform();
  const hung = new Set<ServerResponse>();
  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
  const forward = (req: IncomingMessage, body: Buffer, res: ServerResponse) => {
    const up = httpRequest(
      { host: t.hostname, port: t.port, method: req.method, path: `${t.pathname.replace(/\/$/, '')}${req.url!.replace(/^\/v1/, '')}`, headers: { ...req.headers, host: t.host } },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    up.end(body);
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (!req.url?.endsWith('/chat/completions')) return forward(req, body, res);
      counts.requests++;
      let u = draw();
      const pick = (p: number | undefined) => {
        const hit = u < (p ?? 0);
        u -= p ?? 0;
        return hit;
      };
      if (pick(mix.error500)) {
        counts.error500++;
        return json(res, 500, { error: { message: 'injected 500', type: 'server_error' } });
      }
      if (pick(mix.error429)) {
        counts.error429++;
        return json(res, 429, { error: { message: 'injected 429', type: 'rate_limit_error' } }, { 'retry-after': '0' });
      }
      if (pick(mix.hang)) {
        counts.hang++;
        hung.add(res);
        res.on('close', () => hung.delete(res));
        return;
      }
      if (pick(mix.garbage)) {
        counts.garbage++;
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end('{"id":"chatcmpl-x","choices":[{"index":0,"mess');
      }
      if (pick(mix.nullContent)) {
        counts.nullContent++;
        return json(res, 200, { id: 'chatcmpl-null', object: 'chat.completion', created: 0, model: 'x', choices: [{ index: 0, message: { role: 'assistant', content: null }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 0, total_tokens: 1 } });
      }
      counts.passed++;
      forward(req, body, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    counts,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hung) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
