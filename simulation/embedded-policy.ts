/**
 * The embedded Ad-LLM: a small, explicit stochastic policy over insertion plans, rendered into text.
 *
 * A plan chooses which candidate ads to insert (at most `maxAds`), for each whether its markup is
 * right or broken, and one style for the response: ads woven into sentences about the question, or
 * listed after the answer. Rendering is a deterministic function of (input, plan), so a response
 * and its plan determine each other and log pi(y|x) is exact.
 *
 *   pi_theta(plan | x) ∝ pi_0(plan | x) * exp(theta · phi(x, plan))
 *
 * pi_0 (`embedded:pretrained`) ignores bids, inserts too many ads, picks them only weakly by
 * relevance, and breaks the markup of an ad with probability `errorRate`. phi holds what a
 * pretrained LLM could know from the prompt alone: its own relevance guess (from a cheaper text
 * representation than the user's: word stems only, a small hashed space), the bids as given, and
 * the plan's shape (number of ads, errors, woven or listed, similar titles side by side). It never
 * sees the user's click function or the user's latent tastes (see simulation/README.md), so the
 * policy class cannot express them; theta = 0 is the pretrained model, and IRPO's DPO steps move theta. The normalizer is computed by enumerating
 * every plan of the (short-listed) candidates, so sampling, log-probabilities, ITCTR and the
 * KL-regularized optimum pi_0 * exp(R / beta) are all exact.
 */
import { z } from 'zod';
import { displayTitle, insertion } from '../mechanism/format.ts';
import { hash32, Rng } from '../lib/rng.ts';
import type { AllocationRule, AuctionInput, BiddedAd, SampleOptions, WeightedResponse } from '../mechanism/types.ts';
import { cosine, LexicalEncoder, stems, type TextEncoder } from './text-encoder.ts';
import { logSumExp } from '../lib/stats.ts';

export const PolicyConfig = z.object({
  maxAds: z.number().int().min(1).max(4).default(3).describe('Most ads one response inserts'),
  shortlist: z.number().int().min(1).max(16).default(10).describe('Candidates the policy considers (the most relevant, by its own estimate)'),
  adCountPrior: z
    .array(z.number().min(0))
    .default([0.1, 0.3, 0.35, 0.25])
    .describe('pi_0: probability of inserting 0, 1, 2, 3… ads (bid-unaware, too many on average)'),
  relevanceTilt: z.number().default(1.5).describe('pi_0: how strongly it prefers relevant ads (weak)'),
  errorRate: z.number().min(0).max(1).default(0.25).describe("pi_0: probability that an inserted ad's markup is broken"),
  wovenRate: z.number().min(0).max(1).default(0.5).describe('pi_0: probability that ads are woven into the answer rather than listed after it'),
});
export type PolicyConfig = z.infer<typeof PolicyConfig>;

/** Catalog ads with an identity feature of their own (ids Ad-0001 … Ad-0100; other ids share these slots by hash). */
export const AD_SLOTS = 100;

/**
 * Names of the features phi(x, plan), in the order of theta. `value_guess` is the model's own
 * guess of the revenue a plan earns, sum of b_i * g_i / 10 over well-formed ads, where g_i is a
 * click guess from its own relevance estimate and whether the ad is woven in: the kind of prior
 * an LLM brings. It knows nothing of the user's fatigue, position effects or latent tastes, which
 * is what the pCTR reward model has to learn from clicks and training has to weigh.
 *
 * Since issue #22 the class can also say "one ad at most" (`extra_ads`, the ads beyond the first),
 * "bid times relevance above a reserve" (`bid_relevance` with `bid`, `ads` and `woven_ads`), and
 * something about each product (`bid_ad_0001` … `bid_ad_0100`: b_i / 100 when catalog ad i is
 * inserted with right markup). The per-ad weights start at 0 (the pretrained model knows nothing
 * of any product); they are what a fine-tuned model can pick up from click feedback about
 * particular products and a rule that reads only the prompt cannot.
 */
