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

/** The longest id of an ad, profile or query: ids are keys, not text. */
export const MAX_ID_CHARS = 64;

export const adId = z
  .string({ error: typeError('a string') })
  .max(MAX_ID_CHARS, { error: `must be at most ${MAX_ID_CHARS} characters` })
  .regex(AD_ID_PATTERN, { error: 'must look like "Ad-0001" (the prefix "Ad-" then letters, digits, "_" or "-")' });

/** A lone UTF-16 surrogate (JSON's "\ud800") is not a character: no UTF-8 file can hold it. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** Control characters other than tab and line breaks (NUL, escape…): never text. */
const CONTROL_CHAR = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;
/** In a one-line field (a title, an id) line breaks and tabs are control characters too. */
const CONTROL_OR_BREAK = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** Text of a record: valid Unicode without control characters (line breaks allowed unless `oneLine`). */
const text = (oneLine = false) =>
  z
    .string({ error: typeError('a string') })
    .refine((s) => !LONE_SURROGATE.test(s), { error: 'contains a lone surrogate (not valid Unicode text)' })
    .refine((s) => !(oneLine ? CONTROL_OR_BREAK : CONTROL_CHAR).test(s), { error: `contains a control character (NUL, escape${oneLine ? ', a line break' : ''}, …)` });

const nonEmpty = (what: string, oneLine = false) => text(oneLine).refine((s) => s.trim().length > 0, { error: `${what} must not be empty` });

/** An id of a profile or query: non-empty, on one line, at most MAX_ID_CHARS. */
const anId = (what: string) => nonEmpty(what, true).refine((s) => s.length <= MAX_ID_CHARS, { error: `must be at most ${MAX_ID_CHARS} characters` });

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
    title: nonEmpty('title', true).describe('The ad title; an inserted ad must repeat it exactly (its display form: "@", "[" and "]" are shown as "(at)", "(" and ")")'),
    description: text().optional().describe('What the product is'),
    category: text().optional().describe('A readable category, e.g. "Coffee & Tea"'),
  })
  .strict();

export const profileLine = z
  .object({
    id: anId('id').describe('Profile id, e.g. "U-0001"'),
    info: nonEmpty('info').describe('Basic information about the user'),
    interests: z.array(nonEmpty('interest'), { error: typeError('an array of strings') }).describe('Personal interests'),
  })
  .strict();

export const queryLine = z
  .object({
    id: anId('id').describe('Query id, e.g. "Q-00001"'),
    profile_id: anId('profile_id').describe('Id of the profile that asks this query'),
    text: nonEmpty('text').describe('The question the user asks the assistant'),
    split: z.enum(['train', 'test'], { error: (issue) => (issue.input === undefined ? 'is required' : 'must be "train" or "test"') }),
  })
  .strict();

export const biddedAd = z.object({
  id: adId,
  title: nonEmpty('title', true),
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
  .object({ id: adId, title: nonEmpty('title', true), bid: bid.optional() })
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
