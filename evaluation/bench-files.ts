/** bench's files: bench.json (reports/formats.ts's BenchFile) and each row's episodes, for `report`. */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Episode } from '../simulation/episode.ts';
import type { BenchFile, BenchRow } from '../reports/formats.ts';

/** Writes OUT/bench.json and OUT/bench-episodes/<spec>.jsonl; returns the paths written. */
export function writeBenchFiles(
  out: string,
  run: { seed: number; queries: string; limit?: number },
  rows: BenchRow[],
  episodes?: ReadonlyMap<string, Episode[]>,
): string[] {
  mkdirSync(out, { recursive: true });
  const file: BenchFile = { seed: run.seed, queries: run.queries, limit: run.limit ?? null, rows };
  const written = [join(out, 'bench.json')];
  writeFileSync(written[0]!, `${JSON.stringify(file, null, 2)}\n`);
  for (const [spec, eps] of episodes ?? []) {
    const dir = join(out, 'bench-episodes');
    mkdirSync(dir, { recursive: true });
    const path = episodesPath(out, spec);
    writeFileSync(path, eps.map((e) => JSON.stringify(e)).join('\n') + '\n');
    written.push(path);
  }
  return written;
}

/** OUT/bench-episodes/<spec>.jsonl: where a row's episodes go (the shard merge joins them: ./bench-shard.ts). */
export const episodesPath = (out: string, spec: string) => join(out, 'bench-episodes', `${spec.replace(/[^A-Za-z0-9._-]+/g, '_')}.jsonl`);

/**
 * The same OUT/bench-episodes/<spec>.jsonl files written as the bench goes (table2's onEpisodes):
 * each file is started empty on its row's first query and appended to query by query, so no
 * episode stays in memory.
 */
export function benchEpisodeWriter(out: string): (m: number, spec: string, episodes: readonly Episode[]) => void {
  const started = new Set<string>();
  return (_m, spec, episodes) => {
    const path = episodesPath(out, spec);
    if (!started.has(path)) {
      mkdirSync(join(out, 'bench-episodes'), { recursive: true });
      writeFileSync(path, '');
      started.add(path);
    }
    if (episodes.length > 0) appendFileSync(path, episodes.map((e) => `${JSON.stringify(e)}\n`).join(''));
  };
}
