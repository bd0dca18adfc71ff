/**
 * The run directory's result files, bench.json and verify.json, defined once. `bench` and `verify`
 * type what they write with the types inferred here, and `report` validates what it reads with the
 * same schemas, so a field added on one side cannot be missing on the other.
 *
 * Readers take files written by earlier versions too: the fields added since may be absent there,
 * so the read schemas are the write schemas with those fields made optional, and unknown fields kept.
 */
import { z } from 'zod';
import type { PropertyReport, Verdict } from '../properties/types.ts';

const Ci = z.tuple([z.number(), z.number()]);

const PairedDifferenceSchema = z.object({
  against: z.string().describe('The row compared against, on the same queries and bids'),
  reward_diff: z.number(),
  reward_diff_ci95: Ci,
  revenue_diff: z.number(),
  revenue_diff_ci95: Ci,
});
export type PairedDifference = z.infer<typeof PairedDifferenceSchema>;

const BenchRowSchema = z.object({
  mechanism: z.string(),
  name: z.string(),
  label: z.string().describe('What Table 2 calls the mechanism ("Pretrained LLM", "LLM-Auction (pCTR)"…); the report shows it'),
  queries: z.number(),
  exact: z
    .boolean()
    .describe('true: every per-query figure is the exact expectation over the rule\'s enumerated responses; false: one sampled response per query'),
  clicks: z
    .enum(['expected', 'drawn'])
    .optional()
    .describe('How a sampled row\'s response is scored: "expected" (revenue is price x click probability, as the reward already is), "drawn" (what was charged for drawn clicks; bench files before this field)'),
  revenue_per_query: z.number(),
  revenue_ci95: Ci,
  reward_per_query: z.number(),
  reward_ci95: Ci,
  generations_per_query: z.number(),
  tokens_per_query: z.number(),
  ads_per_response: z.number(),
  format_errors_per_response: z.number(),
  gap_closed: z.number().optional().describe('Share of the reward gap between gap_from (the strongest prompt-only row; embedded:pretrained in bench files before issue #22) and gap_reference this row closes'),
  gap_reference: z.string().optional(),
  gap_from: z.string().optional().describe('The strongest prompt-only row of the bench, where gap closed is 0 (evaluation/gap.ts)'),
  prompt_only: z.boolean().optional().describe('The mechanism reads only the prompt: no clicks, no click logs, no user model (as its kind declares)'),
  paired: z.array(PairedDifferenceSchema).optional().describe('Differences to Pretrained, MOSAIC and --paired-with rows, per query, with 95% intervals over queries'),
});
export type BenchRow = z.infer<typeof BenchRowSchema>;

export const BenchFileSchema = z.object({
  seed: z.number(),
  world_seed: z.number().optional().describe('Written by demo, which builds its own world; bench leaves it out'),
  queries: z.string(),
  limit: z.number().nullable(),
  rows: z.array(BenchRowSchema),
});
export type BenchFile = z.infer<typeof BenchFileSchema>;

/** A verdict as written (properties/types.ts `Verdict`); the details are kept as they are. */
const VerdictSchema = z.looseObject({
  verdict: z.enum(['pass', 'fail', 'inconclusive', 'holds-by-construction']),
  samples: z.number(),
  p_value: z.number().nullable(),
  counterexample: z.record(z.string(), z.unknown()).nullable(),
  reason: z.string().optional(),
  details: z.looseObject({ mode: z.string().optional(), cases: z.number().optional(), effect: z.number().optional() }).optional(),
});

/** A report-only property's measurement (properties/types.ts `PropertyReport`), kept as it is. */
const PropertyReportSchema = z.looseObject({ property: z.string(), report: z.literal(true) });

export const VerifyFileSchema = z.object({
  mechanism: z.string(),
  alpha: z.number().describe('Family-wise over the tested properties'),
  alpha_per_property: z.number().describe('The level each tested property ran at: alpha / the number tested'),
  tested: z.array(z.string()).describe('The properties that spent alpha (not settled by construction)'),
  budget: z.number().optional().describe('The cap every property ran under when --budget was given'),
  budgets: z.record(z.string(), z.number()).describe('The cap each tested property ran under'),
  seed: z.number(),
  properties: z.record(z.string(), VerdictSchema),
  reports: z.record(z.string(), PropertyReportSchema).optional(),
});
/** `T`, refused by the compiler unless every `T` fits `U`. */
type Fits<T extends U, U> = T;
/** The fields a loose schema names, without the index signature that keeps the rest. */
type Named<S extends z.ZodObject> = z.input<z.ZodObject<S['shape']>>;
/**
 * What verify writes: the schema's shape, with the verdicts and reports typed as the properties
 * make them, and those types checked against the schema so report can read what verify writes.
 */
export type VerifyResult = Omit<z.infer<typeof VerifyFileSchema>, 'properties' | 'reports'> & {
  properties: Record<string, Fits<Verdict, Named<typeof VerdictSchema>>>;
  reports?: Record<string, Fits<PropertyReport, Named<typeof PropertyReportSchema>>>;
};

// ---- Reading: the same schemas, lenient on the fields earlier versions did not write. ----------

export const BenchRowRead = BenchRowSchema.partial({ name: true, label: true, exact: true, ads_per_response: true, format_errors_per_response: true }).loose();
export type BenchRowRead = z.infer<typeof BenchRowRead>;
export const BenchFileRead = BenchFileSchema.partial({ seed: true, queries: true, limit: true }).extend({ rows: z.array(BenchRowRead) }).loose();
export type BenchFileRead = z.infer<typeof BenchFileRead>;
export type VerdictRead = z.infer<typeof VerdictSchema>;
export const VerifyFileRead = VerifyFileSchema.partial({ alpha_per_property: true, tested: true, budgets: true, seed: true }).loose();
export type VerifyFileRead = z.infer<typeof VerifyFileRead>;
