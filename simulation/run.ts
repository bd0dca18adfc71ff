/**
 * Running many episodes into a run directory: `episodes.jsonl` (appended as episodes finish, in
 * query order) and `manifest.json` (config, seed, versions, progress).
 *
 * One writer at a time: the run holds DIR/.lock (run-lock.ts). The manifest is replaced atomically.
 * An endpoint call that still fails after its retries fails only its own auction, which gets
 * another turn at the end of the pass; anything else stops the run at once (requests in flight
 * aborted, finished episodes kept) with exit 2, and --resume continues.
 *
 * Crash safety: each query's episodes are appended with one synchronous write, and every episode
 * is a pure function of (seed, query id, sample). `--resume` drops a torn last line, skips the
 * (query, sample) pairs already on disk and recomputes the rest, so a run killed at any moment
 * and resumed ends byte for byte identical to one that never stopped.
 */
import { appendFileSync, existsSync, readFileSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { z } from 'zod';
import { abortInFlight } from '../lib/abort.ts';
import { InputError, UsageError } from '../lib/errors.ts';
import { checkRegularFile, fieldPath } from '../lib/jsonl.ts';
import { lockRunDir } from './run-lock.ts';
import type { AuctionInput } from '../mechanism/types.ts';
import { runAuction, type Episode, type EpisodeContext } from './episode.ts';

export interface RunManifest {
  kind: string;
  config: Record<string, unknown>;
  seed: number;
  versions: Record<string, string>;
  status?: 'running' | 'complete' | 'stopped';
  episodes?: number;
  /** Endpoint traffic over every invocation of the run (only for endpoint backends). */
  endpoint?: EndpointStats;
}

export interface EndpointStats {
  requests: number;
  retries: number;
  failures: number;
  cache_hits: number;
  /** Auctions whose calls still failed after every retry, each time it happened (each got another turn). */
  auctions_failed?: number;
  /** Per replica of an `openai:URL1|URL2|…` spec (models/backends/replica-pool.ts), over every invocation. */
  replicas?: { url: string; requests: number; retries: number; failures: number; drains: number }[];
}

export interface RunItem {
  queryId: string;
  input: AuctionInput;
}

/** The fields of an episode a resume and the trainer rely on; a line without them is damage. */
const episodeLine = z.looseObject({
  query_id: z.string(),
  sample: z.number().int().min(0),
  response: z.string(),
  clicks: z.array(z.string()),
  exposures: z.array(z.unknown()),
  payments: z.array(z.unknown()),
  revenue: z.number(),
  reward: z.number(),
});

/**
 * Read the episodes already on disk; a torn final line (a crash mid-write) is cut off. Any other
 * damage is refused with its line and field, never skipped.
 */
export function readDoneEpisodes(file: string, belongs?: (ep: DoneEpisode) => [field: string, why: string] | undefined): Set<string> {
  const done = new Set<string>();
  if (!existsSync(file)) return done;
  checkRegularFile(file);
  const text = readFileSync(file, 'utf8');
  const kept: DoneEpisode[] = [];
  let good = 0;
  let pos = 0;
  let lineNo = 0;
  while (pos < text.length) {
    const nl = text.indexOf('\n', pos);
    lineNo++;
    const line = text.slice(pos, nl < 0 ? text.length : nl);
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (e) {
      // Only the last line may be torn (the write a crash cut short); it is dropped and redone.
      if (nl < 0 || nl === text.length - 1) break;
      throw new InputError(file, lineNo, undefined, `not valid JSON (${(e as Error).message}); a damaged line before the end: refusing to resume over it`);
    }
    if (nl < 0) break; // complete JSON but no newline: the write was cut short just before it
    const parsed = episodeLine.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new InputError(file, lineNo, fieldPath(issue.path), `${issue.message}; the run directory is damaged`);
    }
    const key = `${parsed.data.query_id}#${parsed.data.sample}`;
    if (done.has(key)) throw new InputError(file, lineNo, 'query_id', `episode ${key} appears twice; the run directory is damaged`);
    done.add(key);
    if (belongs) kept.push({ query_id: parsed.data.query_id, sample: parsed.data.sample, mechanism: (json as { mechanism?: unknown }).mechanism, line: lineNo });
    pos = nl + 1;
    good = pos;
  }
  // Whole lines first, then whether each belongs to the run being resumed: an episode of a query
  // the run does not have, a sample beyond its --samples or another mechanism's is never kept.
  for (const ep of kept) {
    const wrong = belongs!(ep);
    if (wrong) throw new InputError(file, ep.line, wrong[0], `${wrong[1]}; this episode is not of the run being resumed: refusing to resume over it`);
  }
  if (good < text.length) truncateSync(file, Buffer.byteLength(text.slice(0, good)));
  return done;
}

/** What a resume checks of an episode already on disk. */
export interface DoneEpisode {
  query_id: string;
  sample: number;
  mechanism: unknown;
  line: number;
}

