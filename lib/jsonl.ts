/**
 * Reading JSON Lines and JSON array files against a zod schema. Each record is validated on its
 * own; the first bad one stops the load with an `InputError` naming file, line and field. Nothing
 * is silently dropped: only blank lines are skipped, since they carry no record.
 */
import { readFileSync, statSync } from 'node:fs';
import { parseTree, type Node, type ParseError, printParseErrorCode } from 'jsonc-parser';
import type { z } from 'zod';
import { InputError } from './errors.ts';

/** `ads[2].bid` from a zod issue path. */
export function fieldPath(path: readonly PropertyKey[]): string | undefined {
  if (path.length === 0) return undefined;
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out;
}

function firstIssue(error: z.ZodError): { field: string | undefined; message: string } {
  const issue = error.issues[0]!;
  // A strict schema's extra key: name it as the field, so a typo ("titel") reads as one.
  if (issue.code === 'unrecognized_keys') {
    const key = (issue as { keys: string[] }).keys[0]!;
    return { field: fieldPath([...issue.path, key]), message: 'unknown field (a typo? the format has no such field)' };
  }
  return { field: fieldPath(issue.path), message: issue.message };
}

/**
 * The first key that appears twice in one JSON object of `text` (JSON.parse silently keeps the
 * last), or undefined. A linear scan of strings and nesting; `text` is already known to parse.
 */
export function duplicateKey(text: string): string | undefined {
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const top = stack[stack.length - 1];
      if (expectKey && top) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.has(key)) return key;
        top.add(key);
      }
      expectKey = false;
      i = j;
    } else if (c === '{') {
      stack.push(new Set());
      expectKey = true;
    } else if (c === '[') {
      stack.push(null);
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ',') {
      expectKey = stack[stack.length - 1] != null;
    }
  }
  return undefined;
}

/**
 * A text file as editors write it: UTF-8, an optional byte-order mark (dropped), CRLF or LF line
 * ends. Bytes that are not UTF-8 are refused with their line, never turned into U+FFFD.
 */
export function readText(file: string): string {
  let buf: Buffer;
  try {
    checkRegularFile(file);
    buf = readFileSync(file);
  } catch (e) {
    if (e instanceof InputError) throw e;
    const err = e as NodeJS.ErrnoException;
    const why =
      err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a directory, expected a file' : err.code === 'EACCES' ? 'permission denied' : `cannot read (${err.code ?? err.message})`;
    throw new InputError(file, undefined, undefined, why);
  }
  return decodeText(buf, file);
}

/** The largest text file read whole (a catalog of millions of ads fits; /dev/zero does not). */
export const MAX_TEXT_BYTES = 1024 * 1024 * 1024;

/**
 * A file read whole must be a regular file of bounded size: a FIFO would block the read forever
 * and a device such as /dev/zero would fill memory. Throws InputError naming it otherwise.
 */
