/**
 * Running many episodes into a run directory: `episodes.jsonl` (appended as episodes finish, in
 * query order) and `manifest.json` (config, seed, versions, progress).
 *
 * Crash safety: each query's episodes are appended with one synchronous write, and every episode
 * is a pure function of (seed, query id, sample). `--resume` drops a torn last line, skips the
 * (query, sample) pairs already on disk and recomputes the rest, so a run killed at any moment
 * and resumed ends byte for byte identical to one that never stopped.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../mechanism/errors.ts';
import type { AuctionInput } from '../mechanism/types.ts';
import { runAuction, type Episode, type EpisodeContext } from './episode.ts';

export interface RunManifest {
  kind: string;
  config: Record<string, unknown>;
  seed: number;
  versions: Record<string, string>;
  status?: 'running' | 'complete';
  episodes?: number;
}

export interface RunItem {
  queryId: string;
  input: AuctionInput;
}

/** Read the episodes already on disk; a torn final line (a crash mid-write) is cut off. */
export function readDoneEpisodes(file: string): Set<string> {
  const done = new Set<string>();
  if (!existsSync(file)) return done;
  const text = readFileSync(file, 'utf8');
  let good = 0;
  let pos = 0;
  while (pos < text.length) {
    const nl = text.indexOf('\n', pos);
    if (nl < 0) break; // no newline: the last write was cut short
    const line = text.slice(pos, nl);
    let ep: Pick<Episode, 'query_id' | 'sample'>;
    try {
      ep = JSON.parse(line) as Episode;
    } catch {
      break;
    }
    const key = `${ep.query_id}#${ep.sample}`;
    if (done.has(key)) throw new UsageError(`${file}: episode ${key} appears twice; the run directory is corrupt`);
    done.add(key);
    pos = nl + 1;
    good = pos;
  }
  if (good < Buffer.byteLength(text)) {
    const rest = text.slice(good);
    if (rest.indexOf('\n') >= 0 && rest.indexOf('\n') < rest.length - 1) {
      throw new UsageError(`${file}: a damaged line sits before the end of the file; refusing to resume over it`);
    }
    truncateSync(file, Buffer.byteLength(text.slice(0, good)));
  }
  return done;
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
}

function sameConfig(a: RunManifest, b: RunManifest): string | undefined {
  const pick = (m: RunManifest) => JSON.stringify({ kind: m.kind, config: m.config, seed: m.seed });
  if (pick(a) !== pick(b)) return 'its manifest has a different configuration';
  return undefined;
}

export async function runSimulation(opts: SimulationOptions): Promise<{ written: number; skipped: number; total: number }> {
  const { out, items, episode } = opts;
  mkdirSync(out, { recursive: true });
  const manifestPath = join(out, 'manifest.json');
  const episodesPath = join(out, 'episodes.jsonl');
  let done = new Set<string>();
  if (existsSync(manifestPath) || existsSync(episodesPath)) {
    if (!opts.resume) throw new UsageError(`${out} already holds a run: pass --resume to continue it, or choose another --out`);
    if (existsSync(manifestPath)) {
      const old = JSON.parse(readFileSync(manifestPath, 'utf8')) as RunManifest;
      const why = sameConfig(old, opts.manifest);
      if (why) throw new UsageError(`${manifestPath}: cannot resume: ${why}`);
    }
    done = readDoneEpisodes(episodesPath);
  }
  // No timestamps: the same seed and config give the same directory, byte for byte.
  const manifest: RunManifest = { ...opts.manifest, status: 'running' };
  writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);

  const total = items.length * episode.samples;
  let progress = done.size;
  let written = 0;
  opts.onProgress?.(progress, total);
  const todo = items.filter((it) => {
    for (let m = 0; m < episode.samples; m++) if (!done.has(`${it.queryId}#${m}`)) return true;
    return false;
  });
  const concurrency = Math.max(1, opts.concurrency ?? 1);
  const pending: Promise<Episode[]>[] = [];
  let next = 0;
  const launch = () => {
    const it = todo[next++]!;
    pending.push(runAuction({ ...episode, queryId: it.queryId, input: it.input }));
  };
  while (next < todo.length && pending.length < concurrency) launch();
  while (pending.length > 0) {
    const eps = await pending.shift()!;
    if (next < todo.length) launch();
    const fresh = eps.filter((e) => !done.has(`${e.query_id}#${e.sample}`));
    if (fresh.length > 0) appendFileSync(episodesPath, fresh.map((e) => `${JSON.stringify(e)}\n`).join(''));
    written += fresh.length;
    progress += fresh.length;
    opts.onProgress?.(progress, total);
  }
  manifest.status = 'complete';
  manifest.episodes = total;
  writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  return { written, skipped: total - written, total };
}
