/**
 * The parametric user: the embedded default click model. Like the paper's User-LLM it reads only
 * the query, the profile and the response text, never how the response was generated.
 *
 * For each validly exposed ad i, the (k_i)-th exposure in reading order, it forms
 *
 *   p_i = sigmoid(bias + wQuery * rel(title_i, query) + wProfile * rel(title_i, interests)
 *                 + wNative * native_i * fit_i
 *                 + affinity(user, category_i) + quality(ad_i) + noise(query, ad_i)
 *                 - positionCost * k_i) * decay^(M - 1)
 *
 * where rel is a cosine similarity from the text encoder, native_i measures whether the sentence
 * that carries the ad talks about the question (an ad woven into the answer, not tacked on), fit_i
 * = min(1, max(rel) / fitAt) keeps an unrelated product from looking native just because the
 * sentence around it mentions the question, and M counts every insertion the user sees, valid or
 * broken (fatigue). The latent terms are fixed per world (`worldSeed`) and never written anywhere
 * a mechanism can read: a user's taste for a product category (affinitySd), an ad's quality
 * (qualitySd) and an idiosyncratic (query, ad) term (noiseSd), each a seeded normal draw. Only
 * clicks reveal them; see simulation/README.md for the generative story. Then:
 *  - competition: ads whose titles are similar form a group; at most one ad of a group is clicked,
 *    with probability max_g p_g, and it is ad j with probability p_j / sum_g p_g;
 *  - flooding: with `floodAt` or more insertions, or text that talks about inserting ads, the user
 *    clicks nothing.
 */
import { z } from 'zod';
import type { ClickContext, ClickModel } from '../mechanism/click-model.ts';
import { deriveSeed } from '../lib/rng.ts';
import { cosine, lexicalEncoder, stems, type TextEncoder } from './text-encoder.ts';
import { Generations } from '../lib/generations.ts';
import { embeddedCatalog } from './world.ts';

export const UserModelConfig = z.object({
  bias: z.number().default(-3.2).describe('Logit of a click on an ad with no relevance, tacked on'),
  wQuery: z.number().default(6).describe('Weight of the title-to-question similarity'),
  wProfile: z.number().default(3).describe("Weight of the title's best similarity to one of the user's interests"),
  wNative: z.number().default(1.8).describe('Weight of nativeness (the ad sits in a sentence about the question)'),
  fitAt: z.number().positive().default(0.35).describe('Similarity at which an ad fits the question well enough to read as native'),
  decay: z.number().min(0).max(1).default(0.7).describe('Fatigue: click probabilities shrink by this factor for each insertion beyond the first'),
  positionCost: z.number().min(0).default(0.35).describe('Logit lost per valid exposure read before this one (position within the answer)'),
  affinitySd: z.number().min(0).default(1).describe("Spread (logit) of a user's latent affinity to a product category"),
  qualitySd: z.number().min(0).default(0.8).describe("Spread (logit) of an ad's latent quality (how appealing its offer is)"),
  noiseSd: z.number().min(0).default(0.5).describe('Spread (logit) of the idiosyncratic term of one (question, ad)'),
  worldSeed: z.number().int().default(0).describe('Seed of the latent terms (the embedded world seed)'),
  floodAt: z.number().int().min(1).default(4).describe('With this many insertions or more the user clicks nothing'),
  similarTitles: z.number().min(0).max(1).default(0.45).describe('Titles at least this similar (cosine) compete: at most one of them is clicked'),
});
export type UserModelConfig = z.infer<typeof UserModelConfig>;

/** Text that talks about the ad insertion itself ruins the answer for the user. */
const META = /\b(ad insertions?|insert(ed|ing)? (an |the |these |this )?ads?|(sponsored|paid) (placement|insertion)s?|for (ad )?revenue|(the|its|their|highest) bids?)\b/i;

/** The sentence around [start, end): from the previous sentence end to the next one. */
const isSentenceEnd = (c: number) => c === 46 || c === 33 || c === 63 || c === 10; // . ! ? newline

export function sentenceAround(text: string, start: number, end: number): string {
  let a = start;
  while (a > 0 && !isSentenceEnd(text.charCodeAt(a - 1))) a--;
  let b = end;
  while (b < text.length && !isSentenceEnd(text.charCodeAt(b))) b++;
  return `${text.slice(a, start)} ${text.slice(end, b)}`;
}

/** Share of the question's content words (at most 3 needed) found in the sentence around the ad. */
export function nativeness(query: string, sentence: string): number {
  const q = new Set(stems(query));
  if (q.size === 0) return 0;
  const s = new Set(stems(sentence));
  let hit = 0;
  for (const w of q) if (s.has(w)) hit++;
  return Math.min(1, hit / Math.min(3, q.size));
}

