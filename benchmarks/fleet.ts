/**
 * How far one client process drives a fleet (issue #27): N fake replicas (benchmarks/
 * fleet-replicas.ts, in their own process) each answer after a fixed latency L with at most c
 * requests at once, so the fleet's bound is N·c/L requests per second. The client is the suite's
 * own (ReplicaPool over N ChatClients, the OpenAI SDK, keep-alive HTTP on loopback) with c requests
 * per replica; N·c workers keep it full for a fixed number of requests. Reported per N: throughput
 * as a share of the bound, the client's CPU per request (process.cpuUsage) and its CPU use as a
 * share of one core, the replicas' process CPU, and the load average (the machine is shared).
 *
 *   nice npx tsx benchmarks/fleet.ts [--ns 1,2,4,8,16,64] [--latency-ms 100] [--capacity 4] [--rounds 15]
 *     [--clients 1,2,4] [--clients-ns 8,16,64] [--repeat 3]
 *
 * With --clients, each N of --clients-ns is also driven by K client processes at once
 * (benchmarks/fleet-client.ts: each, like a `simulate --shard i/K`, its own ReplicaPool over every
 * replica with capacity / K of the per-replica concurrency and 1/K of the requests); their
 * combined throughput is the requests over the span from the first start to the last end, and
 * their CPU is summed.
 *
 * Control: a share above 100% would mean the replicas or the clock are rigged; the replicas' own
 * request count is checked against the client's.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, getPriority, loadavg } from 'node:os';
import { parseOpenAISpec } from '../models/backends/openai-config.ts';
import { ReplicaPool } from '../models/backends/replica-pool.ts';
import { RESULTS_DIR, writeResult } from './lib.ts';

function arg(name: string, fallback: string): string {
  const k = process.argv.indexOf(name);
  return k >= 0 ? process.argv[k + 1]! : fallback;
}
// --resummarize: write the record again from the runs it holds (extra.runs), measuring nothing.
type Saved = { extra: { latency_ms: number; capacity: number; rounds: number; repeats: number; clients: number[]; nice: number; runs: Row[]; previous?: Previous } };
const saved = process.argv.includes('--resummarize') ? (JSON.parse(readFileSync(new URL('fleet.json', RESULTS_DIR), 'utf8')) as Saved) : undefined;
const ns = arg('--ns', '1,2,4,8,16,64').split(',').map(Number);
const latencyMs = saved?.extra.latency_ms ?? Number(arg('--latency-ms', '100'));
const capacity = saved?.extra.capacity ?? Number(arg('--capacity', '4'));
const rounds = saved?.extra.rounds ?? Number(arg('--rounds', '15'));
const repeats = saved?.extra.repeats ?? Number(arg('--repeat', '1'));
const clientCounts = saved?.extra.clients ?? arg('--clients', '1').split(',').map(Number);
const niceLevel = saved?.extra.nice ?? getPriority();
const clientNs = new Set(arg('--clients-ns', '8,16,64').split(',').map(Number));
for (const k of clientCounts) if (!(k >= 1 && capacity % k === 0)) throw new Error(`--clients ${k}: each client takes capacity / K slots per replica, so K must divide --capacity ${capacity}`);

/** utime + stime of a process, in ms (Linux /proc). */
function procCpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // fields 14, 15 of stat; 100 ticks/s
}

interface Row {
  n: number;
  /** Client processes driving the fleet together (1: this process). */
  clients: number;
  requests: number;
  seconds: number;
  req_per_s: number;
  bound_req_per_s: number;
  share_of_bound: number;
  client_cpu_ms_per_request: number;
  client_cpu_share_of_core: number;
  replicas_cpu_share_of_core: number;
  load_avg_1m_before: number;
  per_replica_requests_min: number;
  per_replica_requests_max: number;
}