/** Read a run's manifest.json for a resume; damage is bad input naming the file. */
export function readManifest(file: string): RunManifest {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(file, undefined, undefined, `cannot read (${(e as NodeJS.ErrnoException).code})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new InputError(file, undefined, undefined, `not valid JSON (${(e as Error).message}); the run directory is damaged: remove it and start again, or choose another --out`);
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InputError(file, undefined, fieldPath(issue.path), issue.message);
  }
  return parsed.data as unknown as RunManifest;
}

const manifestSchema = z.looseObject({
  kind: z.string(),
  config: z.record(z.string(), z.unknown()),
  seed: z.number(),
});

/** Write a manifest whole or not at all (temporary file, fsync, rename). */
export function writeManifest(file: string, manifest: unknown): void {
  writeFileAtomic.sync(file, `${JSON.stringify(manifest, null, 2)}\n`);
}

export interface SimulationOptions {
  out: string;
  manifest: Omit<RunManifest, 'status' | 'episodes'>;
  items: RunItem[];
  episode: Omit<EpisodeContext, 'queryId' | 'input'>;
  resume?: boolean;
  /** Auctions in flight at once (endpoint backends benefit; the embedded one is synchronous). */
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
  /**
   * Rounds over the auctions whose endpoint calls still failed after their retries (default 3):
   * one auction's failure never stops the others, and it gets another turn at the end.
   */
  passes?: number;
}

function sameConfig(a: RunManifest, b: RunManifest): string | undefined {
  const pick = (m: RunManifest) => JSON.stringify({ kind: m.kind, config: m.config, seed: m.seed });
  if (pick(a) !== pick(b)) return 'its manifest has a different configuration';
  return undefined;
}

/** Requests, retries and failures of the endpoint clients a run talks to (rule and user). */
function endpointStats(...parts: unknown[]): EndpointStats | undefined {
  let out: EndpointStats | undefined;
  for (const p of parts) {
    const f = (p as { stats?: unknown } | null)?.stats;
    if (typeof f !== 'function') continue;
    const s = (f as () => Partial<Record<'requests' | 'retries' | 'failures' | 'cacheHits', number>>).call(p);
    out ??= { requests: 0, retries: 0, failures: 0, cache_hits: 0 };
    out.requests += s.requests ?? 0;
    out.retries += s.retries ?? 0;
    out.failures += s.failures ?? 0;
    out.cache_hits += s.cacheHits ?? 0;
    const reps = (s as { replicas?: NonNullable<EndpointStats['replicas']> }).replicas;
    if (Array.isArray(reps)) out.replicas = addReplicas(out.replicas, reps);
  }
  return out;
}

/** Per-replica counts summed by URL, in first-seen order. */
function addReplicas(a: EndpointStats['replicas'], b: EndpointStats['replicas']): EndpointStats['replicas'] {
  if (!a && !b) return undefined;
  const out = (a ?? []).map((r) => ({ ...r }));
  for (const r of b ?? []) {
    const o = out.find((x) => x.url === r.url);
    if (!o) out.push({ ...r });
    else for (const k of ['requests', 'retries', 'failures', 'drains'] as const) o[k] += r[k];
  }
  return out;
}

/** An endpoint call that failed after its retries: the auction gets another turn later. */
function transient(e: unknown): boolean {
  const x = e as { name?: string; retryable?: boolean; aborted?: boolean };
  return x?.name === 'OpenAIBackendError' && x.retryable === true && x.aborted !== true;
}
const aborted = (e: unknown) => (e as { aborted?: boolean })?.aborted === true;

export async function runSimulation(opts: SimulationOptions): Promise<{ written: number; skipped: number; total: number }> {
  const { out, items, episode } = opts;
  const unlock = lockRunDir(out);
  try {
    return await simulateLocked(opts, out, items, episode);
  } finally {
    unlock();
  }
}

async function simulateLocked(
  opts: SimulationOptions,
  out: string,
  items: RunItem[],
  episode: SimulationOptions['episode'],
): Promise<{ written: number; skipped: number; total: number }> {
  const manifestPath = join(out, 'manifest.json');
  const episodesPath = join(out, 'episodes.jsonl');
  let done = new Set<string>();
  let before: EndpointStats | undefined;
  if (existsSync(manifestPath) || existsSync(episodesPath)) {
    if (!opts.resume) throw new UsageError(`${out} already holds a run: pass --resume to continue it, or choose another --out`);
    if (existsSync(manifestPath)) {
      const old = readManifest(manifestPath);
      const why = sameConfig(old, opts.manifest as unknown as RunManifest);
      if (why) throw new UsageError(`${manifestPath}: cannot resume: ${why}`);
      before = old.endpoint;
    }
    const queries = new Set(items.map((it) => it.queryId));
    const name = episode.rule.name;
    done = readDoneEpisodes(episodesPath, (ep) =>
      !queries.has(ep.query_id)
        ? ['query_id', `no query ${JSON.stringify(ep.query_id)} among this run's ${queries.size}`]
        : ep.sample >= episode.samples
          ? ['sample', `sample ${ep.sample} is beyond --samples ${episode.samples}`]
          : ep.mechanism !== name
            ? ['mechanism', `an episode of ${JSON.stringify(ep.mechanism)}, while this run's mechanism is ${JSON.stringify(name)}`]
            : undefined,
    );
  }
  // No timestamps: the same seed and config give the same directory, byte for byte.
  const manifest: RunManifest = { ...opts.manifest, status: 'running' };
  writeManifest(manifestPath, manifest);

  const total = items.length * episode.samples;
  let progress = done.size;
  let written = 0;
  opts.onProgress?.(progress, total);
  const todo = items.filter((it) => {
    for (let m = 0; m < episode.samples; m++) if (!done.has(`${it.queryId}#${m}`)) return true;
    return false;
  });
  const concurrency = Math.max(1, opts.concurrency ?? 1);
  type Settled = { ok: true; eps: Episode[] } | { ok: false; error: unknown };
  let fatal: unknown;
  let lastFailure: unknown;
  let auctionsFailed = 0;

  const record = (eps: Episode[]) => {
    const fresh = eps.filter((e) => !done.has(`${e.query_id}#${e.sample}`));
    if (fresh.length > 0) appendFileSync(episodesPath, fresh.map((e) => `${JSON.stringify(e)}\n`).join(''));
    for (const e of fresh) done.add(`${e.query_id}#${e.sample}`);
    written += fresh.length;
    progress += fresh.length;
    opts.onProgress?.(progress, total);
  };

  /** One round over `list`; returns the auctions whose endpoint calls failed after their retries. */
  const pass = async (list: RunItem[]): Promise<RunItem[]> => {
    const failed: RunItem[] = [];
    const pending: { it: RunItem; p: Promise<Settled> }[] = [];
    let next = 0;
    const launch = () => {
      const it = list[next++]!;
      const p = runAuction({ ...episode, queryId: it.queryId, input: it.input }).then(
        (eps): Settled => ({ ok: true, eps }),
        (error: unknown): Settled => ({ ok: false, error }),
      );
      pending.push({ it, p });
    };
    while (next < list.length && pending.length < concurrency) launch();
    while (pending.length > 0) {
      const { it, p } = pending.shift()!;
      const r = await p;
      if (fatal === undefined && next < list.length) launch();
      if (r.ok) record(r.eps);
      else if (fatal !== undefined || aborted(r.error)) continue; // stopping: it is redone on --resume
      else if (transient(r.error)) {
        failed.push(it);
        lastFailure = r.error;
        auctionsFailed++;
      } else {
        // Not the endpoint's passing trouble: stop now, cut the requests in flight, keep what finished.
        fatal = r.error;
        abortInFlight('the run stopped');
      }
    }
    return failed;
  };

  // Ctrl-C or a TERM stops the run the same clean way: requests in flight aborted, what finished kept.
  const interrupt = (signal: NodeJS.Signals) => {
    if (fatal === undefined) fatal = new UsageError(`interrupted by ${signal}`);
    abortInFlight(`interrupted by ${signal}`);
  };
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  let left: RunItem[];
  try {
    left = await pass(todo);
    for (let round = 1; round < (opts.passes ?? 3) && left.length > 0 && fatal === undefined; round++) left = await pass(left);
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
  }

  const stats = endpointStats(episode.rule, episode.clicks);
  if (stats || before) {
    const add = (k: 'requests' | 'retries' | 'failures' | 'cache_hits') => (before?.[k] ?? 0) + (stats?.[k] ?? 0);
    manifest.endpoint = { requests: add('requests'), retries: add('retries'), failures: add('failures'), cache_hits: add('cache_hits') };
    manifest.endpoint.auctions_failed = (before?.auctions_failed ?? 0) + auctionsFailed;
    const replicas = addReplicas(before?.replicas, stats?.replicas);
    if (replicas) manifest.endpoint.replicas = replicas;
  }
  if (fatal !== undefined || left.length > 0) {
    manifest.status = 'stopped';
    manifest.episodes = done.size;
    writeManifest(manifestPath, manifest);
    const kept = `${done.size} of ${total} episodes are in ${episodesPath}; --resume continues`;
    if (fatal !== undefined) {
      const msg = fatal instanceof Error ? fatal.message : String(fatal);
      if (fatal instanceof Error && (fatal.name === 'UsageError' || fatal.name === 'InputError' || fatal.name === 'OpenAIBackendError')) {
        throw new UsageError(`${msg} (${kept})`);
      }
      throw fatal;
    }
    const why = lastFailure instanceof Error ? lastFailure.message : String(lastFailure);
    throw new UsageError(`${left.length} auction(s) still failed after ${opts.passes ?? 3} rounds of retries (last: ${why}); ${kept}`);
  }
  manifest.status = 'complete';
  manifest.episodes = total;
  writeManifest(manifestPath, manifest);
  return { written, skipped: total - written, total };
}
