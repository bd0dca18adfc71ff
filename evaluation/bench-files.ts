/** bench's files: bench.json (reports/formats.ts's BenchFile) and each row's episodes, for `report`. */
import { mkdirSync, writeFileSync } from 'node:fs';
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
    const path = join(dir, `${spec.replace(/[^A-Za-z0-9._-]+/g, '_')}.jsonl`);
    writeFileSync(path, eps.map((e) => JSON.stringify(e)).join('\n') + '\n');
    written.push(path);
  }
  return written;
}