/** K client processes (fleet-client.ts), started together once all are warm: requests sent, span, summed CPU, per-replica counts. */
async function driveClients(spec: string, total: number, workers: number, k: number): Promise<{ ms: number; cpuMs: number; per: number[] }> {
  const kids = Array.from({ length: k }, (_, i) =>
    spawn(process.execPath, ['--import', 'tsx', new URL('./fleet-client.ts', import.meta.url).pathname, spec, String(total / k), String(workers / k), `c${i}`], { stdio: ['pipe', 'pipe', 'inherit'] }),
  );
  const lines = kids.map((kid) => {
    const got: string[] = [];
    let buf = '';
    const waiters: (() => void)[] = [];
    kid.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        got.push(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        waiters.shift()?.();
      }
    });
    return async (index: number) => {
      while (got.length <= index) await new Promise<void>((r) => waiters.push(r));
      return got[index]!;
    };
  });
  await Promise.all(lines.map((line) => line(0))); // every client warm
  for (const kid of kids) kid.stdin.write('go\n');
  const outs = (await Promise.all(lines.map((line) => line(1)))).map((l) => JSON.parse(l) as { start: number; end: number; cpu_ms: number; per_replica: number[] });
  const per = outs[0]!.per_replica.map((_, r) => outs.reduce((a, o) => a + o.per_replica[r]!, 0));
  return { ms: Math.max(...outs.map((o) => o.end)) - Math.min(...outs.map((o) => o.start)), cpuMs: outs.reduce((a, o) => a + o.cpu_ms, 0), per };
}

async function measure(n: number, k = 1): Promise<Row> {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('./fleet-replicas.ts', import.meta.url).pathname, String(n), String(latencyMs), String(capacity)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const urls = await new Promise<string[]>((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(buf.slice(0, nl)) as string[]);
    });
    child.on('exit', (code) => reject(new Error(`replicas exited ${code}`)));
  });
  try {
    const spec = `openai:${urls.join('|')}?model=fleet&cache=off&probe=off&max_retries=0&concurrency=${capacity / k}&timeout_ms=60000`;
    const pool = new ReplicaPool(parseOpenAISpec(spec));
    const drive = async (total: number, tag: string) => {
      let next = 0;
      await Promise.all(
        Array.from({ length: n * capacity }, async () => {
          while (next < total) {
            const k = next++;
            await pool.chat([{ role: 'user', content: `${tag} auction ${k}` }], { seed: k });
          }
        }),
      );
    };
    const total = n * capacity * rounds;
    let ms: number;
    let clientMs: number;
    let per: number[];
    let load: number;
    let childMs: number;
    if (k === 1) {
      await drive(n * capacity * 2, 'warm'); // connections opened, JIT warm
      load = loadavg()[0]!;
      const cpu0 = process.cpuUsage();
      const child0 = procCpuMs(child.pid!);
      const before = pool.stats().replicas.map((r) => r.requests);
      const t0 = performance.now();
      await drive(total, 'run');
      ms = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      childMs = procCpuMs(child.pid!) - child0;
      clientMs = (cpu.user + cpu.system) / 1000;
      per = pool.stats().replicas.map((r, j) => r.requests - before[j]!);
    } else {
      load = loadavg()[0]!;
      const child0 = procCpuMs(child.pid!);
      ({ ms, cpuMs: clientMs, per } = await driveClients(spec, total, n * capacity, k));
      // The replicas' CPU includes the clients' warm-ups here (the span is the measured part only).
      childMs = procCpuMs(child.pid!) - child0;
    }
    const sent = per.reduce((a, b) => a + b, 0);
    if (sent !== total) throw new Error(`control: the replicas got ${sent} requests, the driver sent ${total}`);
    const bound = (n * capacity * 1000) / latencyMs;
    const rate = (total * 1000) / ms;
    if (rate > bound * 1.02) throw new Error(`control: ${rate.toFixed(0)} req/s is above the bound ${bound}: the replicas do not hold their latency`);
    return {
      n,
      clients: k,
      requests: total,
      seconds: +(ms / 1000).toFixed(3),
      req_per_s: +rate.toFixed(1),
      bound_req_per_s: bound,
      share_of_bound: +(rate / bound).toFixed(3),
      client_cpu_ms_per_request: +(clientMs / total).toFixed(3),
      client_cpu_share_of_core: +(clientMs / ms).toFixed(3),
      replicas_cpu_share_of_core: +(childMs / ms).toFixed(3),
      load_avg_1m_before: +load.toFixed(2),
      per_replica_requests_min: Math.min(...per),
      per_replica_requests_max: Math.max(...per),
    };
  } finally {
    child.kill('SIGTERM');
  }
}

