/**
 * GEM-Bench questions mapped to the suite's queries: the search queries of `ca_prod_queries.tsv` and
 * the real chat prompts, all in the test split. The source has no users, so each query gets a
 * synthetic profile of its own whose interests fit what it asks; the seed fixes them.
 */
import { join } from 'node:path';
import { InputError } from '../../lib/errors.ts';
import { Rng } from '../../lib/rng.ts';
import type { Profile, Query } from '../../mechanism/types.ts';
import { interestsForText, synthesizeProfile } from '../../simulation/world.ts';
import { decodeQueryText } from './clean.ts';
import { GEM_BENCH_FILES, readStringArray, readTsv } from './source.ts';

/** Which profile interests fit the lm_market prompt categories (others are read from the text). */
const PROMPT_CATEGORY_INTERESTS: Readonly<Record<string, string[]>> = {
  'Travel Planning': ['travel'],
  'Software Tools Comparison': ['computers and tech'],
};

export interface PromptSet {
  profiles: Profile[];
  queries: Query[];
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** A profile for a real prompt: synthetic, but with interests that fit what the prompt asks. */
function promptProfile(seed: number, id: string, label: string, text: string, hinted: string[] = []): Profile {
  const preferred = [...new Set([...hinted, ...interestsForText(text)])];
  return synthesizeProfile(Rng.derive(seed, 'gem-bench', label), id, preferred);
}

/**
 * The real chat prompts of a GEM-Bench folder as an extra test set: the 100 lm_market prompts
 * (`Q-LM-001`…) and the 10 mt_human prompts (`Q-MT-01`…), all with split "test", each asked by its
 * own synthetic profile (`U-LM-001`…), fixed by the seed. Prompts repeat in the source; they keep
 * their own ids so the set stays aligned with the category file.
 */
export function loadGemBenchPrompts(dir: string, opts: { seed?: number } = {}): PromptSet {
  const seed = opts.seed ?? 0;
  const profiles: Profile[] = [];
  const queries: Query[] = [];
  const lmFile = join(dir, GEM_BENCH_FILES.lmPrompts);
  const catFile = join(dir, GEM_BENCH_FILES.lmCategories);
  const lm = readStringArray(lmFile);
  const cats = readStringArray(catFile);
  if (cats.values.length !== lm.values.length) {
    throw new InputError(catFile, undefined, undefined, `has ${cats.values.length} categories for ${lm.values.length} prompts in ${GEM_BENCH_FILES.lmPrompts}`);
  }
  lm.values.forEach((raw, k) => {
    const text = raw.trim();
    if (text === '') throw new InputError(lmFile, lm.lines[k], `[${k}]`, 'empty prompt');
    const n = pad(k + 1, 3);
    const profile = promptProfile(seed, `U-LM-${n}`, `lm/${k}`, text, PROMPT_CATEGORY_INTERESTS[cats.values[k]!] ?? []);
    profiles.push(profile);
    queries.push({ id: `Q-LM-${n}`, profile_id: profile.id, text, split: 'test' });
  });
  const humanFile = join(dir, GEM_BENCH_FILES.humanPrompts);
  const human = readStringArray(humanFile);
  human.values.forEach((raw, k) => {
    const text = raw.trim();
    if (text === '') throw new InputError(humanFile, human.lines[k], `[${k}]`, 'empty prompt');
    const n = pad(k + 1, 2);
    const profile = promptProfile(seed, `U-MT-${n}`, `mt/${k}`, text);
    profiles.push(profile);
    queries.push({ id: `Q-MT-${n}`, profile_id: profile.id, text, split: 'test' });
  });
  return { profiles, queries };
}

/** The search queries of `ca_prod_queries.tsv` (`Q-CA-<query_id>`), each with its own profile. */
export function readGemBenchQueries(file: string, seed = 0): PromptSet {
  const table = readTsv(file, ['query_id', 'query_text']);
  const seen = new Map<string, number>();
  const profiles: Profile[] = [];
  const queries: Query[] = [];
  for (const { line, cells } of table.rows) {
    const qid = (cells.query_id ?? '').trim();
    if (!/^[A-Za-z0-9_-]+$/.test(qid)) throw new InputError(file, line, 'query_id', qid === '' ? 'missing query id' : `${JSON.stringify(qid)} must be letters, digits, "_" or "-"`);
    const first = seen.get(qid);
    if (first !== undefined) throw new InputError(file, line, 'query_id', `duplicate query id ${JSON.stringify(qid)} (first on line ${first})`);
    seen.set(qid, line);
    const text = decodeQueryText(cells.query_text ?? '');
    if (text === '') throw new InputError(file, line, 'query_text', 'missing query text');
    const profile = promptProfile(seed, `U-CA-${qid}`, `ca/${qid}`, text);
    profiles.push(profile);
    queries.push({ id: `Q-CA-${qid}`, profile_id: profile.id, text, split: 'test' });
  }
  return { profiles, queries };
}
