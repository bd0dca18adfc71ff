/**
 * The servers benchmarks/real-llm.ts runs its experiment through, as child processes it always
 * stops: vLLM's CPU build (scripts/vllm-serve.sh, in its own process group so that the engine
 * worker goes with it) and `llm-auction serve -m local:smollm2` (llama.cpp). Every child, servers
 * and the CLI steps alike, is stopped on exit, on an error and on SIGINT/SIGTERM/SIGHUP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';

export interface Served {
  backend: 'vllm' | 'local';
  /** The OpenAI base URL, ending in /v1. */
  url: string;
  /** The base model's name on that server. */
  model: string;
  /** Seconds from the spawn to the ready line (vLLM) or the serve.json file (local). */
  startSeconds: number;
  /** The server's process id: for vLLM the leader of its process group (engine and workers). */
  pid?: number;
  stop(): Promise<void>;
}

interface Child {
  proc: ChildProcess;
  /** Spawned as a process-group leader: signals go to the whole group. */
  group: boolean;
}
const live = new Set<Child>();

function signal(c: Child, sig: NodeJS.Signals): void {
  try {
    if (c.group && c.proc.pid) process.kill(-c.proc.pid, sig);
    else c.proc.kill(sig);
  } catch {
    // already gone
  }
}
function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SIGTERM, then SIGKILL after `graceMs` if it (or, for a group, any process of it) is still there. */
async function stopChild(c: Child, graceMs = 30_000): Promise<void> {
  if (!live.has(c)) return;
  signal(c, 'SIGTERM');
  const t0 = Date.now();
  const alive = () => (c.group && c.proc.pid ? groupAlive(c.proc.pid) : c.proc.exitCode === null && c.proc.signalCode === null);
  while (alive() && Date.now() - t0 < graceMs) await sleep(250);
  if (alive()) signal(c, 'SIGKILL');
  live.delete(c);
}

let handlers = false;
function installHandlers(): void {
  if (handlers) return;
  handlers = true;
  // On a normal exit only synchronous work runs: a SIGTERM to every child left (servers are
  // stopped and awaited in the script's finally, so this is the error path).
  process.on('exit', () => {
    for (const c of live) signal(c, 'SIGTERM');
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      console.error(`[real-llm] ${sig}: stopping ${live.size} child process(es)`);
      void Promise.all([...live].map((c) => stopChild(c, 10_000))).then(() => process.exit(130));
    });
  }
}

/** Spawn a child that is stopped with the script. */
export function spawnTracked(argv: string[], opts: { group?: boolean; stdio?: ('ignore' | 'inherit' | 'pipe')[] } = {}): { proc: ChildProcess; stop: () => Promise<void> } {
  installHandlers();
  const proc = spawn(argv[0]!, argv.slice(1), { stdio: opts.stdio ?? ['ignore', 'inherit', 'inherit'], detached: opts.group ?? false });
  const c: Child = { proc, group: opts.group ?? false };
  live.add(c);
  proc.on('exit', (code) => {
    // A server's group can outlive its leader (stopChild reaps it); a command that ended by
    // itself is done.
    if (!c.group || code !== null) live.delete(c);
  });
  return { proc, stop: () => stopChild(c) };
}

/**
 * Run a command to its end; its exit code (a signal counts as -1). It runs in a process group of
 * its own, so that stopping it also stops what it started (the trainer under `train`).
 */
export function runTracked(argv: string[]): Promise<number> {
  const { proc } = spawnTracked(argv, { group: true });
  sameAutogroupNice(proc.pid);
  return new Promise((resolve, reject) => {
    proc.on('error', reject);
    proc.on('exit', (code) => resolve(code ?? -1));
  });
}

/** A TCP port nobody listens on now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * vLLM through scripts/vllm-serve.sh: ready at its "[vllm-serve] ready: openai:URL?model=NAME"
 * line. Its output goes to `logFile`; the last lines are shown when it fails to start.
 */
