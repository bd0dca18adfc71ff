/**
 * `verify --out DIR`: each property's verdict (or report) is appended to DIR/verify-progress.jsonl
 * with one synchronous write as the property finishes, so a verify killed at any moment continues
 * with `--resume` from the first unfinished property; the finished ones are not checked again. The
 * first line is the configuration; a resume with another one is refused. When every property is
 * done, DIR/verify.json holds the result (what `--json` gives). The directory is locked while verify
 * writes (one writer per run directory).
 *
 * A property is the unit kept: one killed mid-check is checked again from its start, which gives the
 * same verdict (its draws are seeded) and, through an endpoint, costs little (seeded requests are
 * answered from the response cache).
 */
import { appendFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { InputError, UsageError } from '../lib/errors.ts';
import { lockRunDir } from '../simulation/run-lock.ts';
import { openProgressFile } from './progress-file.ts';

/** A finished property, as kept: its verdict or its report. */
export interface Finished {
  kind: 'verdict' | 'report';
  value: unknown;
}

export class VerifyProgress {
  readonly file: string;
  readonly dir: string;
  private readonly done = new Map<string, Finished>();
  private readonly unlock: () => void;

  private constructor(dir: string, file: string, unlock: () => void) {
    this.dir = dir;
    this.file = file;
    this.unlock = unlock;
  }

  static open(dir: string, config: Record<string, unknown>, resume: boolean, properties: readonly string[]): VerifyProgress {
    const unlock = lockRunDir(dir);
    try {
      if (!resume && existsSync(join(dir, 'verify.json'))) throw new UsageError(`${dir} already holds a verify (verify.json): pass --resume, or choose another --out`);
      const { file, records } = openProgressFile(dir, 'verify-progress.jsonl', 'verify', config, resume);
      const p = new VerifyProgress(dir, file, unlock);
      for (const { rec, line } of records) {
        if (typeof rec.property !== 'string' || !properties.includes(rec.property)) throw new InputError(file, line, 'property', `must be one of this run's properties (${properties.join(', ')})`);
        if (p.done.has(rec.property)) throw new InputError(file, line, 'property', `${rec.property} appears twice`);
        if (rec.kind !== 'verdict' && rec.kind !== 'report') throw new InputError(file, line, 'kind', 'must be "verdict" or "report"');
        if (rec.value === null || typeof rec.value !== 'object') throw new InputError(file, line, 'value', 'must be an object');
        p.done.set(rec.property, { kind: rec.kind, value: rec.value });
      }
      return p;
    } catch (e) {
      unlock();
      throw e;
    }
  }

  /** The property's verdict or report from an earlier run of this verify, if it finished. */
  restored(property: string): Finished | undefined {
    return this.done.get(property);
  }

  save(property: string, finished: Finished): void {
    appendFileSync(this.file, `${JSON.stringify({ property, kind: finished.kind, value: finished.value })}\n`);
    this.done.set(property, finished);
  }

  /** Every property done: the result, whole or not at all, as DIR/verify.json. */
  finish(result: unknown): void {
    writeFileAtomic.sync(join(this.dir, 'verify.json'), `${JSON.stringify(result, null, 2)}\n`);
  }

  close(): void {
    this.unlock();
  }
}
