/**
 * `bench --shard i/n --out DIR` and its merge (issue #27). A shard benches the i-th of n contiguous
 * blocks of the queries (every rule resolved as in the unsharded run) and keeps, beside bench.json
 * over its block, its per-query outcomes (DIR/bench-progress.jsonl, as every `bench --out` does) and
 * DIR/bench-shard.json: which shard, the rows' identities and costs (./bench-rows.ts RowMeta) and
 * the rows paired against. `mergeBenches` joins shards 1/n … n/n into what the unsharded bench
 * writes: bench.json with its rows computed again over all queries (means, intervals, paired
 * differences and gap closed from the per-query values, not averaged from the shards' rows),
 * bench-progress.jsonl and bench-episodes/, byte for byte where the bench is deterministic.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, UsageError } from '../lib/errors.ts';
import type { BenchRow } from '../reports/formats.ts';
import type { QueryOutcome } from './bench-progress.ts';
import { benchRows, RowOutcomes, type RowMeta } from './bench-rows.ts';
import { episodesPath, writeBenchFiles } from './bench-files.ts';
import { formatShard, parseShard, type Shard } from './shard.ts';

export const SHARD_FILE = 'bench-shard.json';

export interface BenchShardFile {
  shard: string;
  pair_against: string[];
  rows: RowMeta[];
}

/** Written by a shard at its end (so its presence says the shard finished). */
export function writeBenchShard(out: string, shard: string, pairAgainst: readonly string[], rows: readonly RowMeta[]): string {
  const file = join(out, SHARD_FILE);
  const body: BenchShardFile = { shard: formatShard(parseShard(shard)), pair_against: [...pairAgainst], rows: [...rows] };
  writeFileSync(file, `${JSON.stringify(body, null, 2)}\n`);
  return file;
}

interface Part {
  dir: string;
  shard: Shard;
  meta: BenchShardFile;
  /** The progress file's configuration, without its shard. */
  config: Record<string, unknown>;
  /** Its record lines as written (one query each). */
  lines: string[];
  file: string;
}

function readPart(dir: string): Part {
  const metaFile = join(dir, SHARD_FILE);
  if (!existsSync(metaFile)) throw new InputError(metaFile, undefined, undefined, 'missing: not a finished bench --shard directory (resume the shard with --resume)');
  let meta: BenchShardFile;
  try {
    meta = JSON.parse(readFileSync(metaFile, 'utf8')) as BenchShardFile;
  } catch (e) {
    throw new InputError(metaFile, undefined, undefined, `not JSON (${(e as Error).message})`);
  }
  if (typeof meta?.shard !== 'string') throw new InputError(metaFile, undefined, 'shard', 'must be a string i/n');
  if (!Array.isArray(meta.rows) || !Array.isArray(meta.pair_against)) throw new InputError(metaFile, undefined, 'rows', 'must be an array (with pair_against)');
  const shard = parseShard(meta.shard, `${metaFile}: shard`);
  const file = join(dir, 'bench-progress.jsonl');
  if (!existsSync(file)) throw new InputError(file, undefined, undefined, 'missing: the shard\'s per-query outcomes are needed to merge');
  const all = readFileSync(file, 'utf8').split('\n');
  if (all[all.length - 1] !== '') throw new InputError(file, all.length, undefined, 'the last line is cut short: resume the shard with --resume');
  let header: { bench?: Record<string, unknown> };
  try {
    header = JSON.parse(all[0]!) as typeof header;
  } catch {
    throw new InputError(file, 1, undefined, 'not a bench progress file (its first line is not JSON)');
  }
  const { shard: named, ...config } = header.bench ?? {};
  if (named !== meta.shard) throw new InputError(file, 1, 'bench.shard', `is ${JSON.stringify(named ?? null)}, ${metaFile} says ${meta.shard}`);
  return { dir, shard, meta, config, lines: all.slice(1, -1), file };
}

export interface BenchMergeSummary {
  out: string;
  shards: number;
  queries: number;
  rows: BenchRow[];
  files: string[];
}

/**
 * Join the directories of `bench --shard 1/n … n/n` (any order) into `out`. Refused: a shard
 * missing, twice, unfinished, of another configuration or row list, or a block of the wrong size.
 */
