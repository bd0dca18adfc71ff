/**
 * The embedded default world: the 100-ad catalog of `data/catalog.jsonl`, plus synthetic user
 * profiles and the questions those users ask an assistant (paper, section 5.2.1: 3k profiles, five
 * queries each, 12k train / 3k test).
 *
 * The paper has an LLM invent profiles and queries. Here they come from the hand-written
 * vocabulary and templates of world-vocabulary.ts instead, so the world is offline, instant and
 * identical for a given seed. Every interest names the catalog categories it relates to, so the
 * simulated users and the candidate subsets can tell which ads fit a user.
 *
 * Reproducibility: profile k and its queries come from their own seeded streams, so profile k is
 * the same whether 10 or 3000 profiles are generated, and query ids depend only on (k, j).
 */
import { fileURLToPath } from 'node:url';
import { loadCatalog } from '../mechanism/loaders.ts';
import { deriveSeed, Rng } from '../lib/rng.ts';
import type { Ad, Profile, Query, Split } from '../mechanism/types.ts';
import {
  DEADLINES,
  GENERAL_TEMPLATES,
  INTEREST_TEMPLATES,
  INTERESTS,
  OCCUPATIONS,
  PLACES,
  RETIRED_JOBS,
  SEASONS,
  SITUATIONS,
  STUDENT_JOBS,
  TIMES,
  type Interest,
  type Occupation,
  type Place,
  type Situation,
} from './world-vocabulary.ts';

export interface World {
  catalog: Ad[];
  profiles: Profile[];
  queries: Query[];
}

// ---------------------------------------------------------------------------------------------
// Interests
// ---------------------------------------------------------------------------------------------

const INTEREST_BY_NAME: ReadonlyMap<string, Interest> = new Map(INTERESTS.map((i) => [i.name, i]));

export function findInterest(name: string): Interest | undefined {
  return INTEREST_BY_NAME.get(name);
}

/** Catalog categories that fit a set of interests (unknown interests contribute nothing). */
export function categoriesForInterests(interests: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const name of interests) for (const c of findInterest(name)?.categories ?? []) out.add(c);
  return out;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const KEYWORD_RES: ReadonlyMap<string, RegExp> = new Map(
  INTERESTS.map((i) => [i.name, new RegExp(`(^|[^a-z0-9])(${i.keywords.map(escapeRe).join('|')})($|[^a-z0-9])`, 'i')]),
);

/** Whether a text mentions one of an interest's keywords. */
export function mentionsInterest(text: string, name: string): boolean {
  return KEYWORD_RES.get(name)?.test(text) ?? false;
}

/** Interests whose keywords a text mentions, in vocabulary order (used to fit profiles to real prompts). */
export function interestsForText(text: string): string[] {
  return INTERESTS.filter((i) => mentionsInterest(text, i.name)).map((i) => i.name);
}

// ---------------------------------------------------------------------------------------------
// Profiles
// ---------------------------------------------------------------------------------------------

function ageBand(age: number): string {
  if (age < 20) return 'late teens';
  const decade = Math.floor(age / 10) * 10;
  const part = age % 10 <= 3 ? 'early' : age % 10 <= 6 ? 'mid' : 'late';
  return `${part} ${decade}s`;
}

interface Person {
  gender: 'woman' | 'man' | 'person';
  age: number;
  occupation: Occupation;
  situation: Situation;
  place: Place;
  tags: Set<string>;
}

function drawPerson(rng: Rng): Person {
  const situation = SITUATIONS[rng.categorical(SITUATIONS.map((s) => s.weight))]!;
  const place = PLACES[rng.categorical(PLACES.map((p) => p.weight))]!;
  const age = rng.int(situation.ages[0], situation.ages[1]);
  const pool = situation.occupations === 'student' ? STUDENT_JOBS : situation.occupations === 'retired' ? RETIRED_JOBS : OCCUPATIONS;
  const fitting = pool.filter((o) => age >= o.ages[0] && age <= o.ages[1]);
  const occupation = rng.pick(fitting.length > 0 ? fitting : pool);
  const u = rng.uniform();
  const gender = u < 0.48 ? 'woman' : u < 0.96 ? 'man' : 'person';
  const tags = new Set([...situation.tags, ...place.tags, ...(occupation.tags ?? [])]);
  if (age < 30) tags.add('young');
  if (age >= 55) tags.add('older');
  return { gender, age, occupation, situation, place, tags };
}

function profileInfo(p: Person): string {
  const pronoun = p.gender === 'woman' ? 'her' : p.gender === 'man' ? 'his' : 'their';
  const who = p.gender === 'person' ? 'A person' : `A ${p.gender}`;
  return `${who} in ${pronoun} ${ageBand(p.age)} who ${p.occupation.info}; ${p.situation.info}; lives in ${p.place.info}.`;
}