export function checkRegularFile(file: string): void {
  const st = statSync(file);
  if (st.isDirectory()) throw new InputError(file, undefined, undefined, 'is a directory, expected a file');
  if (!st.isFile()) {
    const what = st.isFIFO() ? 'a FIFO' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : st.isSocket() ? 'a socket' : 'not a regular file';
    throw new InputError(file, undefined, undefined, `${what.startsWith('not') ? what : `is ${what}`}, expected a regular file`);
  }
  if (st.size > MAX_TEXT_BYTES) throw new InputError(file, undefined, undefined, `is ${st.size} bytes, more than the ${MAX_TEXT_BYTES} a text input may hold`);
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Decode UTF-8 strictly (naming the first bad line) and drop a byte-order mark. */
export function decodeText(buf: Buffer, file: string): string {
  let text: string;
  try {
    text = strictUtf8.decode(buf);
  } catch {
    let line = 1;
    let start = 0;
    for (let i = 0; i <= buf.length; i++) {
      if (i === buf.length || buf[i] === 10) {
        try {
          strictUtf8.decode(buf.subarray(start, i));
        } catch {
          break;
        }
        line++;
        start = i + 1;
      }
    }
    throw new InputError(file, line, undefined, 'not valid UTF-8 text (save the file as UTF-8)');
  }
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

export interface JsonlRecord<T> {
  value: T;
  line: number;
}

/** Parse JSON Lines text with a schema. `uniqueBy` names a field whose values must not repeat. */
export function parseJsonl<S extends z.ZodType>(
  text: string,
  file: string,
  schema: S,
  opts: { uniqueBy?: string } = {},
): JsonlRecord<z.infer<S>>[] {
  const out: JsonlRecord<z.infer<S>>[] = [];
  const seen = new Map<unknown, number>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const raw = lines[i]!.replace(/\r$/, '');
    if (raw.trim() === '') continue;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (e) {
      throw new InputError(file, lineNo, undefined, `not valid JSON (${(e as Error).message})`);
    }
    if (json === null || typeof json !== 'object' || Array.isArray(json)) {
      throw new InputError(file, lineNo, undefined, 'each line must be a JSON object');
    }
    const twice = duplicateKey(raw);
    if (twice !== undefined) throw new InputError(file, lineNo, twice, 'appears twice on the line (JSON would keep only the last)');
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const { field, message } = firstIssue(parsed.error);
      throw new InputError(file, lineNo, field, message);
    }
    if (opts.uniqueBy !== undefined) {
      const key = (parsed.data as Record<string, unknown>)[opts.uniqueBy];
      const first = seen.get(key);
      if (first !== undefined) {
        throw new InputError(file, lineNo, opts.uniqueBy, `duplicate ${opts.uniqueBy} ${JSON.stringify(key)} (first on line ${first})`);
      }
      seen.set(key, lineNo);
    }
    out.push({ value: parsed.data, line: lineNo });
  }
  return out;
}

export function readJsonl<S extends z.ZodType>(file: string, schema: S, opts: { uniqueBy?: string } = {}) {
  return parseJsonl(readText(file), file, schema, opts);
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/**
 * A JSON array file validated element by element (the `--ads` file of `parse`). Errors name the
 * line of the offending element, found from the parse tree's offsets.
 */
export function parseJsonArray<S extends z.ZodType>(text: string, file: string, schema: S, opts: { uniqueBy?: string } = {}): z.infer<S>[] {
  const errors: ParseError[] = [];
  let tree: Node | undefined;
  try {
    tree = parseTree(text, errors, { allowTrailingComma: false, disallowComments: true });
  } catch (e) {
    if (e instanceof RangeError) throw new InputError(file, 1, undefined, 'nested too deeply to be read');
    throw e;
  }
  if (errors.length > 0) {
    const e = errors[0]!;
    throw new InputError(file, lineOf(text, e.offset), undefined, `not valid JSON (${printParseErrorCode(e.error)})`);
  }
  if (!tree || tree.type !== 'array') throw new InputError(file, 1, undefined, 'must be a JSON array');
  const json = JSON.parse(text) as unknown[];
  const seen = new Map<unknown, number>();
  return json.map((item, k) => {
    const node = tree.children![k]!;
    const line = lineOf(text, node.offset);
    const parsed = schema.safeParse(item);
    if (!parsed.success) {
      const { message } = firstIssue(parsed.error);
      throw new InputError(file, line, fieldPath([k, ...parsed.error.issues[0]!.path]), message);
    }
    if (opts.uniqueBy !== undefined) {
      const key = (parsed.data as Record<string, unknown>)[opts.uniqueBy];
      const first = seen.get(key);
      if (first !== undefined) throw new InputError(file, line, `[${k}].${opts.uniqueBy}`, `duplicate ${opts.uniqueBy} ${JSON.stringify(key)} (first on line ${first})`);
      seen.set(key, line);
    }
    return parsed.data;
  });
}
