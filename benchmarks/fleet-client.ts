/**
 * One of several client processes for benchmarks/fleet.ts --clients K (issue #27): what a shard of
 * a run (`simulate --shard i/K`) is to the fleet, a process of its own with its own ReplicaPool over
 * every replica and 1/K of the per-replica concurrency. It warms up, prints `ready`, waits for a
 * line on stdin, sends its requests with `workers` in flight, and prints one JSON line: its start
 * and end (epoch ms, so the parent can take the span over all clients), its CPU and the requests
 * each replica got from it.
 *
 *   npx tsx benchmarks/fleet-client.ts SPEC TOTAL WORKERS TAG
 */
import { parseOpenAISpec } from '../models/backends/openai-config.ts';
import { ReplicaPool } from '../models/backends/replica-pool.ts';

const [spec, totalText, workersText, tag] = process.argv.slice(2);
const total = Number(totalText);
const workers = Number(workersText);
const pool = new ReplicaPool(parseOpenAISpec(spec!));

async function drive(count: number, label: string): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (next < count) {
        const k = next++;
        await pool.chat([{ role: 'user', content: `${label} auction ${k}` }], { seed: k });
      }
    }),
  );
}

await drive(workers * 2, `${tag} warm`); // connections opened, JIT warm
const before = pool.stats().replicas.map((r) => r.requests);
process.stdout.write('ready\n');
await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
const cpu0 = process.cpuUsage();
const start = performance.timeOrigin + performance.now();
await drive(total, `${tag} run`);
const end = performance.timeOrigin + performance.now();
const cpu = process.cpuUsage(cpu0);
const per = pool.stats().replicas.map((r, k) => r.requests - before[k]!);
process.stdout.write(`${JSON.stringify({ start, end, cpu_ms: (cpu.user + cpu.system) / 1000, per_replica: per })}\n`);
process.exit(0);
