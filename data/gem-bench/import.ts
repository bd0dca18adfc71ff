/**
 * The `import` command's conversion: a whole GEM-Bench folder written out as the contract's JSON
 * Lines files. Everything here is deterministic in its inputs and the seed.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../lib/errors.ts';
import { productToAd, readGemBenchProducts } from './products.ts';
import { loadGemBenchPrompts, readGemBenchQueries, type PromptSet } from './prompts.ts';
import { GEM_BENCH_FILES } from './source.ts';

export interface ImportSummary {
  from: string;
  out: string;
  ads: number;
  categories: number;
  queries: number;
  profiles: number;
  sources: { file: string; queries: number }[];
  files: string[];
}

function writeJsonl(file: string, records: readonly object[]): void {
  writeFileSync(file, records.map((r) => JSON.stringify(r)).join('\n') + (records.length > 0 ? '\n' : ''));
}

/**
 * Convert a GEM-Bench folder to the contract's files in `outDir`: `catalog.jsonl` (every product,
 * id `Ad-<product_id>`), `queries.jsonl` (the search queries, then the lm_market and mt_human
 * prompts when the folder has them; all split "test") and `profiles.jsonl` (one synthetic profile per
 * query, since the source has none). Products and queries files are required.
 */
export function importGemBench(fromDir: string, outDir: string, opts: { seed?: number } = {}): ImportSummary {
  const seed = opts.seed ?? 0;
  if (!existsSync(fromDir)) throw new InputError(fromDir, undefined, undefined, 'no such folder');
  const productsFile = join(fromDir, GEM_BENCH_FILES.products);
  const queriesFile = join(fromDir, GEM_BENCH_FILES.queries);
  const catalog = readGemBenchProducts(productsFile).map((p) => productToAd(p));
  const sets: { file: string; set: PromptSet }[] = [{ file: queriesFile, set: readGemBenchQueries(queriesFile, seed) }];
  const promptFiles = [GEM_BENCH_FILES.lmPrompts, GEM_BENCH_FILES.lmCategories, GEM_BENCH_FILES.humanPrompts];
  if (promptFiles.some((f) => existsSync(join(fromDir, f)))) {
    // Once any prompt file is there, all three must be: a half-present set is a broken folder.
    const prompts = loadGemBenchPrompts(fromDir, { seed });
    const lmCount = prompts.queries.filter((q) => q.id.startsWith('Q-LM-')).length;
    sets.push({ file: join(fromDir, GEM_BENCH_FILES.lmPrompts), set: { profiles: prompts.profiles.slice(0, lmCount), queries: prompts.queries.slice(0, lmCount) } });
    sets.push({ file: join(fromDir, GEM_BENCH_FILES.humanPrompts), set: { profiles: prompts.profiles.slice(lmCount), queries: prompts.queries.slice(lmCount) } });
  }
  const profiles = sets.flatMap((s) => s.set.profiles);
  const queries = sets.flatMap((s) => s.set.queries);
  mkdirSync(outDir, { recursive: true });
  const files = ['catalog.jsonl', 'queries.jsonl', 'profiles.jsonl'].map((f) => join(outDir, f));
  writeJsonl(files[0]!, catalog);
  writeJsonl(files[1]!, queries);
  writeJsonl(files[2]!, profiles);
  return {
    from: fromDir,
    out: outDir,
    ads: catalog.length,
    categories: new Set(catalog.map((a) => a.category)).size,
    queries: queries.length,
    profiles: profiles.length,
    sources: sets.map((s) => ({ file: s.file, queries: s.set.queries.length })),
    files,
  };
}
