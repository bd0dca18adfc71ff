/**
 * Sharded runs (issue #27): `--shard i/n` runs the i-th of n disjoint parts of a run, split by
 * query index into contiguous blocks (shard i of n gets queries [floor((i-1)Q/n), floor(iQ/n))), so
 * n machines can share one run; `mergeRuns` joins their directories into what one machine would
 * have written. Episodes are a pure function of (seed, query id, sample) and a run writes them in
 * query order, so the merge is the shards' episodes.jsonl concatenated in shard order, and the
 * manifest is the shards' common one without its `shard` field (endpoint counts summed).
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, UsageError } from '../lib/errors.ts';
import { isCasePart, mergeCaseVerdicts } from '../properties/case-merge.ts';
import type { Verdict } from '../properties/types.ts';
import { readDoneEpisodes, readManifest, writeManifest, type EndpointStats, type RunManifest } from '../simulation/run.ts';

export interface Shard {
  /** 1-based: 1 … count. */
  index: number;
  count: number;
}

/** `i/n` with 1 <= i <= n; anything else is a UsageError naming the flag. */
export function parseShard(text: string, flag = '--shard'): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || count > 100_000 || index < 1 || index > count) {
    throw new UsageError(`${flag} must be i/n with 1 <= i <= n (e.g. 2/4), got ${JSON.stringify(text)}`);
  }
  return { index, count };
}

export const formatShard = (s: Shard): string => `${s.index}/${s.count}`;

/** The shard's contiguous block of `items` (by index); the blocks of 1/n … n/n partition the list. */
export function shardSlice<T>(items: readonly T[], s: Shard): T[] {
  const lo = Math.floor(((s.index - 1) * items.length) / s.count);
  const hi = Math.floor((s.index * items.length) / s.count);
  return items.slice(lo, hi);
}

export interface MergeSummary {
  out: string;
  shards: number;
  episodes: number;
}

/**
 * Join the run directories of shards 1/n … n/n (given in any order) into `out`: episodes.jsonl
 * and manifest.json as an unsharded run with the same configuration writes them (and the
 * queries.jsonl of `--queries generate`). Refused: a shard missing, twice, unfinished, or of
 * another configuration, seed or version.
 */
export function mergeRuns(from: readonly string[], out: string): MergeSummary {
  if (from.length === 0) throw new UsageError('merge: --from needs at least one run directory');
  const parts = from.map((dir) => {
    const file = join(dir, 'manifest.json');
    if (!existsSync(file)) throw new InputError(file, undefined, undefined, 'no manifest: not a run directory');
    const m = readManifest(file);
    const raw = m.config.shard;
    const shard = typeof raw === 'string' ? parseShard(raw, `${file}: config.shard`) : { index: 1, count: 1 };
    if (m.status !== 'complete') throw new InputError(file, undefined, 'status', `is ${JSON.stringify(m.status ?? null)}: finish the shard first (--resume)`);
    return { dir, file, m, shard };
  });
  const count = parts[0]!.shard.count;
  parts.sort((a, b) => a.shard.index - b.shard.index);
  const strip = (m: RunManifest) => {
    const { shard: _shard, ...config } = m.config;
    return JSON.stringify({ kind: m.kind, config, seed: m.seed, versions: m.versions });
  };
  const common = strip(parts[0]!.m);
  parts.forEach((p, k) => {
    if (p.shard.count !== count) throw new InputError(p.file, undefined, 'config.shard', `is ${formatShard(p.shard)}, while ${parts[0]!.file} is of ${count} shards`);
    if (p.shard.index !== k + 1) {
      const why = p.shard.index === k ? `shard ${formatShard(p.shard)} is given twice` : `shard ${k + 1}/${count} is missing`;
      throw new UsageError(`merge: ${why} (--from has ${from.length} directories)`);
    }
    if (strip(p.m) !== common) throw new InputError(p.file, undefined, 'config', `differs from ${parts[0]!.file} (configuration, seed or versions): not shards of one run`);
  });
  if (parts.length !== count) throw new UsageError(`merge: shard ${parts.length + 1}/${count} is missing (--from has ${from.length} directories)`);

  mkdirSync(out, { recursive: true });
  const target = join(out, 'episodes.jsonl');
  if (existsSync(target) || existsSync(join(out, 'manifest.json'))) throw new UsageError(`${out} already holds a run: choose another --out`);
  let episodes = 0;
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const file = join(p.dir, 'episodes.jsonl');
    // Validates every line (and refuses duplicates) before anything is joined.
    const done = readDoneEpisodes(file);
    if (done.size !== (p.m.episodes ?? -1)) throw new InputError(file, undefined, undefined, `holds ${done.size} episodes, its manifest says ${p.m.episodes}`);
    episodes += done.size;
    chunks.push(readFileSync(file));
  }
  writeFileSync(target, Buffer.concat(chunks));
  // The raw JSON, not readManifest's parse (which reorders keys): the same key order as an unsharded run's.
  const first = JSON.parse(readFileSync(parts[0]!.file, 'utf8').replace(/^\uFEFF/, '')) as RunManifest;
  const { shard: _shard, ...config } = first.config;
  const manifest: RunManifest = { ...first, config, episodes };
  const endpoints = parts.map((p) => p.m.endpoint).filter((e): e is EndpointStats => e !== undefined);
  if (endpoints.length > 0) manifest.endpoint = sumEndpoints(endpoints);
  writeManifest(join(out, 'manifest.json'), manifest);
  const queries = join(parts[0]!.dir, 'queries.jsonl');
  if (existsSync(queries)) copyFileSync(queries, join(out, 'queries.jsonl'));
  return { out, shards: count, episodes };
}

