/**
 * A toy language model for the fake OpenAI server (fake-openai-server.ts), with known answer
 * probabilities that depend on the bids, so tests can check scored log-probabilities exactly.
 *
 * The model: given an Ad-LLM prompt, it writes "Toy answer." and then, for each candidate in the
 * order listed, " See @Title@[ID]." with probability q(bid) (independently), then ends its turn.
 * It samples at the request's temperature (each insertion probability p becomes
 * p^(1/T) / (p^(1/T) + (1-p)^(1/T))); top_p and top_k are ignored.
 *
 * Its tokenizer splits text into runs of spaces and runs of other characters (so decoding is exact),
 * ids from 10 up in order of first sight; chat template: USER content END, ASSISTANT content END,
 * with ASSISTANT alone as the generation prompt. Scoring (`/v1/completions` with prompt_logprobs or
 * echo) reports the answer's log-probability split over its first token and the END after it, so a
 * scorer that leaves out the end-of-turn token gets half of it.
 *
 * How the scores relate to the sampler: `exact`; `bid-blind`, as if every bid were 50 (a server
 * scoring another prompt); `flattened`, each insertion probability pulled halfway to 1/2 (another
 * model, or scores at another temperature).
 */
import { createHash } from 'node:crypto';

export const TOY = { BOS: 0, USER: 1, ASSISTANT: 2, END: 3 } as const;
const SPECIAL = ['<s>', '<|user|>', '<|assistant|>', '<|end|>'];

export type ToyScoring = 'exact' | 'bid-blind' | 'flattened';

export interface ToyOptions {
  /** Insertion probability of an ad at this bid (default a logistic ramp, scale 10 bids, centre 50). */
  q?: (bid: number) => number;
  scoring?: ToyScoring;
  /** false: /v1/completions ignores prompt_logprobs and echo (as llama.cpp's server and Ollama do). */
  promptLogprobs?: boolean;
  /** false: no /tokenize route (404). */
  tokenize?: boolean;
}

export const toyRamp = (bid: number) => 1 / (1 + Math.exp(-(bid - 50) / 10));

export class ToyTokenizer {
  private readonly ids = new Map<string, number>();
  private readonly words: string[] = [...SPECIAL, '', '', '', '', '', ''];

  encode(text: string): number[] {
    return (text.match(/\s+|\S+/g) ?? []).map((w) => {
      let id = this.ids.get(w);
      if (id === undefined) {
        id = this.words.length;
        this.ids.set(w, id);
        this.words.push(w);
      }
      return id;
    });
  }

  decode(ids: readonly number[]): string {
    return ids.map((i) => this.words[i] ?? '').join('');
  }

  chat(messages: readonly { role: string; content: string }[], generationPrompt: boolean): number[] {
    const out: number[] = [];
    for (const m of messages) out.push(m.role === 'assistant' ? TOY.ASSISTANT : TOY.USER, ...this.encode(m.content), TOY.END);
    if (generationPrompt) out.push(TOY.ASSISTANT);
    return out;
  }
}

/** The candidates of an Ad-LLM prompt with their bids. */
export function toyCandidates(prompt: string): { id: string; title: string; bid: number }[] {
  const out: { id: string; title: string; bid: number }[] = [];
  for (const line of prompt.split('\n')) {
    const t = line.trim();
    if (!t.startsWith('{')) continue;
    try {
      const o = JSON.parse(t) as Record<string, unknown>;
      if (typeof o['Ad ID'] === 'string' && typeof o['Ad Title'] === 'string' && typeof o['Ad Bid'] === 'number') out.push({ id: o['Ad ID'], title: o['Ad Title'], bid: o['Ad Bid'] });
    } catch {
      // not a candidate line
    }
  }
  return out;
}

const toyAdText = (ad: { id: string; title: string }) => ` See @${ad.title}@[${ad.id}].`;

/** One sampled answer: uniforms from (prompt, seed, index, candidate). */
export function toySample(prompt: string, seed: number | string, index: number, temperature: number, q = toyRamp): string {
  let text = 'Toy answer.';
  toyCandidates(prompt).forEach((ad, j) => {
    const u = parseInt(createHash('sha256').update(`${prompt}\u0000${seed}\u0000${index}\u0000${j}`).digest('hex').slice(0, 13), 16) / 2 ** 52;
    const p = q(ad.bid);
    const a = p ** (1 / temperature);
    const pt = a / (a + (1 - p) ** (1 / temperature));
    if (u < pt) text += toyAdText(ad);
  });
  return text;
}

/** log pi(answer | prompt) at temperature 1, as the scoring says; -30 per word for a text the toy never writes. */
export function toyLogProb(prompt: string, answer: string, scoring: ToyScoring = 'exact', q = toyRamp): number {
  let rest = answer;
  if (!rest.startsWith('Toy answer.')) return -30 * Math.max(1, answer.split(/\s+/).length);
  rest = rest.slice('Toy answer.'.length);
  let lp = 0;
  for (const ad of toyCandidates(prompt)) {
    let p = q(scoring === 'bid-blind' ? 50 : ad.bid);
    if (scoring === 'flattened') p = (p + 0.5) / 2;
    const t = toyAdText(ad);
    const shown = rest.startsWith(t);
    if (shown) rest = rest.slice(t.length);
    lp += Math.log(shown ? p : 1 - p);
  }
  return rest === '' ? lp : -30 * Math.max(1, answer.split(/\s+/).length);
}

/**
 * Per-position log-probabilities of a token-id prompt (null first, as vLLM gives): the answer
 * after the last ASSISTANT carries its log-probability, half on its first token and half on the
 * END that follows it (0 there when no END follows); other positions -1.
 */
export function toyPromptLogprobs(tok: ToyTokenizer, ids: readonly number[], scoring: ToyScoring, q = toyRamp): (number | null)[] {
  const out: (number | null)[] = ids.map((_, i) => (i === 0 ? null : -1));
  const a = ids.lastIndexOf(TOY.ASSISTANT);
  const u = ids.lastIndexOf(TOY.USER, a);
  if (a < 0 || u < 0) return out;
  const userEnd = ids.indexOf(TOY.END, u);
  const prompt = tok.decode(ids.slice(u + 1, userEnd < 0 ? a : userEnd));
  const endAt = ids.indexOf(TOY.END, a + 1);
  const answerIds = ids.slice(a + 1, endAt < 0 ? ids.length : endAt);
  for (let i = a + 1; i < (endAt < 0 ? ids.length : endAt + 1); i++) out[i] = 0;
  const lp = toyLogProb(prompt, tok.decode(answerIds), scoring, q);
  if (answerIds.length > 0) out[a + 1] = lp / 2;
  if (endAt >= 0) out[endAt] = lp / 2;
  return out;
}