function interestWeight(interest: Interest, tags: ReadonlySet<string>): number {
  const a = interest.affinity;
  if (a === undefined) return 1;
  return a.tags.some((t) => tags.has(t)) ? a.boost : (a.otherwise ?? 1);
}

/** 2-4 distinct interests, weighted by how well each fits the person's situation. */
function drawInterests(rng: Rng, tags: ReadonlySet<string>, preferred: readonly string[]): string[] {
  const known = preferred.filter((n) => INTEREST_BY_NAME.has(n));
  const count = Math.max(rng.int(2, 4), Math.min(known.length, 4));
  const out = known.slice(0, count);
  const weights = INTERESTS.map((i) => (out.includes(i.name) ? 0 : interestWeight(i, tags)));
  while (out.length < count) {
    const k = rng.categorical(weights);
    out.push(INTERESTS[k]!.name);
    weights[k] = 0;
  }
  return out;
}

/**
 * A synthetic profile drawn from `rng`. `preferred` interests (e.g. read from a real prompt) come
 * first so the profile fits the question it will ask.
 */
export function synthesizeProfile(rng: Rng, id: string, preferred: readonly string[] = []): Profile {
  const person = drawPerson(rng);
  return { id, info: profileInfo(person), interests: drawInterests(rng, person.tags, preferred) };
}

// ---------------------------------------------------------------------------------------------
// Queries
// ---------------------------------------------------------------------------------------------

type Slots = Record<string, string>;

function fill(template: string, slots: Slots): string {
  return template.replace(/\{(\w+)\}/g, (m, key: string) => slots[key] ?? m);
}

function budgetPhrase(rng: Rng, interest: Interest): string {
  const price = rng.pick(interest.prices);
  return rng.bernoulli(0.5) ? `under $${price.toLocaleString('en-US')}` : `for about $${price.toLocaleString('en-US')}`;
}

/**
 * A first-person sentence about the asker, the way people give an assistant context ("I'm a nurse
 * in my 30s."). It personalizes the question and keeps identical questions from piling up.
 */
function contextSentence(rng: Rng, person: Person): string {
  const k = rng.int(0, 2);
  if (k === 0) return `I'm ${person.occupation.role} in my ${ageBand(person.age)}.`;
  if (k === 1) return person.situation.self;
  return person.place.self;
}

