import { describe, it, expect, vi, afterEach } from 'vitest';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runImport } from '../cli/commands/import.ts';
import { buildCatalog } from '../data/build-catalog.ts';
import { InputError, UsageError } from '../lib/errors.ts';
import { loadCatalog, loadProfiles, loadQueries } from '../mechanism/loaders.ts';
import { AD_ID_PATTERN } from '../mechanism/schemas.ts';
import { categorize } from '../data/gem-bench/categories.ts';
import { cleanTitle, decodeQueryText, summarizeDescription } from '../data/gem-bench/clean.ts';
import { importGemBench } from '../data/gem-bench/import.ts';
import { readGemBenchProducts } from '../data/gem-bench/products.ts';
import { loadGemBenchPrompts } from '../data/gem-bench/prompts.ts';
import { parseTsv, splitTsvLine } from '../data/gem-bench/source.ts';
import { EMBEDDED_CATALOG_PATH } from '../simulation/world.ts';

/** The GEM-Bench folder shipped next to the repository (../shared/data/gem-bench from its root). */
const GEM_BENCH = fileURLToPath(new URL('../../shared/data/gem-bench', import.meta.url));
const HAVE_GEM_BENCH = existsSync(join(GEM_BENCH, 'ca_prod_products.tsv'));
const needsData = HAVE_GEM_BENCH ? '' : ` [skipped: no GEM-Bench data at ${GEM_BENCH}]`;
if (!HAVE_GEM_BENCH) console.warn(`import.test.ts: ${GEM_BENCH} is missing; tests on the real GEM-Bench data are skipped.`);

const temps: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'llm-auction-import-'));
  temps.push(dir);
  return dir;
}

afterEach(() => {
  vi.restoreAllMocks();
  while (temps.length > 0) rmSync(temps.pop()!, { recursive: true, force: true });
});

function catchError(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
}

