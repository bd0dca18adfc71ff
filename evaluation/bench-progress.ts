/**
 * `bench --out DIR`: each query's outcomes (every mechanism's revenue, reward, ads, errors and
 * episode) are appended to DIR/bench-progress.jsonl with one synchronous write as the query
 * finishes, so a bench killed at any moment continues with `--resume` where it stopped, nothing
 * lost or repeated. The first line is the configuration; a resume with another one is refused.
 * The directory is locked while the bench writes (one writer per run directory).
 */
import { appendFileSync, existsSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../lib/errors.ts';
import { openProgressFile } from './progress-file.ts';
import type { Episode } from '../simulation/episode.ts';
import { lockRunDir } from '../simulation/run-lock.ts';

export interface QueryOutcome {
  revenue: number;
  reward: number;
  ads: number;
  errors: number;
  episodes: Episode[];
}

export class BenchProgress {
  readonly file: string;
  /** Outcomes already on disk, query by query (each: one per mechanism, in -m order). */
  readonly restored: { queryId: string; outcomes: QueryOutcome[]; line: number }[] = [];
  private readonly unlock: () => void;

  private constructor(file: string, unlock: () => void) {
    this.file = file;
    this.unlock = unlock;
  }

  static open(dir: string, config: Record<string, unknown>, resume: boolean): BenchProgress {
    const unlock = lockRunDir(dir);
    try {
      const { file, records } = openProgressFile(dir, 'bench-progress.jsonl', 'bench', config, resume);
      const p = new BenchProgress(file, unlock);
      for (const { rec, line } of records) {
        if (typeof rec.query_id !== 'string') throw new InputError(file, line, 'query_id', 'must be a string');
        if (!Array.isArray(rec.outcomes)) throw new InputError(file, line, 'outcomes', 'must be an array');
        p.restored.push({ queryId: rec.query_id, outcomes: rec.outcomes as QueryOutcome[], line });
      }
      return p;
    } catch (e) {
      unlock();
      throw e;
    }
  }

  /** Check the restored records against the queries and mechanisms of this run. */
  check(queryIds: readonly string[], mechanisms: number): void {
    this.restored.forEach((r, k) => {
      if (r.queryId !== queryIds[k]) throw new InputError(this.file, r.line, 'query_id', `expected ${JSON.stringify(queryIds[k] ?? null)} at this position, found ${JSON.stringify(r.queryId)}`);
      if (r.outcomes.length !== mechanisms) throw new InputError(this.file, r.line, 'outcomes', `expected ${mechanisms} outcomes (one per mechanism), found ${r.outcomes.length}`);
    });
  }

  append(queryId: string, outcomes: QueryOutcome[]): void {
    appendFileSync(this.file, `${JSON.stringify({ query_id: queryId, outcomes })}\n`);
  }

  release(): void {
    this.unlock();
  }
}