export const SHAPE_FEATURES = [
  'value_guess', // sum of b_i * g_i / 10 over well-formed ads
  'bid', // sum of b_i / 100 over well-formed ads
  'relevance', // sum of rel_i over inserted ads
  'ads', // number of inserted ads
  'errors', // number of ads with broken markup
  'woven_ads', // number of ads woven into the answer
  'competing_pairs', // pairs of inserted ads with similar titles
  'extra_ads', // max(0, ads - 1): what a second and third ad cost beyond the first
  'bid_relevance', // sum of b_i * rel_i / 100 over well-formed ads
] as const;
/** Features 0 … NUM_SHAPE_FEATURES - 1 are dense; the rest are one per ad slot (at most maxAds nonzero per plan). */
export const NUM_SHAPE_FEATURES = SHAPE_FEATURES.length;
export const FEATURES: readonly string[] = [...SHAPE_FEATURES, ...Array.from({ length: AD_SLOTS }, (_, i) => `bid_ad_${String(i + 1).padStart(4, '0')}`)];
export const NUM_FEATURES = FEATURES.length;
/** The length of theta before issue #22 (the seven shape features above `extra_ads`). */
export const LEGACY_NUM_FEATURES = 7;

/** The identity slot of an ad id: Ad-0001 … Ad-0100 their own, any other id hashed into the same 100. */
export function adSlot(id: string): number {
  const m = /^Ad-0*(\d+)$/.exec(id);
  const n = m ? Number(m[1]) : NaN;
  return n >= 1 && n <= AD_SLOTS ? n - 1 : hash32(id) % AD_SLOTS;
}

/**
 * phi for every plan of one auction, compactly: the dense shape features (NUM_SHAPE_FEATURES per
 * plan) and, per plan, up to maxAds (slot, value) entries of the per-ad features (slot -1: none).
 */
export interface PlanFeatures {
  plans: number;
  dense: Float64Array;
  /** Entries per plan in slot/value. */
  width: number;
  slot: Int16Array;
  value: Float64Array;
}

/** One insertion plan over the short-listed candidates. */
export interface Plan {
  /** Indices into the short list, increasing. */
  ads: number[];
  /** ok[k]: the markup of ads[k] is right. */
  ok: boolean[];
  woven: boolean;
}

const BROKEN_KINDS = ['title', 'id', 'markup', 'noid'] as const;

/** The bid-independent part of one auction: plans, pi_0, relevance, pairwise similarity. */
export interface PlanTable {
  key: string;
  /** Indices of the short-listed candidates in input.ads. */
  shortlist: number[];
  /** The policy's own relevance estimate of each short-listed ad, in [0, 1]. */
  relevance: number[];
  /** The policy's click guess c_i for each short-listed ad: [listed, woven]. */
  clickGuess: [number, number][];
  /** similar[a * n + b]: short-listed ads a and b have similar titles. */
  similar: Uint8Array;
  plans: Plan[];
  logp0: Float64Array;
  /** Bid-free shape features per plan (row-major, NUM_SHAPE_FEATURES each; bid columns filled per call). */
  base: Float64Array;
  /** The identity slot (adSlot) of each short-listed ad. */
  slots: number[];
  topic: string;
  /** Pre-rendered pieces: the answer around the ads, and each ad's insertion, right and broken. */
  pieces?: { head: string; tail: string; woven: string[][]; listed: string[][] };
}

