/**
 * Reading the files of a GEM-Bench data folder (Apache-2.0; see data/NOTICE.md) as they are: its
 * tab-separated product and query tables, quoted the way its export quotes them, and its JSON arrays
 * of chat prompts. No cleaning or mapping happens here, only parsing with errors that name the line.
 */
import { z } from 'zod';
import { InputError } from '../../lib/errors.ts';
import { parseJsonArray, readText } from '../../lib/jsonl.ts';

export const GEM_BENCH_FILES = {
  products: 'ca_prod_products.tsv',
  queries: 'ca_prod_queries.tsv',
  lmPrompts: 'lm_market_prompts.json',
  lmCategories: 'lm_market_categories.json',
  humanPrompts: 'mt_human_prompts.json',
} as const;

export interface TsvRow {
  /** 1-based line of the file the row starts on, for error messages. */
  line: number;
  cells: Record<string, string>;
}

export interface TsvTable {
  file: string;
  columns: string[];
  rows: TsvRow[];
}

/**
 * Split one line on tabs. The GEM-Bench export quotes a field CSV-style when it contains a double
 * quote (`"4"" Lift Kit"`), so a field that starts with `"` is read up to its closing quote (which
 * may shield tabs) and `""` becomes `"`. A quote anywhere else is an ordinary character, and an
 * opening quote that is never closed is kept literally rather than swallowing the rest of the line.
 */
export function splitTsvLine(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let j = i + 1;
      let value = '';
      let closed = false;
      while (j < line.length) {
        const ch = line[j]!;
        if (ch === '"') {
          if (line[j + 1] === '"') {
            value += '"';
            j += 2;
            continue;
          }
          closed = j + 1 === line.length || line[j + 1] === '\t';
          break;
        }
        value += ch;
        j++;
      }
      if (closed) {
        out.push(value);
        if (j + 1 === line.length) return out;
        i = j + 2;
        continue;
      }
    }
    const tab = line.indexOf('\t', i);
    if (tab < 0) {
      out.push(line.slice(i));
      return out;
    }
    out.push(line.slice(i, tab));
    i = tab + 1;
  }
}

/** Parse a TSV text with a header line; `required` columns must be present. Blank lines are skipped. */
export function parseTsv(text: string, file: string, required: readonly string[]): TsvTable {
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  const header = (lines[0] ?? '').replace(/\r$/, '');
  if (header.trim() === '') throw new InputError(file, 1, undefined, 'missing header line');
  const columns = splitTsvLine(header).map((c) => c.trim());
  for (const col of required) {
    if (!columns.includes(col)) throw new InputError(file, 1, col, `missing column (header has: ${columns.join(', ')})`);
  }
  const rows: TsvRow[] = [];
  for (let k = 1; k < lines.length; k++) {
    const raw = lines[k]!.replace(/\r$/, '');
    if (raw.trim() === '') continue;
    const values = splitTsvLine(raw);
    if (values.length !== columns.length) {
      throw new InputError(file, k + 1, undefined, `expected ${columns.length} tab-separated fields, found ${values.length}`);
    }
    const cells: Record<string, string> = {};
    columns.forEach((c, j) => (cells[c] = values[j]!));
    rows.push({ line: k + 1, cells });
  }
  return { file, columns, rows };
}

/** Read a TSV file strictly as UTF-8 (bad bytes are reported by line), a byte-order mark dropped. */
export function readTsv(file: string, required: readonly string[]): TsvTable {
  return parseTsv(readText(file), file, required);
}

/** A JSON array of strings, with the line each element starts on (for errors about one prompt). */
export function readStringArray(file: string): { values: string[]; lines: number[] } {
  const text = readText(file);
  const values = parseJsonArray(text, file, z.string({ error: 'must be a string' }));
  // Line of each element, found by scanning the text the parser has already accepted.
  const lines: number[] = [];
  let line = 1;
  let k = 0;
  let inString = false;
  let depth = 0;
  for (let i = 0; i < text.length && k < values.length; i++) {
    const ch = text[i]!;
    if (ch === '\n') line++;
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '[') depth++;
    else if (ch === ']') depth--;
    else if (ch === '"' && depth === 1) {
      inString = true;
      lines.push(line);
      k++;
    }
  }
  return { values, lines };
}
