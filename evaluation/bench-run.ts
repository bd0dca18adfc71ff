/**
 * `bench`'s whole run, as the command and the library call it: the rows to pair against checked
 * among the benched ones, Table 2 computed (./table2.ts), and with `out` the progress kept there
 * query by query (resumable), the episodes streamed to OUT/bench-episodes/ and bench.json written.
 */
import { UsageError } from '../lib/errors.ts';
import { formatSpec, parseSpecList } from './kinds/index.ts';
import { benchEpisodeWriter, writeBenchFiles } from './bench-files.ts';
import { writeBenchShard } from './bench-shard.ts';
import { parseShard } from './shard.ts';
import { benchMechanisms, type BenchOptions, type BenchRow } from './table2.ts';
import type { Episode } from '../simulation/episode.ts';

export interface BenchRunHooks {
  onProgress?: (label: string, done: number, total: number) => void;
  /** Stops the run at its next progress report (with `out`, what finished is kept: resume continues). */
  signal?: AbortSignal;
  /** false: the caller wants the rows only, so no episode is kept in memory without `out` either (the CLI). */
  keepEpisodes?: boolean;
}

/** The rows, the episodes kept in memory (none with `out`: they are on disk) and the files written. */
export async function benchRun(opts: BenchOptions, hooks: BenchRunHooks = {}): Promise<{ rows: BenchRow[]; episodes: Map<string, Episode[]>; files: string[] }> {
  const { signal } = hooks;
  signal?.throwIfAborted();
  let pairAgainst = opts.pairAgainst;
  if (opts.pairedWith !== undefined) {
    const rows = new Set(parseSpecList(opts.mechanism).map(formatSpec));
    const against = parseSpecList(opts.pairedWith).map(formatSpec);
    const missing = against.filter((s) => !rows.has(s));
    if (missing.length > 0) throw new UsageError(`--paired-with ${missing.join(', ')}: not among the -m rows (${[...rows].join(', ')})`);
    pairAgainst = [...(pairAgainst ?? []), ...against];
  }
  const { out } = opts;
  // A shard's merge reads its directory (per-query outcomes and bench-shard.json): --out is needed.
  if (opts.shard !== undefined && !out) throw new UsageError('--shard needs --out DIR: `merge` joins the shards\' directories');
  if (opts.shard !== undefined) parseShard(opts.shard); // a bad i/n before any work
  // With --out, each finished query is on disk (progress and episodes); none is kept in memory.
  const { rows, episodes, meta } = await benchMechanisms(
    { ...opts, ...(pairAgainst ? { pairAgainst } : {}), ...(out ? { progressDir: out, onEpisodes: benchEpisodeWriter(out) } : hooks.keepEpisodes === false ? { onEpisodes: () => {} } : {}) },
    (label, done, total) => {
      signal?.throwIfAborted();
      hooks.onProgress?.(label, done, total);
    },
  );
  const files = out ? writeBenchFiles(out, opts, rows) : [];
  if (out && opts.shard !== undefined) files.push(writeBenchShard(out, opts.shard, (pairAgainst ?? []).map((x) => formatSpec(parseSpecList(x)[0]!)), meta));
  return { rows, episodes, files };
}
