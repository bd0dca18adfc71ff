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
import { appendFileSync, existsSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { InputError, UsageError } from '../lib/errors.ts';
import { checkRegularFile } from '../lib/jsonl.ts';
import { lockRunDir } from '../simulation/run-lock.ts';

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

  private constructor(dir: string, unlock: () => void) {
    this.dir = dir;
    this.file = join(dir, 'verify-progress.jsonl');
    this.unlock = unlock;
  }

  static open(dir: string, config: Record<string, unknown>, resume: boolean, properties: readonly string[]): VerifyProgress {
    const unlock = lockRunDir(dir);
    const p = new VerifyProgress(dir, unlock);
    const file = p.file;
    const header = JSON.stringify({ verify: config });
    try {
      if (!existsSync(file)) {
        if (existsSync(join(dir, 'verify.json')) && !resume) throw new UsageError(`${dir} already holds a verify (verify.json): pass --resume, or choose another --out`);
        writeFileSync(file, `${header}\n`);
        return p;
      }
      if (!resume) throw new UsageError(`${dir} already holds a verify (${file}): pass --resume to continue it, or choose another --out`);
      checkRegularFile(file);
      const text = readFileSync(file, 'utf8');
      const lines = text.split('\n');
      if (lines[0] !== header) throw new UsageError(`${file}: cannot resume: it was written with a different configuration`);
      let good = Buffer.byteLength(`${lines[0]}\n`);
      for (let i = 1; i < lines.length - 1; i++) {
        let rec: { property?: unknown; kind?: unknown; value?: unknown };
        try {
          rec = JSON.parse(lines[i]!) as typeof rec;
        } catch (e) {
          if (i === lines.length - 2 && lines[lines.length - 1] === '') break; // the last line torn mid-write
          throw new InputError(file, i + 1, undefined, `not valid JSON (${(e as Error).message}); refusing to resume over a damaged line`);
        }
        if (typeof rec.property !== 'string' || !properties.includes(rec.property)) throw new InputError(file, i + 1, 'property', `must be one of this run's properties (${properties.join(', ')})`);
        if (p.done.has(rec.property)) throw new InputError(file, i + 1, 'property', `${rec.property} appears twice`);
        if (rec.kind !== 'verdict' && rec.kind !== 'report') throw new InputError(file, i + 1, 'kind', 'must be "verdict" or "report"');
        if (rec.value === null || typeof rec.value !== 'object') throw new InputError(file, i + 1, 'value', 'must be an object');
        p.done.set(rec.property, { kind: rec.kind, value: rec.value });
        good += Buffer.byteLength(`${lines[i]}\n`);
      }
      // Whatever follows the last whole line (a write cut short) is dropped and redone.
      if (good < Buffer.byteLength(text)) truncateSync(file, good);
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
