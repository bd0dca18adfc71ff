/**
 * One schema per file format of the contract (JSON Lines), with the rules a line must satisfy.
 * Loaders (loaders.ts, through lib/jsonl.ts) run these and turn the first problem into a one-line error.
 */
import { z } from 'zod';
import { UsageError } from '../lib/errors.ts';

/** Ad ids look like `Ad-0001`: the prefix `Ad-`, then letters, digits, `_` or `-`. */
export const AD_ID_PATTERN = /^Ad-[A-Za-z0-9_-]+$/;

/** Messages for a value of the wrong type: a missing field says so, rather than "expected string". */
const typeError = (expected: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? 'is required' : `must be ${expected}`;

export const adId = z
  .string({ error: typeError('a string') })
  .regex(AD_ID_PATTERN, { error: 'must look like "Ad-0001" (the prefix "Ad-" then letters, digits, "_" or "-")' });

const nonEmpty = (what: string) =>
  z.string({ error: typeError('a string') }).refine((s) => s.trim().length > 0, { error: `${what} must not be empty` });

/** A bid: a finite, non-negative number (JSON's 1e999 parses to Infinity and is refused here). */
export const bid = z
  .number({
    error: (issue) =>
      issue.input === undefined
        ? 'is required'
        : typeof issue.input === 'number' && Number.isNaN(issue.input)
          ? 'bid is NaN'
          : typeof issue.input === 'number'
            ? 'bid must be finite'
            : 'bid must be a number',
  })
  .refine((b) => b >= 0, { error: 'bid must not be negative' });

export const catalogLine = z
  .object({
    id: adId.describe('Ad id, e.g. "Ad-0001"'),
    title: nonEmpty('title').describe('The ad title; an inserted ad must repeat it exactly'),
    description: z.string().optional().describe('What the product is'),
    category: z.string().optional().describe('A readable category, e.g. "Coffee & Tea"'),
  })
  .passthrough();

export const profileLine = z
  .object({
    id: nonEmpty('id').describe('Profile id, e.g. "U-0001"'),
    info: nonEmpty('info').describe('Basic information about the user'),
    interests: z.array(nonEmpty('interest'), { error: typeError('an array of strings') }).describe('Personal interests'),
  })
  .passthrough();

export const queryLine = z
  .object({
    id: nonEmpty('id').describe('Query id, e.g. "Q-00001"'),
    profile_id: nonEmpty('profile_id').describe('Id of the profile that asks this query'),
    text: nonEmpty('text').describe('The question the user asks the assistant'),
    split: z.enum(['train', 'test'], { error: (issue) => (issue.input === undefined ? 'is required' : 'must be "train" or "test"') }),
  })
  .passthrough();

export const biddedAd = z.object({
  id: adId,
  title: nonEmpty('title'),
  bid,
});

/** One auction on a line: the input an allocation rule sees (used by `verify` and `simulate` files). */
export const auctionLine = z
  .object({
    id: z.string().optional(),
    query: nonEmpty('query'),
    profile: profileLine,
    ads: z.array(biddedAd, { error: typeError('an array of {"id","title","bid"}') }).min(1, { error: 'ads must not be empty' }),
  })
  .passthrough();

/** The `--ads` file of `parse`: a JSON array of {"id","title"} (a bid is allowed and ignored). */
export const adRef = z
  .object({ id: adId, title: nonEmpty('title'), bid: bid.optional() })
  .passthrough();

export type CatalogLine = z.infer<typeof catalogLine>;
export type ProfileLine = z.infer<typeof profileLine>;
export type QueryLine = z.infer<typeof queryLine>;
export type AuctionLine = z.infer<typeof auctionLine>;

/**
 * Validate a component's config object (backends, judges): the first bad field becomes one
 * UsageError, `LABEL: FIELD: what is wrong`; `fieldNames` maps schema keys to the names users type.
 */
export function validatedConfig<S extends z.ZodType>(schema: S, input: unknown, label: string, fieldNames: Record<string, string> = {}): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const key = String(issue.path[0] ?? '');
  throw new UsageError(`${label}: ${fieldNames[key] ?? key}: ${issue.message}`);
}
