/**
 * `bench --out DIR`: each query's outcomes (every mechanism's revenue, reward, ads, errors and
 * episode) are appended to DIR/bench-progress.jsonl with one synchronous write as the query
 * finishes, so a bench killed at any moment continues with `--resume` where it stopped, nothing
 * lost or repeated. The first line is the configuration; a resume with another one is refused.
 * The directory is locked while the bench writes (one writer per run directory).
 */
import { appendFileSync, existsSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, UsageError } from '../lib/errors.ts';
import { checkRegularFile } from '../lib/jsonl.ts';
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
    const file = join(dir, 'bench-progress.jsonl');
    const p = new BenchProgress(file, unlock);
    const header = JSON.stringify({ bench: config });
    try {
      if (!existsSync(file)) {
        writeFileSync(file, `${header}\n`);
        return p;
      }
      if (!resume) throw new UsageError(`${dir} already holds a bench (${file}): pass --resume to continue it, or choose another --out`);
      checkRegularFile(file);
      const text = readFileSync(file, 'utf8');
      const lines = text.split('\n');
      if (lines[0] !== header) throw new UsageError(`${file}: cannot resume: it was written with a different configuration`);
      let good = Buffer.byteLength(`${lines[0]}\n`);
      for (let i = 1; i < lines.length; i++) {
        const last = i === lines.length - 1 || (i === lines.length - 2 && lines[lines.length - 1] === '');
        if (i === lines.length - 1) break; // no newline after it: a torn write, redone
        let rec: { query_id?: unknown; outcomes?: unknown };
        try {
          rec = JSON.parse(lines[i]!) as typeof rec;
        } catch (e) {
          if (last) break; // the last line torn mid-write
          throw new InputError(file, i + 1, undefined, `not valid JSON (${(e as Error).message}); refusing to resume over a damaged line`);
        }
        if (typeof rec.query_id !== 'string') throw new InputError(file, i + 1, 'query_id', 'must be a string');
        if (!Array.isArray(rec.outcomes)) throw new InputError(file, i + 1, 'outcomes', 'must be an array');
        p.restored.push({ queryId: rec.query_id, outcomes: rec.outcomes as QueryOutcome[], line: i + 1 });
        good += Buffer.byteLength(`${lines[i]}\n`);
      }
      if (good < Buffer.byteLength(text)) truncateSync(file, good);
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