export function mergeBenches(from: readonly string[], out: string): BenchMergeSummary {
  if (from.length === 0) throw new UsageError('merge: --from needs at least one bench directory');
  const parts = from.map(readPart).sort((a, b) => a.shard.index - b.shard.index);
  const count = parts[0]!.shard.count;
  const identity = (p: Part) => JSON.stringify([p.config, p.meta.pair_against, p.meta.rows.map(({ endpoint_tokens: _t, ...r }) => r)]);
  parts.forEach((p, k) => {
    if (p.shard.count !== count || p.shard.index !== k + 1) {
      const why = p.shard.count !== count ? `${p.dir} is shard ${formatShard(p.shard)}, not of ${count}` : p.shard.index === k ? `shard ${formatShard(p.shard)} is given twice` : `shard ${k + 1}/${count} is missing`;
      throw new UsageError(`merge: ${why} (--from has ${from.length} directories)`);
    }
    if (identity(p) !== identity(parts[0]!)) throw new InputError(join(p.dir, SHARD_FILE), undefined, undefined, `configuration or rows differ from ${parts[0]!.dir}: not shards of one bench`);
  });
  if (parts.length !== count) throw new UsageError(`merge: shard ${parts.length + 1}/${count} is missing (--from has ${from.length} directories)`);
  // Each block must be the size the split gives it, and no query may come twice.
  const total = parts.reduce((s, p) => s + p.lines.length, 0);
  const seen = new Set<string>();
  const meta = parts[0]!.meta.rows;
  const perQuery = meta.map(() => new RowOutcomes());
  for (const p of parts) {
    const want = Math.floor((p.shard.index * total) / count) - Math.floor(((p.shard.index - 1) * total) / count);
    if (p.lines.length !== want) throw new InputError(p.file, undefined, undefined, `holds ${p.lines.length} queries; shard ${formatShard(p.shard)} of ${total} has ${want}: unfinished, or not shards of one bench`);
    p.lines.forEach((line, k) => {
      let rec: { query_id?: unknown; outcomes?: QueryOutcome[] };
      try {
        rec = JSON.parse(line) as typeof rec;
      } catch (e) {
        throw new InputError(p.file, k + 2, undefined, `not JSON (${(e as Error).message})`);
      }
      if (typeof rec.query_id !== 'string' || !Array.isArray(rec.outcomes) || rec.outcomes.length !== meta.length) throw new InputError(p.file, k + 2, 'outcomes', `expected a query_id and ${meta.length} outcomes`);
      if (seen.has(rec.query_id)) throw new InputError(p.file, k + 2, 'query_id', `${JSON.stringify(rec.query_id)} is in two shards`);
      seen.add(rec.query_id);
      rec.outcomes.forEach((o, m) => perQuery[m]!.add(o));
    });
  }
  const summed = meta.map((r, m) => {
    const t = parts.map((p) => p.meta.rows[m]!.endpoint_tokens);
    return { ...r, endpoint_tokens: t.every((x) => x === null) ? null : t.reduce<number>((s, x) => s + (x ?? 0), 0) };
  });
  const rows = benchRows(summed, perQuery, new Set(parts[0]!.meta.pair_against));

  mkdirSync(out, { recursive: true });
  if (existsSync(join(out, 'bench.json')) || existsSync(join(out, 'bench-progress.jsonl'))) throw new UsageError(`${out} already holds a bench: choose another --out`);
  const progress = join(out, 'bench-progress.jsonl');
  writeFileSync(progress, [JSON.stringify({ bench: parts[0]!.config }), ...parts.flatMap((p) => p.lines), ''].join('\n'));
  const cfg = parts[0]!.config as { seed: number; queries: string; limit: number | null };
  const files = writeBenchFiles(out, { seed: cfg.seed, queries: cfg.queries, ...(cfg.limit === null ? {} : { limit: cfg.limit }) }, rows);
  // Each row's episodes: the shards' files joined in shard order (a shard with no query has none).
  for (const r of meta) {
    const chunks = parts.map((p) => episodesPath(p.dir, r.mechanism)).filter((f) => existsSync(f)).map((f) => readFileSync(f));
    if (chunks.length === 0) continue;
    const target = episodesPath(out, r.mechanism);
    mkdirSync(join(out, 'bench-episodes'), { recursive: true });
    writeFileSync(target, Buffer.concat(chunks));
    files.push(target);
  }
  return { out, shards: count, queries: total, rows, files: [progress, ...files] };
}

/** Whether `dir` is a `bench --shard` directory (the merge's choice between bench and simulate). */
export const isBenchShard = (dir: string): boolean => existsSync(join(dir, SHARD_FILE));
