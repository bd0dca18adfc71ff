/**
 * The resumable progress file of `bench --out` and `verify --out`: its first line is the run's
 * configuration, then one JSON object a line, each appended with one synchronous write as a piece
 * of work finishes. Opening it starts a fresh file, or (with --resume) reads back the records
 * already there: a configuration that differs is refused, a damaged line before the end is
 * refused with its line, and a last line cut short by a kill is dropped (its work is redone).
 */
import { existsSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, UsageError } from '../lib/errors.ts';
import { checkRegularFile } from '../lib/jsonl.ts';

export interface ProgressRecord {
  rec: Record<string, unknown>;
  /** Its line in the file (the configuration is line 1). */
  line: number;
}

/**
 * DIR/NAME for a run of `what` (bench, verify) with `config`: created with its configuration line,
 * or read back when `resume` is set. The caller holds the directory's lock and checks each record.
 */
export function openProgressFile(dir: string, name: string, what: string, config: Record<string, unknown>, resume: boolean): { file: string; records: ProgressRecord[] } {
  const file = join(dir, name);
  const header = JSON.stringify({ [what]: config });
  if (!existsSync(file)) {
    writeFileSync(file, `${header}\n`);
    return { file, records: [] };
  }
  if (!resume) throw new UsageError(`${dir} already holds a ${what} (${file}): pass --resume to continue it, or choose another --out`);
  checkRegularFile(file);
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n');
  if (lines[0] !== header) throw new UsageError(`${file}: cannot resume: it was written with a different configuration`);
  const records: ProgressRecord[] = [];
  let good = Buffer.byteLength(`${lines[0]}\n`);
  // The last element follows the last newline: empty, or a write cut short (dropped, redone).
  for (let i = 1; i < lines.length - 1; i++) {
    let rec: unknown;
    try {
      rec = JSON.parse(lines[i]!);
    } catch (e) {
      if (i === lines.length - 2 && lines[lines.length - 1] === '') break; // the last line torn mid-write
      throw new InputError(file, i + 1, undefined, `not valid JSON (${(e as Error).message}); refusing to resume over a damaged line`);
    }
    if (rec === null || typeof rec !== 'object' || Array.isArray(rec)) throw new InputError(file, i + 1, undefined, 'each line must be a JSON object');
    records.push({ rec: rec as Record<string, unknown>, line: i + 1 });
    good += Buffer.byteLength(`${lines[i]}\n`);
  }
  if (good < Buffer.byteLength(text)) truncateSync(file, good);
  return { file, records };
}