async function catchAsync(f: () => Promise<unknown>): Promise<unknown> {
  try {
    await f();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
}

const HEADER = 'product_id\tad_title\tad_description\twebsite\tsource\tbrand\tcluster_category';

function writeFolder(products: string, queries = 'query_id\tquery_text\n1\trunning shoes\n'): string {
  const dir = tempDir();
  writeFileSync(join(dir, 'ca_prod_products.tsv'), products);
  writeFileSync(join(dir, 'ca_prod_queries.tsv'), queries);
  return dir;
}

describe('TSV parsing', () => {
  it('reads CSV-style quoted fields, including quotes and tabs inside them', () => {
    expect(splitTsvLine('1\t"Dodge Ram 4"" Lift Kit"\tx')).toEqual(['1', 'Dodge Ram 4" Lift Kit', 'x']);
    expect(splitTsvLine('1\t"a\tb"\tc')).toEqual(['1', 'a\tb', 'c']);
    expect(splitTsvLine('1\t12" wide shelf\t"')).toEqual(['1', '12" wide shelf', '"']);
    expect(splitTsvLine('1\t\t')).toEqual(['1', '', '']);
  });

  it('names file, line and field for a missing column or a short row', () => {
    const e1 = catchError(() => parseTsv('product_id\ttitle\n1\tx\n', 'p.tsv', ['product_id', 'ad_title'])) as InputError;
    expect(e1).toBeInstanceOf(InputError);
    expect([e1.file, e1.line, e1.field]).toEqual(['p.tsv', 1, 'ad_title']);
    const e2 = catchError(() => parseTsv('a\tb\n1\t2\n3\n', 'q.tsv', ['a'])) as InputError;
    expect([e2.file, e2.line]).toEqual(['q.tsv', 3]);
    expect(e2.message).toMatch(/^q\.tsv:3: /);
  });
});

describe('cleaning', () => {
  it('keeps the informative part of a listing title', () => {
    expect(cleanTitle('Nike Shoes | Nike Air Force 1 Low | Color: Blue/Red | Size: 10.5')).toBe('Nike Air Force 1 Low');
    expect(cleanTitle("Steve Madden Women's Irenee Two-Piece Block-Heel Sandals - Tan Nubuck")).toBe("Steve Madden Women's Irenee Two-Piece Block-Heel Sandals - Tan Nubuck");
    expect(cleanTitle('Betsey Johnson Ann Flats - Black 8.5M')).toBe('Betsey Johnson Ann Flats');
    expect(cleanTitle('Nike Legacy91 Tech Golf Hat Blue One Size Fits Most')).toBe('Nike Legacy91 Tech Golf Hat');
    expect(cleanTitle('Lululemon Athletica Tops | Lululemon - [Rare] Speckled Sculpt Tank Mesh, 4 | Color: Black/White | Size: 4')).not.toMatch(/[[\]@]/);
    expect(cleanTitle('Hp Stream Notebook - 14-cb110ca, Intel Celeron@1.1 GHz')).not.toContain('@');
    const long = cleanTitle('A '.repeat(100) + 'end');
    expect(long.length).toBeLessThanOrEqual(80);
    expect(cleanTitle('   ')).toBe('');
  });

  it('trims descriptions to a sentence or two', () => {
    expect(summarizeDescription('Soft and warm. Machine washable. Imported from Italy. Dry flat.')).toBe('Soft and warm. Machine washable.');
    expect(summarizeDescription('Natural Balance L.I.D. Limited Ingredient Diets. Feed your dog well.')).toBe('Natural Balance L.I.D. Limited Ingredient Diets. Feed your dog well.');
    expect(summarizeDescription('x'.repeat(400)).length).toBeLessThanOrEqual(220);
    expect(summarizeDescription('See http://example.com [Fast] @home')).toBe('See Fast home');
  });

  it('decodes URL escapes in search queries and assigns readable categories', () => {
    expect(decodeQueryText('nickel %26 nickel furniture')).toBe('nickel & nickel furniture');
    expect(decodeQueryText('k%c3%a9rastase 100% pure')).toBe('kérastase 100% pure');
    expect(categorize('New Balance 450 v3 Women\'s Running Shoes', '1.0')).toBe('Running Shoes');
    expect(categorize('Otc Ford Essential Tool Rear Axle Threaded Draw Bar', '0.0')).not.toBe('Healthy Snacks');
    expect(categorize('KIND Almond Butter Protein Breakfast Bars', '3.0')).toBe('Healthy Snacks');
  });
});

describe('bad input', () => {
  it('rejects a row without a title, naming the file, the line and the field', () => {
    const dir = writeFolder(`${HEADER}\n1\tFirst product\tA fine product.\tx\ty\tz\t1.0\n2\t\tNo title here.\tx\ty\tz\t1.0\n3\tThird\tOk.\tx\ty\tz\t1.0\n`);
    const file = join(dir, 'ca_prod_products.tsv');
    const err = catchError(() => importGemBench(dir, tempDir())) as InputError;
    expect(err).toBeInstanceOf(InputError);
    expect(err.file).toBe(file);
    expect(err.line).toBe(3);
    expect(err.field).toBe('ad_title');
    expect(err.message).toBe(`${file}:3: field "ad_title": missing title`);
  });

  it('rejects duplicate and unusable product ids', () => {
    const dup = writeFolder(`${HEADER}\n7\tA\td\tx\ty\tz\t1.0\n8\tB\td\tx\ty\tz\t1.0\n7\tC\td\tx\ty\tz\t1.0\n`);
    const e1 = catchError(() => importGemBench(dup, tempDir())) as InputError;
    expect([e1.line, e1.field]).toEqual([4, 'product_id']);
    expect(e1.detail).toMatch(/duplicate product id "7" \(first on line 2\)/);
    const bad = writeFolder(`${HEADER}\n7/1\tA\td\tx\ty\tz\t1.0\n`);
    const e2 = catchError(() => importGemBench(bad, tempDir())) as InputError;
    expect([e2.line, e2.field]).toEqual([2, 'product_id']);
  });

  it('rejects a missing folder, a missing file, a missing column and a query without text', () => {
    expect(catchError(() => importGemBench(join(tmpdir(), 'no-such-gem-bench-folder'), tempDir()))).toBeInstanceOf(InputError);
    const noQueries = tempDir();
    writeFileSync(join(noQueries, 'ca_prod_products.tsv'), `${HEADER}\n1\tA\td\tx\ty\tz\t1.0\n`);
    const e1 = catchError(() => importGemBench(noQueries, tempDir())) as InputError;
    expect(e1.file).toBe(join(noQueries, 'ca_prod_queries.tsv'));
    expect(e1.detail).toBe('no such file');
    const noColumn = writeFolder('product_id\tad_description\n1\tx\n');
    const e2 = catchError(() => importGemBench(noColumn, tempDir())) as InputError;
    expect([e2.line, e2.field]).toEqual([1, 'ad_title']);
    const emptyQuery = writeFolder(`${HEADER}\n1\tA\td\tx\ty\tz\t1.0\n`, 'query_id\tquery_text\n1\tshoes\n2\t  \n');
    const e3 = catchError(() => importGemBench(emptyQuery, tempDir())) as InputError;
    expect([e3.line, e3.field]).toEqual([3, 'query_text']);
  });

  it('runImport refuses unknown formats and missing folders', async () => {
    expect(await catchAsync(() => runImport({ format: 'csv', from: '.', out: tempDir() }))).toBeInstanceOf(UsageError);
    expect(await catchAsync(() => runImport({ format: 'gem-bench', from: join(tmpdir(), 'no-such-gem-bench'), out: tempDir() }))).toBeInstanceOf(InputError);
  });
});

describe('a small folder', () => {
  it('converts to files that load back', async () => {
    const dir = writeFolder(
      `${HEADER}\n1\t"Dodge Ram 4"" Lift Kit"\tLifts your truck. Fits 2016 models.\tx\ty\tRBP\t0.0\n2\tNike Shoes | Nike Air Force 1 Low | Color: Blue | Size: 9\tClassic.\tx\ty\tNike\t1.0\n`,
      'query_id\tquery_text\n10\tlift kit %26 tires\n11\tair force 1\n',
    );
    const out = tempDir();
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    expect(await runImport({ format: 'gem-bench', from: dir, out })).toBe(0);
    const catalog = loadCatalog(join(out, 'catalog.jsonl'));
    expect(catalog).toEqual([
      { id: 'Ad-1', title: 'Dodge Ram 4" Lift Kit', description: 'Lifts your truck. Fits 2016 models.', category: 'Cars & Trucks' },
      { id: 'Ad-2', title: 'Nike Air Force 1 Low', description: 'Classic.', category: 'Shoes' },
    ]);
    const profiles = loadProfiles(join(out, 'profiles.jsonl'));
    const queries = loadQueries(join(out, 'queries.jsonl'), profiles);
    expect(queries.map((q) => [q.id, q.profile_id, q.text, q.split])).toEqual([
      ['Q-CA-10', 'U-CA-10', 'lift kit & tires', 'test'],
      ['Q-CA-11', 'U-CA-11', 'air force 1', 'test'],
    ]);
    // The asker of a truck question gets an interest that fits it.
    expect(profiles[0]!.interests).toContain('cars and trucks');
  });

  it('names the line of an empty prompt and refuses mismatched category lists', () => {
    const dir = writeFolder(`${HEADER}\n1\tA thing\td\tx\ty\tz\t1.0\n`);
    writeFileSync(join(dir, 'lm_market_prompts.json'), '[\n  "Plan a trip to Rome",\n  "  "\n]\n');
    writeFileSync(join(dir, 'lm_market_categories.json'), '["Travel Planning", "Travel Planning"]');
    writeFileSync(join(dir, 'mt_human_prompts.json'), '["Explain inflation."]');
    const err = catchError(() => importGemBench(dir, tempDir())) as InputError;
    expect([err.file, err.line, err.field]).toEqual([join(dir, 'lm_market_prompts.json'), 3, '[1]']);
    writeFileSync(join(dir, 'lm_market_prompts.json'), '["Plan a trip to Rome"]');
    const err2 = catchError(() => importGemBench(dir, tempDir())) as InputError;
    expect(err2.file).toBe(join(dir, 'lm_market_categories.json'));
    writeFileSync(join(dir, 'lm_market_categories.json'), '["Travel Planning"]');
    const summary = importGemBench(dir, tempDir());
    expect([summary.ads, summary.queries, summary.profiles]).toEqual([1, 3, 3]);
  });

  it('treats a half-present prompt set as broken input', () => {
    const dir = writeFolder(`${HEADER}\n1\tA thing\td\tx\ty\tz\t1.0\n`);
    writeFileSync(join(dir, 'lm_market_prompts.json'), '["Plan a trip to Rome"]');
    const err = catchError(() => importGemBench(dir, tempDir())) as InputError;
    expect(err.file).toBe(join(dir, 'lm_market_categories.json'));
  });
});

describe(`the real GEM-Bench folder${needsData}`, () => {
  it.skipIf(!HAVE_GEM_BENCH)('imports all products and queries, and the files round-trip through the loaders', async () => {
    const out = tempDir();
    const writes: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      writes.push(String(chunk));
      return true;
    });
    expect(await runImport({ format: 'gem-bench', from: GEM_BENCH, out })).toBe(0);
    expect(writes.join('')).toMatch(/2215 ads in \d+ categories, 230 queries/);
    const catalog = loadCatalog(join(out, 'catalog.jsonl'));
    expect(catalog).toHaveLength(2215);
    for (const ad of catalog) {
      expect(ad.id).toMatch(AD_ID_PATTERN);
      expect(ad.title).not.toMatch(/[@[\]]/);
      expect(ad.category).toBeTruthy();
    }
    expect(catalog[0]!.id).toBe('Ad-23');
    const profiles = loadProfiles(join(out, 'profiles.jsonl'));
    const queries = loadQueries(join(out, 'queries.jsonl'), profiles);
    expect(queries).toHaveLength(230);
    expect(profiles).toHaveLength(230);
    expect(queries.every((q) => q.split === 'test')).toBe(true);
    expect(queries.filter((q) => q.id.startsWith('Q-CA-'))).toHaveLength(120);
    expect(queries.filter((q) => q.id.startsWith('Q-LM-'))).toHaveLength(100);
    expect(queries.filter((q) => q.id.startsWith('Q-MT-'))).toHaveLength(10);
    // Same seed, same files.
    const again = tempDir();
    importGemBench(GEM_BENCH, again);
    for (const f of ['catalog.jsonl', 'queries.jsonl', 'profiles.jsonl']) {
      expect(readFileSync(join(again, f), 'utf8')).toBe(readFileSync(join(out, f), 'utf8'));
    }
  });

  it.skipIf(!HAVE_GEM_BENCH)('loads the real prompts as an extra test set with fitting profiles', () => {
    const set = loadGemBenchPrompts(GEM_BENCH, { seed: 3 });
    expect(set.queries).toHaveLength(110);
    expect(set.queries[0]).toMatchObject({ id: 'Q-LM-001', profile_id: 'U-LM-001', split: 'test' });
    expect(set.queries[109]).toMatchObject({ id: 'Q-MT-10', profile_id: 'U-MT-10', split: 'test' });
    const profiles = new Map(set.profiles.map((p) => [p.id, p]));
    for (const q of set.queries) expect(profiles.has(q.profile_id)).toBe(true);
    // lm_market prompt 2 is a travel-planning prompt.
    expect(profiles.get('U-LM-002')!.interests).toContain('travel');
    expect(loadGemBenchPrompts(GEM_BENCH, { seed: 3 })).toEqual(set);
  });

  it.skipIf(!HAVE_GEM_BENCH)('rebuilds data/catalog.jsonl byte for byte (the committed file is up to date)', () => {
    const out = join(tempDir(), 'catalog.jsonl');
    const { ads } = buildCatalog(GEM_BENCH, out);
    expect(ads).toHaveLength(100);
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(EMBEDDED_CATALOG_PATH, 'utf8'));
  });

  it.skipIf(!HAVE_GEM_BENCH)('copes with the real products file: every row has a readable title', () => {
    const products = readGemBenchProducts(join(GEM_BENCH, 'ca_prod_products.tsv'));
    expect(products).toHaveLength(2215);
    for (const p of products) expect(p.title.length).toBeGreaterThan(0);
  });
});

describe('a copy of the real folder with a broken row', () => {
  it.skipIf(!HAVE_GEM_BENCH)('points at the broken line of the real file layout', () => {
    const dir = tempDir();
    for (const f of ['ca_prod_queries.tsv', 'lm_market_prompts.json', 'lm_market_categories.json', 'mt_human_prompts.json']) copyFileSync(join(GEM_BENCH, f), join(dir, f));
    const lines = readFileSync(join(GEM_BENCH, 'ca_prod_products.tsv'), 'utf8').split('\n');
    const cells = lines[2]!.split('\t');
    cells[1] = '';
    lines[2] = cells.join('\t');
    writeFileSync(join(dir, 'ca_prod_products.tsv'), lines.join('\n'));
    const err = catchError(() => importGemBench(dir, tempDir())) as InputError;
    expect([err.line, err.field]).toEqual([3, 'ad_title']);
  });
});