function withContext(rng: Rng, person: Person, text: string, p: number): string {
  if (/^I'm |^I live |\{occupation\}/.test(text) || !rng.bernoulli(p)) return text;
  return `${contextSentence(rng, person)} ${text}`;
}

function interestQuery(rng: Rng, interest: Interest, person: Person, used: Set<string>): string {
  const slots: Slots = {
    topic: interest.topic,
    gear: rng.pick(interest.gear),
    goal: rng.pick(interest.goals),
    time: rng.pick(TIMES),
    budget: budgetPhrase(rng, interest),
    occupation: person.occupation.role,
    whileBusy: person.occupation.whileBusy,
    age: ageBand(person.age),
    home: person.situation.home ?? person.place.home,
    season: rng.pick(SEASONS),
    situation: person.situation.short,
    deadline: rng.pick(DEADLINES),
  };
  if (rng.bernoulli(0.35)) {
    const own = interest.questions.filter((q) => !used.has(q));
    if (own.length > 0) {
      const q = rng.pick(own);
      used.add(q);
      return withContext(rng, person, fill(q, slots), 0.45);
    }
  }
  const templates = INTEREST_TEMPLATES.filter(
    (t) =>
      !used.has(t.text) &&
      (interest.active || t.active !== true) &&
      (interest.hobby || t.hobby !== true) &&
      (interest.durable || t.durable !== true),
  );
  const t = rng.pick(templates);
  used.add(t.text);
  return withContext(rng, person, fill(t.text, slots), 0.3);
}

function situationQuery(rng: Rng, person: Person, used: Set<string>): string | undefined {
  const options = [...person.situation.questions, person.place.question].filter((q) => !used.has(q));
  if (options.length === 0) return undefined;
  const q = rng.pick(options);
  used.add(q);
  return q;
}

function generalQuery(rng: Rng, person: Person, used: Set<string>): string {
  // Questions about one's job only make sense for people who have one.
  const options = GENERAL_TEMPLATES.filter((q) => !used.has(q) && (person.occupation.working || !q.includes('{job}')));
  const q = rng.pick(options);
  used.add(q);
  return withContext(rng, person, fill(q, { job: person.occupation.role }), 0.15);
}

/** How a profile's queries divide between its interests, its situation and plain questions. */
const QUERY_MIX = { interest: 0.8, situation: 0.08, general: 0.12 };

/**
 * `count` distinct query texts for one person. Interests are visited in a shuffled round so a
 * profile asks about each of them before repeating one.
 */
function queryTexts(rng: Rng, person: Person, interests: readonly string[], count: number): string[] {
  const used = new Set<string>();
  const texts: string[] = [];
  const order = rng.shuffle(interests.map((n) => INTEREST_BY_NAME.get(n)).filter((i): i is Interest => i !== undefined));
  let next = 0;
  for (let attempt = 0; texts.length < count && attempt < count * 20; attempt++) {
    const u = rng.uniform();
    let text: string | undefined;
    if (u < QUERY_MIX.general || order.length === 0) text = generalQuery(rng, person, used);
    else if (u < QUERY_MIX.general + QUERY_MIX.situation) text = situationQuery(rng, person, used);
    if (text === undefined && order.length > 0) text = interestQuery(rng, order[next++ % order.length]!, person, used);
    if (text !== undefined && !texts.includes(text)) texts.push(text);
  }
  if (texts.length < count) throw new Error(`could only draw ${texts.length} distinct queries of ${count}`);
  return texts;
}

// ---------------------------------------------------------------------------------------------
// World
// ---------------------------------------------------------------------------------------------

export interface WorldOptions {
  seed: number;
  profiles?: number;
  queriesPerProfile?: number;
  /** Share of queries in the test split; the count is exact: round(share * queries). */
  testShare?: number;
  /** The catalog to ship with the world; the embedded one by default. */
  catalog?: Ad[];
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

export function profileId(k: number): string {
  return `U-${pad(k, 4)}`;
}

/**
 * Profile k (1-based) and its queries, from streams of their own: drawing them needs nothing about
 * the other profiles, so they stay the same however many profiles a world has.
 */
export function generateProfile(seed: number, k: number, queriesPerProfile = 5): { profile: Profile; texts: string[] } {
  const rng = Rng.derive(seed, 'world/profile', k);
  const person = drawPerson(rng);
  const profile: Profile = { id: profileId(k), info: profileInfo(person), interests: drawInterests(rng, person.tags, []) };
  const texts = queryTexts(Rng.derive(seed, 'world/queries', k), person, profile.interests, queriesPerProfile);
  return { profile, texts };
}

/**
 * Split by query, as the paper does (12k/3k of the 15k queries): users appear in both splits, which
 * suits a pCTR model with user-id embeddings. The test set is the exact number of queries with the
 * smallest seeded hash of their id, so a query's split does not depend on the order of generation.
 */
function assignSplits(seed: number, ids: readonly string[], testShare: number): Map<string, Split> {
  if (!(testShare >= 0 && testShare <= 1)) throw new RangeError(`testShare must be in [0, 1], got ${testShare}`);
  const testCount = Math.round(testShare * ids.length);
  const ranked = ids.map((id) => ({ id, h: deriveSeed(seed, 'world/split', id) })).sort((a, b) => a.h - b.h || (a.id < b.id ? -1 : 1));
  const out = new Map<string, Split>();
  ranked.forEach((r, k) => out.set(r.id, k < testCount ? 'test' : 'train'));
  return out;
}

export function generateWorld(opts: WorldOptions): World {
  const { seed, profiles: n = 3000, queriesPerProfile = 5, testShare = 0.2 } = opts;
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`profiles must be a non-negative integer, got ${n}`);
  if (!Number.isInteger(queriesPerProfile) || queriesPerProfile < 1) throw new RangeError(`queriesPerProfile must be a positive integer, got ${queriesPerProfile}`);
  const profiles: Profile[] = [];
  const drafts: { id: string; profile_id: string; text: string }[] = [];
  for (let k = 1; k <= n; k++) {
    const { profile, texts } = generateProfile(seed, k, queriesPerProfile);
    profiles.push(profile);
    texts.forEach((text, j) => drafts.push({ id: `Q-${pad((k - 1) * queriesPerProfile + j + 1, 5)}`, profile_id: profile.id, text }));
  }
  const splits = assignSplits(seed, drafts.map((d) => d.id), testShare);
  const queries: Query[] = drafts.map((d) => ({ ...d, split: splits.get(d.id)! }));
  return { catalog: opts.catalog ?? embeddedCatalog(), profiles, queries };
}

// ---------------------------------------------------------------------------------------------
// The embedded world
// ---------------------------------------------------------------------------------------------

/** Resolved from this module, so it works from any working directory and after `npm pack`. */
export const EMBEDDED_CATALOG_PATH = fileURLToPath(new URL('../data/catalog.jsonl', import.meta.url));

let catalogMemo: Ad[] | undefined;

export function embeddedCatalog(): Ad[] {
  catalogMemo ??= loadCatalog(EMBEDDED_CATALOG_PATH);
  return catalogMemo;
}

const worldMemo = new Map<number, World>();

/**
 * The default world: embedded catalog, 3000 profiles, 15k queries (12k train / 3k test). Memoized
 * per seed; callers share the object, so treat it as read-only.
 */
export function embeddedWorld(seed = 0): World {
  let world = worldMemo.get(seed);
  if (world === undefined) {
    world = generateWorld({ seed, catalog: embeddedCatalog() });
    worldMemo.set(seed, world);
  }
  return world;
}
