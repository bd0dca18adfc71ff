/**
 * The auction model of LLM-native advertising (paper, section 3).
 *
 * A query x from a user with profile h arrives with n candidate ads a_1..a_n, each with a bid b_i.
 * The allocation rule pi (an LLM) maps (x, h, a, b) to a distribution over responses y; a response
 * exposes an ad by writing it inline as `@Ad Title@[Ad ID]`. The user clicks some exposures, and the
 * payment rule charges advertisers. These are the plain data types every module shares.
 */

/** An ad of the catalog. `id` has the form `Ad-…`. */
export interface Ad {
  id: string;
  title: string;
  description?: string;
  category?: string;
}

/** A candidate ad in one auction: the ad with its advertiser's bid (value per click reported). */
export interface BiddedAd {
  id: string;
  title: string;
  bid: number;
}

/** A user profile: basic information and interests (paper, section 5.2.1). */
export interface Profile {
  id: string;
  info: string;
  interests: string[];
}

export type Split = 'train' | 'test';

/** A user query, tied to the profile of the user who asks it. */
export interface Query {
  id: string;
  profile_id: string;
  text: string;
  split: Split;
}

/** One auction: everything the allocation rule sees (the contract's `input`). */
export interface AuctionInput {
  query: string;
  profile: Profile;
  ads: BiddedAd[];
}

/** Options for drawing responses; a seed makes a draw reproducible where the backend allows it. */
export interface SampleOptions {
  seed?: number;
}

/** One response with its probability, for rules that can enumerate their response distribution. */
export interface WeightedResponse {
  response: string;
  prob: number;
}

/**
 * A price per click posted before the user clicks: GSP's slot (the top k by bid x quality, each at
 * the least bid that keeps its rank), or MOSAIC's Rochet payment posted per click. The `gsp`
 * payment rule charges `price` for each click on a validly exposed ad that holds one.
 */
export interface GspSlot {
  id: string;
  bid: number;
  /** GSP: the predicted CTR the ad was ranked with; Rochet: the ad's expected clicks. */
  quality: number;
  /** bid x quality: the rank score (GSP) or the reported value of the allocation (Rochet). */
  score: number;
  /** Price per click, never above the bid. */
  price: number;
}

/** One response with the per-click prices its settlement charges, where the rule posts any. */
export interface PricedResponse {
  response: string;
  slots?: GspSlot[];
}

/** Request fields beside the seed that a rule may honour when it samples (`serve` passes them through). */
export type SamplingField = 'temperature' | 'top_p' | 'top_k' | 'max_tokens';

/** Values of those fields, in the rule's own spelling (`top_k` null: no top-k cut). */
export interface SamplingOverrides {
  temperature?: number;
  topP?: number;
  topK?: number | null;
  maxTokens?: number;
  /** Aborts the generation (serve passes one that fires when the client goes away). */
  signal?: AbortSignal;
}

/** What a rule backed by a model reports about its calls; each backend counts what it can. */
export interface BackendUsage {
  requests?: number;
  retries?: number;
  failures?: number;
  cacheHits?: number;
  completionTokens?: number;
  /** Tokens of responses served from a cache: what the run would have generated without it. */
  cachedCompletionTokens?: number;
}

/**
 * An allocation rule pi(.|x,h,a,b): the module interface of the contract. `sample` draws n
 * independent responses for one auction. `enumerate`, when present, gives the whole response
 * distribution, so ITCTR and the properties can be computed exactly instead of estimated.
 *
 * The other optional members are abilities some rules have; callers test for them and fall back
 * to the plain behaviour when they are absent.
 */