function topicOf(query: string): string {
  const words = query
    .replace(/[^A-Za-z0-9' -]+/g, ' ')
    .split(/\s+/)
    .filter((w) => w.length > 0);
  const content = words.filter((w) => stems(w).length > 0);
  const pick = (content.length > 0 ? content : words).slice(0, 4).join(' ').toLowerCase();
  return pick || 'this';
}

const INTROS = [
  'Here is a practical way to approach {topic}.',
  'Good question. Let us break {topic} into a few simple steps.',
  'There are a few things worth knowing about {topic}.',
  'A little planning goes a long way with {topic}.',
];
const TIPS = [
  'Start small, and build a routine you can keep up week after week.',
  'Compare a couple of options before you commit, and read recent reviews.',
  'Set a budget first; it makes every later choice easier.',
  'Keep notes on what works for you, and adjust as you go.',
  'Ask someone experienced for a quick second opinion.',
  'Give yourself enough time, since rushing is the most common mistake.',
];
const WOVEN = [
  'For {topic}, @AD is a solid choice.',
  'Many people who care about {topic} like @AD.',
  'If you want some help with {topic}, consider @AD.',
  'To make {topic} easier, @AD is worth a look.',
];


let cheap: LexicalEncoder | undefined;
/**
 * The policy's own text representation: word stems only (no character trigrams), hashed into 256
 * dimensions. Cheaper and coarser than the user's (1024 dimensions with trigrams), so the policy's
 * relevance guess agrees with the user's judgment only roughly.
 */
export function policyEncoder(): LexicalEncoder {
  return (cheap ??= new LexicalEncoder(256, 0));
}

export class EmbeddedPolicy {
  readonly config: PolicyConfig;
  private readonly tables = new Map<string, PlanTable>();

  constructor(
    config: Partial<PolicyConfig> = {},
    readonly encoder: TextEncoder & { encodeSync(texts: readonly string[]): Float32Array[] } = policyEncoder(),
  ) {
    this.config = PolicyConfig.parse(config);
    if (this.config.adCountPrior.length < this.config.maxAds + 1) throw new Error('adCountPrior needs maxAds + 1 entries');
  }

  /**
   * Forget every cached plan table. A table takes over a megabyte (thousands of plans and their
   * features); a bench, which needs each auction's only while it scores that query, calls this
   * as it goes so its memory does not grow with the number of queries.
   */
  clearTables(): void {
    this.tables.clear();
  }

  /** Plans and pi_0 for an auction; cached, since they do not depend on the bids. */
  table(input: AuctionInput): PlanTable {
    const key = `${input.query}\u0001${input.profile.id}\u0001${input.profile.interests.join('|')}\u0001${input.ads.map((a) => `${a.id}=${a.title}`).join('|')}`;
    const hit = this.tables.get(key);
    if (hit) return hit;
    const c = this.config;
    const [qv, ...iv] = this.encoder.encodeSync([input.query, ...input.profile.interests]);
    const tv = this.encoder.encodeSync(input.ads.map((a) => displayTitle(a.title)));
    const relQ = input.ads.map((_, k) => Math.max(0, cosine(tv[k]!, qv!)));
    const relP = input.ads.map((_, k) => {
      let p = 0;
      for (const v of iv) p = Math.max(p, cosine(tv[k]!, v));
      return p;
    });
    const relAll = input.ads.map((_, k) => Math.min(1, 0.6 * relQ[k]! + 0.4 * relP[k]!));
    const sig = (x: number) => 1 / (1 + Math.exp(-x));
    // The policy's prior on clicks: a smooth function of its own relevance estimate, a little
    // higher when the ad is woven in. Not fitted to the user (it cannot be: it never sees clicks).
    const guess = (k: number): [number, number] => {
      const base = -2.5 + 5 * relAll[k]!;
      return [sig(base), sig(base + 0.7)];
    };
    const order = input.ads.map((_, k) => k).sort((a, b) => relAll[b]! - relAll[a]! || a - b);
    const shortlist = order.slice(0, c.shortlist).sort((a, b) => a - b);
    const n = shortlist.length;
    const relevance = shortlist.map((k) => relAll[k]!);
    const clickGuess = shortlist.map(guess);
    const similar = new Uint8Array(n * n);
    for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) similar[a * n + b] = a !== b && cosine(tv[shortlist[a]!]!, tv[shortlist[b]!]!) >= 0.45 ? 1 : 0;

    const plans: Plan[] = [];
    const subsets: number[][] = [[]];
    for (let k = 0; k < n; k++) {
      const len = subsets.length;
      for (let j = 0; j < len; j++) if (subsets[j]!.length < c.maxAds) subsets.push([...subsets[j]!, k]);
    }
    for (const ads of subsets) {
      for (let mask = 0; mask < 1 << ads.length; mask++) {
        const ok = ads.map((_, j) => (mask & (1 << j)) === 0);
        if (ads.length === 0) {
          plans.push({ ads, ok, woven: true });
          break;
        }
        plans.push({ ads, ok, woven: true }, { ads, ok, woven: false });
      }
    }
    // pi_0: P(k ads) exactly adCountPrior[k]; within k, sets tilted weakly toward relevance.
    const tilt = (p: Plan) => c.relevanceTilt * p.ads.reduce((s, a) => s + relevance[a]!, 0);
    const perK = new Array<number>(c.maxAds + 1).fill(-Infinity);
    for (const ads of subsets) {
      const t = tilt({ ads, ok: [], woven: true });
      const k = ads.length;
      perK[k] = perK[k] === -Infinity ? t : Math.max(perK[k]!, t) + Math.log1p(Math.exp(-Math.abs(perK[k]! - t)));
    }
    const logp0 = new Float64Array(plans.length);
    const base = new Float64Array(plans.length * NUM_SHAPE_FEATURES);
    const priorSum = c.adCountPrior.slice(0, Math.min(c.maxAds, n) + 1).reduce((s, x) => s + x, 0);
    plans.forEach((p, j) => {
      const k = p.ads.length;
      let lp = Math.log(c.adCountPrior[k]! / priorSum) - perK[k]! + tilt(p);
      for (const ok of p.ok) lp += Math.log(ok ? 1 - c.errorRate : c.errorRate);
      if (k > 0) lp += Math.log(p.woven ? c.wovenRate : 1 - c.wovenRate);
      logp0[j] = lp;
      const f = j * NUM_SHAPE_FEATURES;
      let pairs = 0;
      for (let a = 0; a < k; a++) for (let b = a + 1; b < k; b++) pairs += similar[p.ads[a]! * n + p.ads[b]!]!;
      base[f + 2] = p.ads.reduce((s, a) => s + relevance[a]!, 0);
      base[f + 3] = k;
      base[f + 4] = p.ok.filter((x) => !x).length;
      base[f + 5] = p.woven ? k : 0;
      base[f + 6] = pairs;
      base[f + 7] = Math.max(0, k - 1);
    });
    const slots = shortlist.map((k) => adSlot(input.ads[k]!.id));
    const table: PlanTable = { key, shortlist, relevance, clickGuess, similar, plans, logp0, base, slots, topic: topicOf(input.query) };
    if (this.tables.size > 5000) this.tables.clear();
    this.tables.set(key, table);
    return table;
  }

  /** phi(x, plan) for every plan, compactly (PlanFeatures), with the bid columns filled from this input's bids. */
  planFeatures(input: AuctionInput, t: PlanTable = this.table(input)): PlanFeatures {
    const D = NUM_SHAPE_FEATURES;
    const W = this.config.maxAds;
    const dense = new Float64Array(t.base);
    const slot = new Int16Array(t.plans.length * W).fill(-1);
    const value = new Float64Array(t.plans.length * W);
    const bids = t.shortlist.map((k) => input.ads[k]!.bid / 100);
    t.plans.forEach((p, j) => {
      let bid = 0;
      let guess = 0;
      let bidRel = 0;
      p.ads.forEach((a, k) => {
        if (!p.ok[k]) return;
        const b = bids[a]!;
        bid += b;
        guess += b * t.clickGuess[a]![p.woven ? 1 : 0];
        bidRel += b * t.relevance[a]!;
        slot[j * W + k] = t.slots[a]!;
        value[j * W + k] = b;
      });
      const o = j * D;
      dense[o] = guess * 10;
      dense[o + 1] = bid;
      dense[o + 8] = bidRel;
    });
    return { plans: t.plans.length, dense, width: W, slot, value };
  }

  /** phi(x, plan) for every plan as one dense matrix (row-major, NUM_FEATURES per plan). */
  features(input: AuctionInput, t: PlanTable = this.table(input)): Float64Array {
    return densePlanFeatures(this.planFeatures(input, t));
  }

  /** Normalized log pi_theta(plan | x) for every plan. */
  logProbs(input: AuctionInput, theta: ArrayLike<number>, t: PlanTable = this.table(input)): Float64Array {
    const lp = planScores(this.planFeatures(input, t), t.logp0, theta);
    const z = logSumExp(lp);
    for (let j = 0; j < lp.length; j++) lp[j]! -= z;
    return lp;
  }

  /**
   * The response text of a plan: deterministic given the input and the plan. The answer is an
   * introduction and tips about the question's topic; woven ads each get a sentence that ties them
   * to the topic, listed ads follow the answer one per line.
   */
  render(input: AuctionInput, plan: Plan, t: PlanTable = this.table(input)): string {
    const pieces = (t.pieces ??= this.pieces(input, t));
    if (plan.ads.length === 0) return `${pieces.head} ${pieces.tail}`.trimEnd();
    if (plan.woven) {
      let body = pieces.head;
      plan.ads.forEach((a, k) => (body += ` ${pieces.woven[a]![plan.ok[k] ? 0 : 1]}`));
      return `${body} ${pieces.tail}`.trimEnd();
    }
    let text = `${pieces.head} ${pieces.tail}`.trimEnd() + '\n\nYou might also like:';
    plan.ads.forEach((a, k) => (text += `\n- ${pieces.listed[a]![plan.ok[k] ? 0 : 1]}`));
    return text;
  }

  private pieces(input: AuctionInput, t: PlanTable): NonNullable<PlanTable['pieces']> {
    const h = hash32(input.query);
    const intro = INTROS[h % INTROS.length]!.replace('{topic}', t.topic);
    const tips = [TIPS[h % TIPS.length]!, TIPS[(h >>> 8) % TIPS.length]!].filter((x, k, all) => all.indexOf(x) === k);
    const woven: string[][] = [];
    const listed: string[][] = [];
    for (const k of t.shortlist) {
      const ad = input.ads[k]!;
      const adHash = hash32(`${input.query}|${ad.id}`);
      const forms = [insertion(ad), brokenInsertion(ad, input.ads, adHash)];
      const tpl = WOVEN[adHash % WOVEN.length]!.replace('{topic}', t.topic);
      woven.push(forms.map((f) => tpl.replace('@AD', f)));
      listed.push(forms);
    }
    return { head: `${intro} ${tips[0]}`, tail: tips[1] ?? '', woven, listed };
  }

  /** Draw plan indices from pi_theta. */
  samplePlans(input: AuctionInput, theta: ArrayLike<number>, n: number, seed: number): number[] {
    const t = this.table(input);
    const lp = this.logProbs(input, theta, t);
    const cdf = new Float64Array(lp.length);
    let acc = 0;
    for (let j = 0; j < lp.length; j++) cdf[j] = acc += Math.exp(lp[j]!);
    const rng = new Rng(seed);
    const out: number[] = [];
    for (let m = 0; m < n; m++) {
      const u = rng.uniform() * acc;
      let lo = 0;
      let hi = cdf.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cdf[mid]! > u) hi = mid;
        else lo = mid + 1;
      }
      out.push(lo);
    }
    return out;
  }

  /** An allocation rule with parameters theta (zeros: the pretrained model). */
  rule(theta: ArrayLike<number> = new Float64Array(NUM_FEATURES), name = 'embedded:pretrained'): EmbeddedRule {
    return new EmbeddedRule(this, Float64Array.from(theta), name);
  }
}

