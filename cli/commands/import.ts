/** `llm-auction import --format gem-bench --from DIR --out DIR`: convert external data to the suite's files. */
import { existsSync, statSync } from 'node:fs';
import { relative } from 'node:path';
import { InputError, UsageError } from '../../lib/errors.ts';
import { importGemBench } from '../../data/gem-bench/import.ts';
import { writeJsonResult } from '../output.ts';

export interface ImportOptions {
  format: string;
  from: string;
  out: string;
  /** Seeds the synthetic profiles given to the imported queries. */
  seed?: number;
  json?: string;
}

export const IMPORT_FORMATS = ['gem-bench'] as const;

function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' ? '.' : rel.startsWith('..') ? path : rel;
}

/** Returns the exit code; bad usage throws UsageError, bad input InputError (both exit 2 in the CLI). */
export async function runImport(opts: ImportOptions): Promise<number> {
  if (!(IMPORT_FORMATS as readonly string[]).includes(opts.format)) {
    throw new UsageError(`unknown import format ${JSON.stringify(opts.format)} (known: ${IMPORT_FORMATS.join(', ')})`);
  }
  if (!existsSync(opts.from)) throw new InputError(opts.from, undefined, undefined, 'no such folder');
  if (!statSync(opts.from).isDirectory()) throw new InputError(opts.from, undefined, undefined, 'not a folder');
  if (existsSync(opts.out) && !statSync(opts.out).isDirectory()) throw new InputError(opts.out, undefined, undefined, 'exists and is not a folder');
  const summary = importGemBench(opts.from, opts.out, { seed: opts.seed ?? 0 });
  const result = { format: opts.format, seed: opts.seed ?? 0, ...summary };
  if (opts.json === '-') {
    writeJsonResult('-', result);
    return 0;
  }
  const lines = [
    `imported ${opts.format} from ${shown(summary.from)}: ${summary.ads} ads in ${summary.categories} categories, ${summary.queries} queries (split "test"), ${summary.profiles} synthetic profiles`,
    ...summary.sources.map((s) => `  ${String(s.queries).padStart(5)} queries from ${shown(s.file)}`),
    `wrote ${summary.files.map(shown).join(', ')}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  writeJsonResult(opts.json, result);
  return 0;
}