export interface AllocationRule {
  name: string;
  payment?: PaymentRuleName;
  sample(input: AuctionInput, n: number, opts?: SampleOptions): Promise<string[]>;
  enumerate?(input: AuctionInput): Promise<WeightedResponse[]>;
  /**
   * log pi(response | input): the probability this rule gives the response text, at any bids
   * (-Infinity when it cannot write it). Optional; the property checks reweight one sampled
   * response to other bids with it (properties/weighted.ts), and test that the weights average 1.
   */
  logProb?(input: AuctionInput, response: string): Promise<number>;
  /** Ad-LLM generations behind one response (MOSAIC draws n candidates per output); 1 when absent. */
  generationsPerResponse?: number;
  /**
   * A pre-generation allocation (GSP): the slots of the auction, fixed before any response is
   * written, so every response of the auction is settled at their prices.
   */
  slots?(input: AuctionInput): GspSlot[];
  /**
   * Responses with prices posted for each of them (MOSAIC's Rochet payment, computed from each
   * output's own candidates). Settlement draws through this instead of `sample` when present.
   */
  samplePriced?(input: AuctionInput, n: number, opts?: SampleOptions): Promise<PricedResponse[]>;
  /** The sampling fields `sample` and `sampleWithFinish` honour beside the seed. */
  samplingOptions?: readonly SamplingField[];
  /** `sample` with why each generation ended ('length': cut by max_tokens), for finish_reason. */
  sampleWithFinish?(input: AuctionInput, n: number, opts?: SampleOptions & SamplingOverrides): Promise<{ texts: string[]; finishReasons: ('stop' | 'length')[] }>;
  /**
   * What serving this rule can take: its cap on generated tokens and how many requests it runs at
   * once (a local model: one). `serve` publishes it in /v1/models, and an `openai:` client of that
   * server sizes its defaults by it.
   */
  servingLimits?: { maxTokens: number | null; parallel: number };
  /** Work counters: a backend's call and token usage (a method), or a wrapper's own tallies (a record). */
  stats?: (() => BackendUsage) | Readonly<Record<string, number>>;
  /**
   * The same rule with a LoRA adapter on its model (a PEFT adapter directory or a GGUF LoRA
   * file), named `name`; rejects when the adapter cannot be loaded. Rules over a local model
   * (`local:`) have it; `serve` hot-loads trained adapters through it.
   */
  withAdapter?(name: string, adapterPath: string): Promise<AdapterRule>;
}

/** A rule running with a LoRA adapter, from `withAdapter`. */
export interface AdapterRule extends AllocationRule {
  /** The GGUF LoRA file the model runs with (a PEFT directory's converted copy). */
  readonly adapterFile: string;
  /** Free what the adapter holds (its model context); the rule must not be used afterwards. */
  release(): Promise<void>;
}

/** A valid exposure: an insertion whose id is a candidate and whose title is the candidate's. */
export interface Exposure {
  id: string;
  title: string;
  /** Character offsets of the whole `@Title@[Id]` markup in the response. */
  start: number;
  end: number;
}

export type FormatErrorKind = 'unknown_id' | 'title_mismatch' | 'malformed' | 'duplicate';

/** An insertion attempt that does not count as an exposure; each one is penalized. */
export interface FormatError {
  kind: FormatErrorKind;
  text: string;
  start: number;
  end: number;
}

/** What the response parser finds in one response. */
export interface ParsedResponse {
  exposures: Exposure[];
  errors: FormatError[];
}

/** Click feedback for one response: the ids of the exposed ads the user clicked. */
export interface ClickFeedback {
  clicked: string[];
  /** Per exposed ad, the click probability the click model assigned (ctr_i(x,h,a_i,y)). */
  probabilities?: Record<string, number>;
}

export type PaymentRuleName = 'first-price-click' | 'first-price-impression' | 'gsp';

export type ChargeEvent = 'click' | 'impression';

/** One line of the ledger: who was charged what, for which event, in which auction. */
export interface Charge {
  query_id: string;
  sample: number;
  ad_id: string;
  bid: number;
  event: ChargeEvent;
  amount: number;
}

/** An advertiser who maximizes quasi-linear utility u = v * itctr - p (Def. 3.3). */
export interface UtilityMaximizer {
  kind: 'utility';
  adId: string;
  value: number;
}

/** An advertiser who maximizes value v * itctr subject to v * itctr >= tau * p (Def. 3.4). */
export interface ValueMaximizer {
  kind: 'value';
  adId: string;
  value: number;
  targetRoi: number;
}

export type Advertiser = UtilityMaximizer | ValueMaximizer;