// --repeat R sweeps R times (each sweep every N, and at each N every K in turn, so the K compared
// at one N meet similar load); each (N, K) is reported by its median run, with the range.
const all: Row[] = saved ? [...saved.extra.runs] : [];
for (let rep = 0; rep < (saved ? 0 : repeats); rep++) {
  for (const n of ns) {
    for (const k of clientCounts) {
      if (k > 1 && !clientNs.has(n)) continue;
      const r = await measure(n, k);
      all.push(r);
      process.stderr.write(`${JSON.stringify({ repeat: rep + 1, ...r })}\n`);
    }
  }
}
type Summary = Row & { repeats: number; share_min: number; share_max: number };
const rows: Summary[] = [];
for (const r of all) {
  if (rows.some((x) => x.n === r.n && x.clients === r.clients)) continue;
  const runs = all.filter((x) => x.n === r.n && x.clients === r.clients).sort((a, b) => a.share_of_bound - b.share_of_bound);
  const median = runs[Math.floor((runs.length - 1) / 2)]!;
  rows.push({ ...median, repeats: runs.length, share_min: runs[0]!.share_of_bound, share_max: runs.at(-1)!.share_of_bound });
}
const single = rows.filter((r) => r.clients === 1);
const multi = rows.filter((r) => r.clients > 1);
// How much more CPU the K processes together got than one client at the same N (the largest ratio).
const cpuGain = Math.max(1, ...multi.map((r) => r.client_cpu_share_of_core / (single.find((x) => x.n === r.n)?.client_cpu_share_of_core ?? Infinity)));
const saturates = single.find((r) => r.share_of_bound < 0.9);
const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
// The run this one replaces, kept beside it (its one-client rows, date, niceness and load): timings
// on a shared machine move with its load, so the record shows both rather than only the latest.
type Previous = { date: string; nice: number | null; rows: Row[] };
let previous: Previous | undefined = saved?.extra.previous;
if (!saved) try {
  const old = JSON.parse(readFileSync(new URL('fleet.json', RESULTS_DIR), 'utf8')) as { date: string; notes?: string[]; extra?: { rows?: Row[]; nice?: number } };
  const nice = old.extra?.nice ?? Number(/ran at nice (-?\d+)/.exec((old.notes ?? []).join(' '))?.[1] ?? NaN);
  const oldRows = (old.extra?.rows ?? []).filter((r) => (r.clients ?? 1) === 1);
  if (oldRows.length > 0) previous = { date: old.date, nice: Number.isFinite(nice) ? nice : null, rows: oldRows };
} catch {
  previous = undefined; // no earlier record
}
writeResult({
  suite: 'fleet',
  tasks: [],
  targets: [
    {
      what: 'one client process over N replicas (fixed latency and capacity), share of N x per-replica bound',
      target: '>= 90% at every N whose bound is under 90% of the client\'s CPU ceiling (1000 / CPU ms per request)',
      measured: single.map((r) => `N=${r.n}: ${pct(r.share_of_bound)}`).join(', '),
      met: single.filter((r) => r.bound_req_per_s <= 0.9 * (1000 / r.client_cpu_ms_per_request)).every((r) => r.share_of_bound >= 0.9),
    },
    ...(multi.length
      ? [
          {
            what: 'K client processes together (each a shard with capacity / K per replica) over N replicas, combined share of N x bound',
            target: 'above one client\'s share at the same N (the one-process limit lifted), >= 90% where the machine grants the CPU',
            measured: [...new Set(multi.map((r) => r.n))]
              .map((n) => `N=${n}: ${rows.filter((r) => r.n === n).map((r) => `${r.clients} client${r.clients > 1 ? 's' : ''} ${pct(r.share_of_bound)}`).join(', ')}`)
              .join('; '),
            met: multi.every((r) => r.share_of_bound >= 0.9),
          },
        ]
      : []),
  ],
  notes: [
    `Replicas: latency ${latencyMs} ms, capacity ${capacity} each (bound ${(capacity * 1000) / latencyMs} req/s per replica), all in one separate process on loopback; ${rounds} rounds of N x ${capacity} requests per N after a warm-up.`,
    saturates
      ? `One client stops scaling at N=${saturates.n} (${pct(saturates.share_of_bound)} of ${saturates.bound_req_per_s} req/s). ${saturates.client_cpu_share_of_core > 0.8 ? `Its CPU use there is ${pct(saturates.client_cpu_share_of_core)} of one core at ${saturates.client_cpu_ms_per_request} ms CPU per request: one Node event loop (the SDK, JSON, HTTP per request) is the limit; worker threads or several client processes (--shard) lift it.` : `Its CPU use there is only ${pct(saturates.client_cpu_share_of_core)} of one core (${saturates.client_cpu_ms_per_request} ms CPU per request), so it is not its own work that binds but the CPU the shared machine grants it: runnable, it waits in the run queue, and each request's turnaround grows past the replicas' latency.`}`
      : `No N measured saturates one client (largest N=${single.at(-1)!.n}).`,
    ...(multi.length
      ? [
          `Several client processes (--clients ${clientCounts.join(',')}): at each N of ${[...clientNs].join(', ')}, K processes each with its own pool over all N replicas, capacity / K slots per replica and 1/K of the requests, started together once all are warm; share = all requests / (last end - first start) over the bound; client CPU summed over the K processes. ${[...new Set(multi.map((r) => r.n))]
            .map((n) => {
              const one = single.find((r) => r.n === n);
              const best = rows.filter((r) => r.n === n).reduce((a, b) => (b.share_of_bound > a.share_of_bound ? b : a));
              const cpu = rows.filter((r) => r.n === n).map((r) => `${r.client_cpu_share_of_core} with ${r.clients}`).join(', ');
              return `N=${n}: ${one ? `one client ${pct(one.share_of_bound)}, ` : ''}best ${pct(best.share_of_bound)} with ${best.clients} process${best.clients > 1 ? 'es' : ''} (range ${pct(best.share_min)}-${pct(best.share_max)}), the clients' CPU together ${cpu} (cores)`;
            })
            .join('; ')}. These are timings on a shared, loaded ${cpus().length}-core machine at nice ${niceLevel} (load averages below): ${
            cpuGain < 1.5
              ? 'the client processes together were granted about as much CPU as one (at most ' + cpuGain.toFixed(2) + ' times, the summed CPU above), so more processes lift throughput only a little; what binds is the CPU the scheduler gives work at this niceness on a machine this loaded, not one event loop. The sweep to repeat on idle cores is this one.'
              : 'the client processes together used up to ' + cpuGain.toFixed(2) + ' times one client\'s CPU: more event loops, and more of the machine\'s CPU granted.'
          }`,
        ]
      : []),
    `Load average (1 min) before each measurement: ${all.map((r) => r.load_avg_1m_before).join(', ')} on ${cpus().length} cores shared with other work; the client ran at nice ${niceLevel}. Where the client's CPU use stays well below one core while throughput plateaus, the plateau is the CPU share the scheduler grants a process on a machine this loaded, not the client's design: "CPU ceiling" = 1000 / (client CPU ms per request) is what the same client would reach with a whole core to itself (an estimate, not a measurement).`,
  ],
  markdown: [
    `| N replicas | client processes | bound req/s | measured req/s | share${repeats > 1 ? ` (median of ${repeats} [min, max])` : ''} | client CPU ms/request | client CPU (cores) | CPU ceiling req/s | replicas CPU (cores) | per-replica requests min/max | load avg 1m |`,
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.n} | ${r.clients} | ${r.bound_req_per_s} | ${r.req_per_s} | ${pct(r.share_of_bound)}${r.repeats > 1 ? ` [${pct(r.share_min)}, ${pct(r.share_max)}]` : ''} | ${r.client_cpu_ms_per_request} | ${r.client_cpu_share_of_core} | ${Math.round(1000 / r.client_cpu_ms_per_request)} | ${r.replicas_cpu_share_of_core} | ${r.per_replica_requests_min}/${r.per_replica_requests_max} | ${r.load_avg_1m_before} |`),
    ...(previous
      ? [
          '',
          `The run before this one (${previous.date.slice(0, 16).replace('T', ' ')} UTC, one client${previous.nice === null ? '' : `, nice ${previous.nice}`}, load average ${previous.rows.map((r) => r.load_avg_1m_before).join(', ')}): ${previous.rows.map((r) => `N=${r.n} ${pct(r.share_of_bound)} (${r.client_cpu_ms_per_request} ms CPU/request)`).join(', ')}.`,
          '',
        ]
      : []),
  ],
  extra: { latency_ms: latencyMs, capacity, rounds, repeats, clients: clientCounts, nice: niceLevel, rows, runs: all, ...(previous ? { previous: { date: previous.date, nice: previous.nice, rows: previous.rows } } : {}) },
});