/** The dense NUM_FEATURES-wide matrix of compact plan features. */
export function densePlanFeatures(f: PlanFeatures): Float64Array {
  const D = NUM_SHAPE_FEATURES;
  const out = new Float64Array(f.plans * NUM_FEATURES);
  for (let j = 0; j < f.plans; j++) {
    for (let d = 0; d < D; d++) out[j * NUM_FEATURES + d] = f.dense[j * D + d]!;
    for (let k = 0; k < f.width; k++) {
      const s = f.slot[j * f.width + k]!;
      if (s >= 0) out[j * NUM_FEATURES + D + s]! += f.value[j * f.width + k]!;
    }
  }
  return out;
}

/** Unnormalized log pi_theta per plan: log pi_0 + theta · phi (theta's missing entries read as 0). */
export function planScores(f: PlanFeatures, logp0: Float64Array, theta: ArrayLike<number>): Float64Array {
  const D = NUM_SHAPE_FEATURES;
  const W = f.width;
  const th = new Float64Array(NUM_FEATURES);
  for (let d = 0; d < NUM_FEATURES; d++) th[d] = theta[d] ?? 0;
  const lp = new Float64Array(f.plans);
  for (let j = 0; j < f.plans; j++) {
    let s = logp0[j]!;
    for (let d = 0; d < D; d++) s += th[d]! * f.dense[j * D + d]!;
    for (let k = 0; k < W; k++) {
      const a = f.slot[j * W + k]!;
      if (a >= 0) s += th[D + a]! * f.value[j * W + k]!;
    }
    lp[j] = s;
  }
  return lp;
}