export interface AdAssessment {
  id: string;
  relQuery: number;
  relProfile: number;
  native: number;
  /** Click probability before competition. */
  base: number;
  group: number;
}

/** Entries of each memo's young generation (at most twice as many are kept). */
const MEMO_CAP = 4096;

/**
 * Any `TextEncoder` works, the asynchronous ONNX one included (`new ParametricUser({}, onnx)` reads
 * relevance semantically). The default weights were set with the lexical encoder's cosines in
 * mind; a neural encoder's sit on another scale, so the same config clicks more or less often
 * (with all-MiniLM-L6-v2, the pretrained policy's exposures average a click probability of about
 * 0.16 before competition, against 0.09 with the lexical encoder).
 */
export class ParametricUser implements ClickModel {
  readonly name = 'embedded:parametric';
  readonly config: UserModelConfig;
  /**
   * Memos of what the user concludes about one ad in one sentence for one question and profile,
   * whether two titles compete, and the latent logit of (user, question, ad). Their reuse is near:
   * on a 300-query bench of the embedded world every hit of the first and last, and 99.4% of the
   * title pairs', fell within the last 1,000 entries added (the rows of one query share them), so
   * each keeps the entries used last in two generations
   * (lib/generations.ts), a fixed few thousand, and memory does not grow with the run.
   */
  private readonly memo = new Generations<string, { relQuery: number; relProfile: number; native: number }>(MEMO_CAP);
  private readonly pairMemo = new Generations<string, boolean>(MEMO_CAP);

  private readonly latentMemo = new Generations<string, number>(MEMO_CAP);
  /** Product category of each ad id (the embedded catalog's unless given). */
  private readonly categoryOf: (adId: string) => string | undefined;

  constructor(
    config: Partial<UserModelConfig> = {},
    private readonly encoder: TextEncoder = lexicalEncoder(),
    categories?: ReadonlyMap<string, string>,
  ) {
    this.config = UserModelConfig.parse(config);
    let map = categories;
    this.categoryOf = (id) => (map ??= new Map(embeddedCatalog().map((a) => [a.id, a.category ?? '']))).get(id) || undefined;
  }

  /**
   * The latent part of the click logit of one ad for one user and question: category affinity,
   * ad quality and the (question, ad) term, each a standard normal draw seeded by the world seed
   * and scaled by its spread. Deterministic, so expected rewards stay exact.
   */
  latentLogit(userId: string, query: string, adId: string): number {
    const c = this.config;
    const key = `${userId}\u0001${query}\u0001${adId}`;
    const hit = this.latentMemo.get(key);
    if (hit !== undefined) return hit;
    const category = this.categoryOf(adId);
    let z = c.qualitySd * stdNormal(c.worldSeed, 'quality', adId) + c.noiseSd * stdNormal(c.worldSeed, 'noise', query, adId);
    if (category !== undefined) z += c.affinitySd * stdNormal(c.worldSeed, 'affinity', userId, category);
    this.latentMemo.set(key, z);
    return z;
  }

  /**
   * Vectors of `texts` through whichever encoder the user was given. The synchronous path is tried
   * first because it is the hot one: the lexical encoder always answers there, and so does an ONNX
   * encoder for texts it has already embedded, without a trip through the microtask queue. An
   * encoder whose encodeSync cannot serve every text throws (OnnxEncoder names what it lacks);
   * `encode` can, so it takes over. A genuine fault is not hidden: `encode` fails on it too.
   */
  private embed(texts: string[]): Promise<Float32Array[]> {
    const enc = this.encoder;
    if (enc.encodeSync) {
      try {
        return Promise.resolve(enc.encodeSync(texts));
      } catch {
        // Not all of them are ready synchronously: fall through to the asynchronous path.
      }
    }
    return enc.encode(texts);
  }

