/**
 * The on-disk response cache of the chat client: a seeded request is deterministic, so its
 * response is stored under a hash of the whole request body and a re-run reads it back. Files are
 * written whole (temporary file, then rename), and anything unreadable counts as a miss.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** JSON with object keys sorted, so equal requests hash equally whatever order fields were set in. */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function requestHash(body: unknown): string {
  return createHash('sha256').update(stableStringify(body)).digest('hex');
}

export interface CacheEntry {
  hash: string;
  texts: string[];
  finishReasons: (string | null)[];
  usage: { promptTokens: number; completionTokens: number };
  created: string;
  request: unknown;
}

export async function readCache(file: string, hash: string): Promise<CacheEntry | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const e = JSON.parse(text) as Partial<CacheEntry>;
    // A truncated or foreign file is a miss, never an answer.
    if (e.hash !== hash || !Array.isArray(e.texts) || !e.texts.every((t) => typeof t === 'string') || e.texts.length === 0) return undefined;
    return {
      hash,
      texts: e.texts,
      finishReasons: Array.isArray(e.finishReasons) ? e.finishReasons : e.texts.map(() => null),
      usage: { promptTokens: e.usage?.promptTokens ?? 0, completionTokens: e.usage?.completionTokens ?? 0 },
      created: e.created ?? '',
      request: e.request,
    };
  } catch {
    return undefined;
  }
}

export async function writeCache(file: string, entry: CacheEntry): Promise<void> {
  // Write then rename, so a reader (or a crash) never sees half a file.
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, JSON.stringify(entry));
  await rename(tmp, file);
}
