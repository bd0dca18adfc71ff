/** Shared output helpers: `--json FILE` (or `-` for stdout) and plain-text tables. */
import { accessSync, constants, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { InputError } from '../lib/errors.ts';
import { makeDirs } from '../lib/fs.ts';

/** While `--json -` is in force: the real stdout, which only the JSON result may use. */
let jsonStdout: ((text: string) => void) | undefined;

/**
 * `--json -`: stdout carries the JSON result and nothing else. Until the returned function is
 * called, everything else written to stdout (tables, summaries, help) goes to stderr.
 */
export function reserveStdoutForJson(): () => void {
  const original = process.stdout.write;
  const real = original.bind(process.stdout);
  jsonStdout = (text) => void real(text);
  process.stdout.write = ((chunk: unknown, ...rest: unknown[]) =>
    (process.stderr.write as (...a: unknown[]) => boolean)(chunk, ...rest)) as typeof process.stdout.write;
  return () => {
    process.stdout.write = original;
    jsonStdout = undefined;
  };
}

/** Check a `--json FILE` target before the work starts, so a long run never fails at its end. */
export function checkJsonTarget(target: string | undefined): void {
  if (target === undefined || target === '-') return;
  if (target.trim() === '') throw new InputError('--json', undefined, undefined, 'expected a file name, or - for stdout');
  makeDirs(dirname(target), '--json');
  let isDir = false;
  try {
    isDir = statSync(target).isDirectory();
  } catch {
    // does not exist yet: fine
  }
  if (isDir) throw new InputError(target, undefined, undefined, '--json: is a directory; expected a file name');
  try {
    accessSync(dirname(target), constants.W_OK);
  } catch {
    throw new InputError(target, undefined, undefined, '--json: the directory is not writable');
  }
}

export function writeJsonResult(target: string | undefined, value: unknown): void {
  if (target === undefined) return;
  const text = `${JSON.stringify(value, null, 2)}\n`;
  if (target === '-') {
    (jsonStdout ?? ((t: string) => void process.stdout.write(t)))(text);
    return;
  }
  checkJsonTarget(target);
  try {
    writeFileSync(target, text);
  } catch (e) {
    throw new InputError(target, undefined, undefined, `--json: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** A left-aligned text table; numbers right-aligned. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c)))];
  const widths = header.map((_, j) => Math.max(...cells.map((r) => String(r[j] ?? '').length)));
  const line = (r: (string | number)[], numeric: boolean[]) =>
    r.map((c, j) => (numeric[j] ? String(c).padStart(widths[j]!) : String(c).padEnd(widths[j]!))).join('  ').trimEnd();
  const numeric = header.map((_, j) => rows.length > 0 && rows.every((r) => typeof r[j] === 'number'));
  return [line(header, numeric), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map((r) => line(r, numeric))].join('\n');
}

export function fmt(x: number, digits = 2): string {
  if (!Number.isFinite(x)) return String(x);
  return Number.isInteger(x) ? String(x) : x.toFixed(digits);
}