/** A deterministic broken variant of an insertion; each yields exactly one parser error. */
function brokenInsertion(ad: BiddedAd, all: readonly BiddedAd[], h: number): string {
  const title = displayTitle(ad.title);
  switch (BROKEN_KINDS[h % BROKEN_KINDS.length]) {
    case 'title': {
      const words = title.split(' ');
      const changed = words.length > 1 ? words.slice(0, -1).join(' ') : `${title} Pro`;
      return `@${changed}@[${ad.id}]`;
    }
    case 'id': {
      let id = `Ad-9${ad.id.slice(3)}`;
      while (all.some((a) => a.id === id)) id = `Ad-9${id.slice(3)}`;
      return `@${title}@[${id}]`;
    }
    case 'markup':
      return `${title} [${ad.id}]`;
    default:
      return `@${title}@`;
  }
}

/** pi_theta as an AllocationRule: sample and enumerate; also exposes plans for training. */
export class EmbeddedRule implements AllocationRule {
  readonly payment = 'first-price-click' as const;

  constructor(
    readonly policy: EmbeddedPolicy,
    readonly theta: Float64Array,
    readonly name: string,
  ) {}

  logProbs(input: AuctionInput): Float64Array {
    return this.policy.logProbs(input, this.theta);
  }

  async sample(input: AuctionInput, n: number, opts: SampleOptions = {}): Promise<string[]> {
    const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 31);
    const t = this.policy.table(input);
    return this.policy.samplePlans(input, this.theta, n, seed).map((j) => this.policy.render(input, t.plans[j]!, t));
  }

  async enumerate(input: AuctionInput): Promise<WeightedResponse[]> {
    const t = this.policy.table(input);
    const lp = this.logProbs(input);
    return t.plans.map((p, j) => ({ response: this.policy.render(input, p, t), prob: Math.exp(lp[j]!) }));
  }
}

/**
 * `embedded:never`: the null rule, whose only response is the embedded Ad-LLM's ad-free answer
 * (the plan with no ads). It reads only the prompt; Table 2 shows it so that "closing the gap"
 * is never credited for merely not inserting (the pretrained model pays for its format errors).
 */
export function neverInsertRule(policy: EmbeddedPolicy): AllocationRule {
  const respond = (input: AuctionInput) => {
    const t = policy.table(input);
    return policy.render(input, t.plans.find((p) => p.ads.length === 0)!, t);
  };
  return {
    name: 'embedded:never',
    payment: 'first-price-click',
    async sample(input: AuctionInput, n: number): Promise<string[]> {
      return Array.from({ length: n }, () => respond(input));
    },
    async enumerate(input: AuctionInput): Promise<WeightedResponse[]> {
      return [{ response: respond(input), prob: 1 }];
    },
  };
}