export async function startVllm(opts: { port: number; logFile: string; maxLoraRank: number; maxLoras: number; nice: number; cores?: string; readyTimeoutS?: number; lora?: boolean }): Promise<Served> {
  // lora: false starts it without --enable-lora (the server to score answers on: with LoRA on, the
  // CPU build dies when two prompt-log-probability requests share a step).
  const lora = opts.lora ?? true;
  const argv = [
    ...(opts.nice > 0 ? ['nice', '-n', String(opts.nice)] : []),
    'bash', 'scripts/vllm-serve.sh', '--port', String(opts.port),
    ...(lora ? ['--max-lora-rank', String(opts.maxLoraRank)] : ['--no-lora']),
    ...(opts.cores ? ['--cores', opts.cores] : []),
    ...(lora ? ['--', '--max-loras', String(opts.maxLoras)] : []),
  ];
  appendFileSync(opts.logFile, `$ ${argv.join(' ')}\n`);
  const t0 = Date.now();
  const { proc, stop } = spawnTracked(argv, { group: true, stdio: ['ignore', 'pipe', 'pipe'] });
  sameAutogroupNice(proc.pid);
  let ready: { url: string; model: string } | null = null;
  let buffered = '';
  const onData = (d: Buffer) => {
    appendFileSync(opts.logFile, d);
    buffered = (buffered + d.toString('utf8')).slice(-20_000);
    const m = /\[vllm-serve\] ready: openai:(\S+)\?model=(\S+)/.exec(buffered);
    if (m && !ready) ready = { url: m[1]!, model: m[2]! };
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const limit = (opts.readyTimeoutS ?? 600) * 1000;
  while (!ready && proc.exitCode === null && proc.signalCode === null && Date.now() - t0 < limit) await sleep(250);
  if (!ready) {
    await stop();
    const tail = readFileSync(opts.logFile, 'utf8').trim().split('\n').slice(-15).join('\n');
    throw new Error(`vLLM did not become ready (${proc.exitCode !== null ? `exit ${proc.exitCode}` : `no ready line in ${opts.readyTimeoutS ?? 600} s`}); ${opts.logFile} ends:\n${tail}`);
  }
  const r = ready as { url: string; model: string };
  return { backend: 'vllm', url: r.url, model: r.model, startSeconds: (Date.now() - t0) / 1000, pid: proc.pid, stop };
}

/**
 * A process-group leader is also a new session, and so (where the kernel groups sessions,
 * sched_autogroup) a new scheduling group at nice 0: give it this process's group nice, so that
 * the server is scheduled as the script that started it is.
 */
function sameAutogroupNice(pid: number | undefined): void {
  try {
    const mine = /nice (-?\d+)/.exec(readFileSync('/proc/self/autogroup', 'utf8'))?.[1];
    if (pid && mine && mine !== '0') writeFileSync(`/proc/${pid}/autogroup`, mine);
  } catch {
    // no autogroup here (or not allowed): the default scheduling stays
  }
}

/** `llm-auction serve -m SPEC --port P --json FILE`: ready when FILE appears. */
export async function startLocal(argv: string[], jsonFile: string): Promise<Served> {
  rmSync(jsonFile, { force: true });
  const t0 = Date.now();
  const { proc, stop } = spawnTracked(argv, { stdio: ['ignore', 'inherit', 'inherit'] });
  while (!existsSync(jsonFile) && proc.exitCode === null && Date.now() - t0 < 300_000) await sleep(250);
  if (!existsSync(jsonFile)) {
    await stop();
    throw new Error(`serve did not start (${proc.exitCode !== null ? `exit ${proc.exitCode}` : 'no serve.json in 300 s'})`);
  }
  const s = JSON.parse(readFileSync(jsonFile, 'utf8')) as { url: string; model: string };
  return { backend: 'local', url: s.url, model: s.model, startSeconds: (Date.now() - t0) / 1000, stop };
}

/** Load an adapter into a server by vLLM's runtime LoRA API; one already loaded is left as it is. */
export async function loadAdapter(url: string, name: string, path: string): Promise<'loaded' | 'already'> {
  const res = await fetch(`${url}/load_lora_adapter`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ lora_name: name, lora_path: path }) });
  const text = await res.text();
  if (res.ok) return 'loaded';
  if (res.status === 400 && /already been loaded/.test(text)) return 'already';
  throw new Error(`${url}/load_lora_adapter ${name} (${path}): HTTP ${res.status} ${text.slice(0, 200)}`);
}
