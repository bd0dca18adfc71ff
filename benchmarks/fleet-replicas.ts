/**
 * N fake OpenAI-compatible replicas in one process, for benchmarks/fleet.ts: each answers a chat
 * request after a fixed latency, at most `capacity` at once (more wait in its queue), with one
 * short fixed choice per n. Loopback only. Prints the base URLs as one JSON line, exits on SIGTERM.
 *
 *   npx tsx benchmarks/fleet-replicas.ts N LATENCY_MS CAPACITY
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const n = Number(process.argv[2] ?? 1);
const latencyMs = Number(process.argv[3] ?? 100);
const capacity = Number(process.argv[4] ?? 4);

function replica(): Promise<Server> {
  let active = 0;
  const queue: (() => void)[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { n?: number };
      const start = () => {
        active++;
        setTimeout(() => {
          const choices = Array.from({ length: body.n ?? 1 }, (_, index) => ({ index, message: { role: 'assistant', content: `answer ${index}` }, finish_reason: 'stop' }));
          const text = JSON.stringify({ id: 'x', object: 'chat.completion', created: 0, model: 'fleet', choices, usage: { prompt_tokens: 10, completion_tokens: 2, total_tokens: 12 } });
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(text);
          active--;
          queue.shift()?.();
        }, latencyMs);
      };
      if (active < capacity) start();
      else queue.push(start);
    });
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const servers = await Promise.all(Array.from({ length: n }, () => replica()));
process.stdout.write(`${JSON.stringify(servers.map((s) => `http://127.0.0.1:${(s.address() as AddressInfo).port}/v1`))}\n`);
process.on('SIGTERM', () => {
  for (const s of servers) s.closeAllConnections();
  process.exit(0);
});
