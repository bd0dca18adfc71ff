/**
 * The `openai:` Ad-LLM: an allocation rule that asks an OpenAI-compatible endpoint for n
 * responses to the ad prompt, splitting n over as many requests as the server allows.
 */
import { buildAdPrompt } from '../../mechanism/prompt.ts';
import { deriveSeed } from '../../lib/rng.ts';
import type { AllocationRule, AuctionInput, SampleOptions } from '../../mechanism/types.ts';
import { ChatClient, OpenAIBackendError, type ChatMessage, type ChatResult, type UsageStats } from './chat-client.ts';
import type { OpenAIConfig, OpenAIConfigInput } from './openai-config.ts';
import { createPromptScorer, type PromptScorer } from './prompt-scorer.ts';
import { createChatClient } from './replica-pool.ts';

export interface OpenAIRule extends AllocationRule {
  readonly config: OpenAIConfig;
  readonly client: ChatClient;
  stats(): UsageStats;
  /** With `score` on: the answers' log-probabilities at any bids (prompt-scorer.ts), behind `logProb`. */
  readonly scorer?: PromptScorer;
}

/** Sizes of the requests that together ask for n responses, none above cap. */
export function splitN(n: number, cap: number): number[] {
  const sizes: number[] = [];
  for (let left = n; left > 0; left -= Math.min(cap, left)) sizes.push(Math.min(cap, left));
  return sizes;
}

/** A 400 that says the server does not allow several choices per request (llama.cpp, some OpenAI models). */
function rejectsMultipleChoices(e: unknown): boolean {
  return e instanceof OpenAIBackendError && e.status === 400 && /\bn\b|choice/i.test(e.message);
}

export function createOpenAIRule(configInput: OpenAIConfigInput | OpenAIConfig): OpenAIRule {
  // One endpoint, or a pool over the replicas of `openai:URL1|URL2|…` (replica-pool.ts).
  const client = createChatClient(configInput);
  const config = client.config;
  // Lowered when the server turns out to return fewer choices than asked, so later requests ask
  // for what it will give.
  let cap = config.maxNPerRequest;

  async function fill(messages: ChatMessage[], k: number, size: number, seed: number | undefined): Promise<string[]> {
    const out: string[] = [];
    for (let round = 0; out.length < size; round++) {
      const want = Math.min(size - out.length, cap);
      // Each request gets its own seed: the same seed on two requests would repeat the same texts.
      const s = seed === undefined ? undefined : deriveSeed(seed, 'openai', k, round);
      let r: ChatResult;
      try {
        r = await client.chat(messages, { n: want, seed: s });
      } catch (e) {
        if (want > 1 && rejectsMultipleChoices(e)) {
          cap = 1;
          continue;
        }
        throw e;
      }
      out.push(...r.texts.slice(0, want));
      if (r.texts.length < want) cap = Math.max(1, Math.min(cap, r.texts.length));
    }
    return out;
  }

  const messagesFor = (input: AuctionInput): ChatMessage[] => [{ role: 'user', content: buildAdPrompt(input) }];
  // Scored through the first replica: every replica serves the same model.
  const scorer = config.score === 'off' ? undefined : createPromptScorer(config, messagesFor);

  return {
    name: config.name ?? `openai:${config.model}`,
    config,
    client,
    stats: () => client.stats(),
    ...(scorer ? { scorer, logProb: (input: AuctionInput, response: string) => scorer.logProb(input, response) } : {}),
    async sample(input: AuctionInput, n: number, opts: SampleOptions = {}): Promise<string[]> {
      if (!Number.isInteger(n) || n < 0) throw new RangeError(`sample: n must be a non-negative integer, got ${n}`);
      if (n === 0) return [];
      const messages = messagesFor(input);
      const parts = await Promise.all(splitN(n, cap).map((size, k) => fill(messages, k, size, opts.seed)));
      return parts.flat();
    },
  };
}
