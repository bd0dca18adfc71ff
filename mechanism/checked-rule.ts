/**
 * A rule written by someone else (a `module:` file) is checked at its edges before anything is
 * computed on what it returns: `sample` must give exactly n strings, `enumerate` a probability
 * distribution over strings (no NaN, none negative or above 1, summing to 1), and every call must
 * settle within a time limit. A rule that breaks one of these is refused with one line naming the
 * rule, the method and what is wrong, so no verdict or bench row is ever computed on it.
 */
import { UsageError } from '../lib/errors.ts';
import type { AllocationRule, AuctionInput, SampleOptions, WeightedResponse } from './types.ts';

/** How far the probabilities of an enumeration may sum from 1 (relative), for rounding. */
export const PROB_SUM_TOLERANCE = 1e-6;

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  return typeof x === 'object' ? 'an object' : `a ${typeof x}`;
}

const queryOf = (input: AuctionInput) => JSON.stringify(input.query.length > 40 ? `${input.query.slice(0, 40)}…` : input.query);

/** Throws a UsageError unless `dist` is a distribution over response strings. */
export function checkDistribution(name: string, dist: unknown, input: AuctionInput): asserts dist is WeightedResponse[] {
  const at = `mechanism ${name}: enumerate() on query ${queryOf(input)}`;
  if (!Array.isArray(dist)) throw new UsageError(`${at} must return an array of {response, prob}, got ${describe(dist)}`);
  if (dist.length === 0) throw new UsageError(`${at} returned an empty distribution`);
  let total = 0;
  for (let k = 0; k < dist.length; k++) {
    const item = dist[k] as { response?: unknown; prob?: unknown } | null;
    if (item === null || typeof item !== 'object') throw new UsageError(`${at}: entry [${k}] is ${describe(item)}, not {response, prob}`);
    if (typeof item.response !== 'string') throw new UsageError(`${at}: entry [${k}].response is ${describe(item.response)}, not a string`);
    const p = item.prob;
    if (typeof p !== 'number') throw new UsageError(`${at}: entry [${k}].prob is ${describe(p)}, not a number`);
    if (Number.isNaN(p)) throw new UsageError(`${at}: entry [${k}].prob is NaN`);
    if (p < 0 || p > 1) throw new UsageError(`${at}: entry [${k}].prob is ${p}, outside [0, 1]`);
    total += p;
  }
  if (!(Math.abs(total - 1) <= PROB_SUM_TOLERANCE)) throw new UsageError(`${at}: the probabilities sum to ${total}, not 1`);
}

/** Throws a UsageError unless `responses` is exactly n strings. */
export function checkSample(name: string, responses: unknown, n: number, input: AuctionInput): asserts responses is string[] {
  const at = `mechanism ${name}: sample()`;
  const where = ` (query ${queryOf(input)})`;
  if (!Array.isArray(responses)) throw new UsageError(`${at} must return an array of strings, got ${describe(responses)}${where}`);
  if (responses.length !== n) throw new UsageError(`${at} returned ${responses.length} responses for ${n} requested${where}`);
  const bad = responses.findIndex((r) => typeof r !== 'string');
  if (bad >= 0) throw new UsageError(`${at} response [${bad}] is ${describe(responses[bad])}, not a string${where}`);
}

/** `p`, or a UsageError when it has not settled after `ms` (0: no limit). */
export async function withinTime<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  if (!(ms > 0)) return p;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new UsageError(`${what} did not settle within ${ms / 1000} s (a rule's call must return; LLM_AUCTION_MODULE_TIMEOUT_S sets the limit)`)), ms);
    timer.unref?.();
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** A rule's own failure as one line naming it; ours (usage, input, endpoint errors) pass as they are. */
function rethrow(e: unknown, name: string, method: string, input: AuctionInput): never {
  if (e instanceof Error && (e.name === 'OpenAIBackendError' || e.name === 'UsageError' || e.name === 'InputError')) throw e;
  const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
  throw new UsageError(`mechanism ${name}: ${method}() failed on query ${queryOf(input)}: ${why}`);
}

/**
 * The rule with its `sample` and `enumerate` checked on every call and bounded in time. Only
 * those two methods and the rule's name and payment are kept: a module declares no other ability.
 */
export function checkedRule(rule: AllocationRule, timeoutMs: number): AllocationRule {
  const name = rule.name;
  const sample = rule.sample.bind(rule);
  const out: AllocationRule = {
    name,
    async sample(input: AuctionInput, n: number, opts?: SampleOptions): Promise<string[]> {
      const responses: unknown = await withinTime(Promise.resolve().then(() => sample(input, n, opts)), timeoutMs, `mechanism ${name}: sample()`).catch((e: unknown) => rethrow(e, name, 'sample', input));
      checkSample(name, responses, n, input);
      return responses;
    },
  };
  if (rule.payment !== undefined) out.payment = rule.payment;
  if (typeof rule.enumerate === 'function') {
    const enumerate = rule.enumerate.bind(rule);
    out.enumerate = async (input: AuctionInput) => {
      const dist: unknown = await withinTime(Promise.resolve().then(() => enumerate(input)), timeoutMs, `mechanism ${name}: enumerate()`).catch((e: unknown) => rethrow(e, name, 'enumerate', input));
      checkDistribution(name, dist, input);
      return dist;
    };
  }
  return out;
}