  /** Everything the user concludes about each exposed ad, before competition. */
  async assess(ctx: ClickContext): Promise<{ ads: AdAssessment[]; flooded: boolean }> {
    const { input, response, parsed } = ctx;
    const m = parsed.exposures.length + parsed.errors.length;
    const flooded = m >= this.config.floodAt || (m > 0 && META.test(response));
    if (parsed.exposures.length === 0) return { ads: [], flooded };
    const titles = parsed.exposures.map((e) => e.title);
    const interests = input.profile.interests.length > 0 ? input.profile.interests : [input.profile.info];
    const c = this.config;
    const scale = Math.pow(c.decay, Math.max(0, m - 1));
    const context = `${input.query}\u0001${interests.join('\u0002')}`;
    let vecs: Float32Array[] | undefined;
    const vectors = async () => (vecs ??= await this.embed([input.query, ...interests, ...titles]));
    const ads: AdAssessment[] = [];
    for (let k = 0; k < parsed.exposures.length; k++) {
      const e = parsed.exposures[k]!;
      const sentence = sentenceAround(response, e.start, e.end);
      const key = `${context}\u0001${e.title}\u0001${sentence}`;
      let seen = this.memo.get(key);
      if (!seen) {
        const v = await vectors();
        const tv = v[1 + interests.length + k]!;
        let relProfile = 0;
        for (let j = 0; j < interests.length; j++) relProfile = Math.max(relProfile, cosine(tv, v[1 + j]!));
        seen = { relQuery: Math.max(0, cosine(tv, v[0]!)), relProfile, native: nativeness(input.query, sentence) };
        this.memo.set(key, seen);
      }
      const { relQuery, relProfile, native } = seen;
      const fit = Math.min(1, Math.max(relQuery, relProfile) / c.fitAt);
      // Exposures are parsed in reading order, so k is the number of ads read before this one.
      const logit =
        c.bias + c.wQuery * relQuery + c.wProfile * relProfile + c.wNative * native * fit + this.latentLogit(input.profile.id, input.query, e.id) - c.positionCost * k;
      ads.push({ id: e.id, relQuery, relProfile, native, base: flooded ? 0 : scale / (1 + Math.exp(-logit)), group: k });
    }
    // Competition groups: union of titles that are similar to each other.
    const parent = ads.map((_, k) => k);
    const find = (k: number): number => (parent[k] === k ? k : (parent[k] = find(parent[k]!)));
    for (let a = 0; a < ads.length; a++) {
      for (let b = a + 1; b < ads.length; b++) {
        const key = titles[a]! < titles[b]! ? `${titles[a]}\u0001${titles[b]}` : `${titles[b]}\u0001${titles[a]}`;
        let similar = this.pairMemo.get(key);
        if (similar === undefined) {
          const [va, vb] = await this.embed([titles[a]!, titles[b]!]);
          similar = cosine(va!, vb!) >= c.similarTitles;
          this.pairMemo.set(key, similar);
        }
        if (similar) parent[find(b)] = find(a);
      }
    }
    for (let k = 0; k < ads.length; k++) ads[k]!.group = find(k);
    return { ads, flooded };
  }

  async clickProbabilities(ctx: ClickContext): Promise<Record<string, number>> {
    const { ads } = await this.assess(ctx);
    return competitionAdjusted(ads);
  }

  async sampleClicks(ctx: ClickContext, uniform: () => number): Promise<string[]> {
    const { ads } = await this.assess(ctx);
    const groups = new Map<number, AdAssessment[]>();
    for (const a of ads) groups.set(a.group, [...(groups.get(a.group) ?? []), a]);
    const clicked: string[] = [];
    for (const members of groups.values()) {
      // One uniform per group keeps the number of draws fixed for a given response.
      const u = uniform();
      const max = Math.max(...members.map((a) => a.base));
      if (u >= max) continue;
      const total = members.reduce((s, a) => s + a.base, 0);
      let x = (u / max) * total;
      for (const a of members) {
        x -= a.base;
        if (x < 0) {
          clicked.push(a.id);
          break;
        }
      }
    }
    return clicked;
  }
}

/** A standard normal draw keyed by (seed, labels): Box-Muller over two derived uniforms. */
function stdNormal(seed: number, ...labels: string[]): number {
  const u1 = (deriveSeed(seed, 'latent', ...labels, 1) + 0.5) / 2 ** 32;
  const u2 = (deriveSeed(seed, 'latent', ...labels, 2) + 0.5) / 2 ** 32;
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** Marginal click probabilities under "at most one click per group of similar ads". */
export function competitionAdjusted(ads: readonly AdAssessment[]): Record<string, number> {
  const byGroup = new Map<number, { max: number; total: number }>();
  for (const a of ads) {
    const g = byGroup.get(a.group) ?? { max: 0, total: 0 };
    g.max = Math.max(g.max, a.base);
    g.total += a.base;
    byGroup.set(a.group, g);
  }
  const out: Record<string, number> = {};
  for (const a of ads) {
    const g = byGroup.get(a.group)!;
    out[a.id] = g.total > 0 ? (g.max * a.base) / g.total : 0;
  }
  return out;
}