function sumEndpoints(list: EndpointStats[]): EndpointStats {
  const out: EndpointStats = { requests: 0, retries: 0, failures: 0, cache_hits: 0, auctions_failed: 0 };
  for (const e of list) {
    out.requests += e.requests;
    out.retries += e.retries;
    out.failures += e.failures;
    out.cache_hits += e.cache_hits;
    out.auctions_failed! += e.auctions_failed ?? 0;
    for (const r of e.replicas ?? []) {
      out.replicas ??= [];
      const o = out.replicas.find((x) => x.url === r.url);
      if (o) for (const k of ['requests', 'retries', 'failures', 'drains'] as const) o[k] += r[k];
      else out.replicas.push({ ...r });
    }
  }
  return out;
}

/** A verify result as `verify --json` writes it (reports/formats.ts VerifyResult), with its shard. */
export interface ShardedVerifyResult {
  mechanism: string;
  alpha: number;
  alpha_per_property: number;
  tested: string[];
  budget?: number;
  budgets: Record<string, number>;
  seed: number;
  properties: Record<string, { verdict: string }>;
  reports?: Record<string, unknown>;
  shard?: string;
  [key: string]: unknown;
}

/**
 * Join the results of `verify --shard 1/n … n/n` (any order) into the unsharded result: the
 * properties of each shard in shard order, each already checked at the alpha the whole family
 * gives it, and one exit code over all (0 pass, 1 any fail, 3 otherwise). `names` name the inputs
 * in messages. Refused: a shard missing or twice, or results of another mechanism, alpha, seed or
 * property list.
 */
export function mergeVerifyResults(results: readonly ShardedVerifyResult[], names: readonly string[] = results.map((_, k) => `result ${k + 1}`)): { code: 0 | 1 | 3; result: ShardedVerifyResult } {
  if (results.length === 0) throw new UsageError('merge: --from needs at least one verify result');
  const parts = results.map((r, k) => ({ r, name: names[k]!, shard: typeof r.shard === 'string' ? parseShard(r.shard, `${names[k]}: shard`) : { index: 1, count: 1 } }));
  parts.sort((a, b) => a.shard.index - b.shard.index);
  const count = parts[0]!.shard.count;
  const key = (r: ShardedVerifyResult) => JSON.stringify([r.mechanism, r.alpha, r.alpha_per_property, r.tested, r.budget ?? null, r.seed]);
  parts.forEach((p, k) => {
    if (p.shard.count !== count || p.shard.index !== k + 1) throw new UsageError(`merge: shard ${k + 1}/${count} is missing or given twice (${p.name} is ${formatShard(p.shard)})`);
    if (key(p.r) !== key(parts[0]!.r)) throw new InputError(p.name, undefined, undefined, 'mechanism, alpha, seed, budget or tested properties differ from the first shard: not shards of one verify');
  });
  if (parts.length !== count) throw new UsageError(`merge: shard ${parts.length + 1}/${count} is missing`);
  const head = parts[0]!.r;
  // The unsharded key order: mechanism, alpha, alpha_per_property, tested, [budget], budgets, seed, properties, [reports].
  const ordered: ShardedVerifyResult = { mechanism: head.mechanism, alpha: head.alpha, alpha_per_property: head.alpha_per_property, tested: head.tested, ...(head.budget === undefined ? {} : { budget: head.budget }), budgets: {}, seed: head.seed, properties: {} };
  // A property whose cases were split over shards comes in parts (properties/case-merge.ts): one verdict.
  const pieces = new Map<string, Verdict[]>();
  for (const p of parts) {
    Object.assign(ordered.budgets, p.r.budgets);
    for (const [name, v] of Object.entries(p.r.properties)) {
      const list = pieces.get(name) ?? [];
      if (list.length > 0 && !(isCasePart(list[0]!) && isCasePart(v as Verdict))) throw new InputError(p.name, undefined, `properties.${name}`, 'is in two shards whole: not shards of one verify');
      pieces.set(name, [...list, v as Verdict]);
    }
    if (p.r.reports) ordered.reports = { ...(ordered.reports ?? {}), ...p.r.reports };
  }
  for (const [name, list] of pieces) {
    try {
      ordered.properties[name] = list.length === 1 && !isCasePart(list[0]!) ? list[0]! : mergeCaseVerdicts(list, name);
    } catch (e) {
      throw new InputError(names.join(','), undefined, `properties.${name}`, (e as Error).message);
    }
  }
  const verdicts = Object.values(ordered.properties).map((v) => v.verdict);
  const code = verdicts.includes('fail') ? 1 : verdicts.every((v) => v === 'pass' || v === 'holds-by-construction') ? 0 : 3;
  return { code, result: ordered };
}
