/**
 * llm-auction as a library: what `import { verify, bench } from 'llm-auction'` gives a user's own
 * repository. Each function returns data and writes files only where asked (`out`, `json`); each
 * takes an AbortSignal (`signal`: the run stops at its next progress report, rejecting with the
 * signal's reason) and a progress callback (`onProgress`). A mechanism is a spec, as `-m` takes it
 * (`embedded:pretrained`, `mosaic:20`, `module:./my-rule.ts`, `openai:URL?model=…`), or an object
 * implementing the allocation-rule interface (`AllocationRule`: a name and `sample`, optionally
 * `enumerate` for exact answers).
 *
 * The commands call the same functions below cli/ (evaluation/), so a library call and the
 * command with the same options compute the same numbers.
 */
import { writeFileSync } from 'node:fs';
import type { AllocationRule } from '../mechanism/types.ts';
import type { MechanismUnderTest, ProgressEvent, Verdict } from '../properties/types.ts';
import type { BenchRow, VerifyResult } from '../reports/formats.ts';
import type { Episode } from '../simulation/episode.ts';
import { registerMechanismKind } from '../evaluation/kinds/index.ts';
import type { MechanismKind } from '../evaluation/kinds/kind.ts';
import { resolveRule } from '../evaluation/resolve.ts';
import { selectWorld, type WorldSelection } from '../evaluation/world-selection.ts';
import { benchRun } from '../evaluation/bench-run.ts';
import { mechanismUnderTest, verifyProperties, type SharedCheckOptions, type VerifyLine } from '../evaluation/verify.ts';
import { simulateRun, type SimulateSummary } from '../evaluation/simulate.ts';
import { trainRun, checkTrainOptions, type TrainOptions as TrainRunOptions } from '../evaluation/train.ts';
import type { IrpoConfig } from '../training/config.ts';
import type { EpochMetrics } from '../training/irpo.ts';
import { preflightTrain } from '../cli/preflight.ts';
import { buildReport, type ReportOptions, type ReportSummary } from '../evaluation/report.ts';
import { versions } from '../cli/versions.ts';

export type { Ad, AllocationRule, AuctionInput, BiddedAd, Profile, Query, SampleOptions, WeightedResponse, PaymentRuleName } from '../mechanism/types.ts';
export type { ClickModel } from '../mechanism/click-model.ts';
export type { MechanismUnderTest, ProgressEvent, Verdict, VerdictKind, VerdictDetails } from '../properties/types.ts';
export type { BenchRow, PairedDifference, VerifyResult, BenchFile } from '../reports/formats.ts';
export type { Episode } from '../simulation/episode.ts';
export type { WorldSelection } from '../evaluation/world-selection.ts';
export type { SimulateSummary } from '../evaluation/simulate.ts';
export type { VerifyLine } from '../evaluation/verify.ts';
export type { EpochMetrics } from '../training/irpo.ts';
export type { IrpoConfig } from '../training/config.ts';
export type { ReportOptions, ReportSummary } from '../evaluation/report.ts';
export type { MechanismKind } from '../evaluation/kinds/kind.ts';
export type { PropertySpec } from '../properties/types.ts';
export { registerMechanismKind } from '../evaluation/kinds/index.ts';
export { registerProperty, propertyNames } from '../properties/registry.ts';
export { writeBenchFiles } from '../evaluation/bench-files.ts';
export { table2, table2Csv, table2Markdown } from '../reports/tables.ts';

/** A mechanism as the library takes it: a spec, or a rule object. */
export type Mechanism = string | AllocationRule;

/** Progress of a run: what it is doing, how far (done of total), and the underlying event where there is one. */
export interface Progress {
  stage: string;
  done: number;
  total: number;
  event?: ProgressEvent;
}

export interface RunControl {
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
}

// ---- Rule objects as specs ------------------------------------------------------------------

/** Rule objects handed to the library, by the key of their `object:KEY` spec (this process only). */
const objects = new Map<string, AllocationRule>();
let objectKindRegistered = false;

interface ObjectSpec {
  kind: 'object';
  key: string;
}

const objectKind: MechanismKind<ObjectSpec> = {
  kind: 'object',
  usage: 'object:KEY',
  parse({ rest, fail }) {
    if (!objects.has(rest)) fail(`no rule object ${JSON.stringify(rest)} was handed to the library in this process`);
    return { kind: 'object', key: rest };
  },
  format: (s) => `object:${s.key}`,
  resolve: async (s) => objects.get(s.key)!,
  label: (s) => objects.get(s.key)?.name ?? s.key,
};

function isRule(x: unknown): x is AllocationRule {
  return typeof x === 'object' && x !== null && typeof (x as { sample?: unknown }).sample === 'function';
}

/** The spec text of a mechanism: a spec as given, a rule object as `object:KEY` (the same key for the same object). */
export function specOf(m: Mechanism): string {
  if (typeof m === 'string') return m;
  if (!isRule(m)) throw new TypeError('a mechanism is a spec string or an object with a sample(input, n, opts) method');
  if (typeof m.name !== 'string' || m.name.trim() === '') throw new TypeError('an allocation rule object needs a non-empty name');
  if (!objectKindRegistered) {
    registerMechanismKind(objectKind);
    objectKindRegistered = true;
  }
  for (const [k, r] of objects) if (r === m) return `object:${k}`;
  const key = `r${objects.size + 1}`;
  objects.set(key, m);
  return `object:${key}`;
}

/**
 * A `module:` spec naming a TypeScript file: Node cannot import it by itself (the command's bin
 * registers tsx's loader; a library caller's process may not have one), so the loader is
 * registered once, on the first such spec.
 */
let tsLoader: Promise<void> | undefined;
async function loaderFor(specs: readonly string[]): Promise<void> {
  if (!specs.some((s) => /(^|[,(])\s*module:[^,]*\.[cm]?tsx?\b/.test(s))) return;
  tsLoader ??= import('tsx/esm/api').then((tsx) => {
    tsx.register();
  });
  await tsLoader;
}

/** A stop requested through `signal`: throws its reason. */
function checkAbort(signal: AbortSignal | undefined): void {
  signal?.throwIfAborted();
}

// ---- Worlds and mechanisms ------------------------------------------------------------------

export interface WorldOptions {
  /** `test` (default) or `train` split of the embedded world, or a queries.jsonl file. */
  queries?: string;
  catalog?: string;
  profiles?: string;
  limit?: number;
  /** Seed of the embedded world (profiles, queries, the user's latent tastes); default 0. */
  worldSeed?: number;
}

/** The catalog, profiles and queries a run works on: the embedded world of a seed, or the given files. */
export function loadWorld(opts: WorldOptions = {}): WorldSelection {
  return selectWorld({ ...opts, queries: opts.queries ?? 'test', worldSeed: opts.worldSeed ?? 0 });
}

/** A running allocation rule from a spec (or the rule object itself). */
export async function resolveMechanism(m: Mechanism, opts: { worldSeed?: number } = {}): Promise<AllocationRule> {
  if (typeof m !== 'string') return m;
  await loaderFor([m]);
  return resolveRule(m, { worldSeed: opts.worldSeed ?? 0 });
}

// ---- simulate -------------------------------------------------------------------------------

export interface SimulateOptions extends WorldOptions, RunControl {
  mechanism: Mechanism;
  /** Run directory: episodes.jsonl and manifest.json are written there. */
  out: string;
  samples?: number;
  user?: string;
  resume?: boolean;
  candidates?: number;
  concurrency?: number;
  queriesPerProfile?: number;
  seed?: number;
}

/** Episodes of one mechanism into a run directory (as `llm-auction simulate`). */
export async function simulate(opts: SimulateOptions): Promise<SimulateSummary> {
  checkAbort(opts.signal);
  await loaderFor([specOf(opts.mechanism)]);
  return simulateRun(
    {
      mechanism: specOf(opts.mechanism),
      out: opts.out,
      queries: opts.queries ?? 'test',
      ...(opts.catalog !== undefined ? { catalog: opts.catalog } : {}),
      ...(opts.profiles !== undefined ? { profiles: opts.profiles } : {}),
      ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
      samples: opts.samples ?? 1,
      user: opts.user ?? 'embedded:parametric',
      resume: opts.resume ?? false,
      candidates: opts.candidates ?? 10,
      worldSeed: opts.worldSeed ?? 0,
      concurrency: opts.concurrency ?? 8,
      queriesPerProfile: opts.queriesPerProfile ?? 5,
      seed: opts.seed ?? 0,
    },
    { versions: versions(), ...(opts.signal ? { signal: opts.signal } : {}), onProgress: (done, total) => opts.onProgress?.({ stage: 'simulate', done, total }) },
  );
}

// ---- bench (Table 2) ------------------------------------------------------------------------

export interface BenchOptions extends WorldOptions, RunControl {
  /** The rows, in order. */
  mechanisms: readonly Mechanism[];
  /**
   * Rows to give paired differences against (same queries, same bids, query by query). Default:
   * every row, so any two rows can be compared (Pretrained and MOSAIC rows always are).
   */
  pairWith?: readonly Mechanism[];
  user?: string;
  candidates?: number;
  seed?: number;
  /** Also write bench.json and every row's episodes there (what `report` reads); each finished query is kept there as it ends. */
  out?: string;
  /** With `out`: continue an interrupted bench without losing or repeating a query. */
  resume?: boolean;
}

export interface BenchResult {
  rows: BenchRow[];
  seed: number;
  worldSeed: number;
  queries: string;
  /** Each row's episodes, by its spec (empty with `out`: they are in OUT/bench-episodes/). */
  episodes: Map<string, Episode[]>;
  /** bench.json (with `out`). */
  files: string[];
}

/** Table 2: revenue and reward per query with 95% intervals, paired differences and costs, one row per mechanism. */
export async function bench(opts: BenchOptions): Promise<BenchResult> {
  checkAbort(opts.signal);
  if (opts.mechanisms.length === 0) throw new TypeError('bench needs at least one mechanism');
  const specs = opts.mechanisms.map(specOf);
  const pairs = (opts.pairWith ?? opts.mechanisms).map(specOf);
  await loaderFor(specs);
  const queries = opts.queries ?? 'test';
  const seed = opts.seed ?? 0;
  const worldSeed = opts.worldSeed ?? 0;
  const { rows, episodes, files } = await benchRun(
    {
      mechanism: specs.join(','),
      ...(pairs.length > 0 ? { pairedWith: pairs.join(',') } : {}),
      queries,
      ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
      ...(opts.catalog !== undefined ? { catalog: opts.catalog } : {}),
      ...(opts.profiles !== undefined ? { profiles: opts.profiles } : {}),
      user: opts.user ?? 'embedded:parametric',
      candidates: opts.candidates ?? 10,
      worldSeed,
      seed,
      ...(opts.out !== undefined ? { out: opts.out, resume: opts.resume ?? false } : {}),
    },
    { ...(opts.signal ? { signal: opts.signal } : {}), onProgress: (stage, done, total) => opts.onProgress?.({ stage, done, total }) },
  );
  return { rows, seed, worldSeed, queries, episodes, files };
}

// ---- verify ---------------------------------------------------------------------------------

export interface VerifyOptions extends SharedCheckOptions, RunControl {
  /** Property names (or one comma-separated list); default: every verdict property. */
  properties?: string | readonly string[];
  /** The user who clicks (a `--user` spec); default the embedded world's parametric user. */
  user?: string;
  worldSeed?: number;
  /** Also write verify.json there. */
  json?: string;
}

export interface VerifyReport {
  /** 'pass' when every chosen property passes or holds by construction, 'fail' when any fails, else 'inconclusive'. */
  verdict: 'pass' | 'fail' | 'inconclusive';
  /** The command's exit code for it: 0, 1 or 3. */
  code: 0 | 1 | 3;
  /** verify.json's content: each property's verdict with its counterexample, p-value, samples and details. */
  result: VerifyResult;
  /** Each property's verdict as one line of text, with its evidence. */
  lines: VerifyLine[];
  headline: string;
}

/** The incentive properties of a mechanism as statistical tests (as `llm-auction verify`), alpha family-wise across them. */
export async function verify(target: Mechanism | MechanismUnderTest, opts: VerifyOptions = {}): Promise<VerifyReport> {
  checkAbort(opts.signal);
  const { properties, user, worldSeed, json, signal, onProgress, ...checks } = opts;
  if (typeof target === 'string') await loaderFor([target]);
  const m = await mechanismUnderTest(target, { ...(user !== undefined ? { user } : {}), ...(worldSeed !== undefined ? { worldSeed } : {}) });
  const names = properties === undefined ? undefined : typeof properties === 'string' ? [properties] : [...properties];
  const out = await verifyProperties({
    ...checks,
    mechanism: m,
    ...(names ? { properties: names } : {}),
    ...(signal ? { signal } : {}),
    ...(onProgress ? { onProgress: (e: ProgressEvent) => onProgress({ stage: `verify ${e.property}`, done: e.cases, total: e.casesPlanned, event: e }) } : {}),
  });
  if (json) writeFileSync(json, `${JSON.stringify(out.result, null, 2)}\n`);
  return { ...out, verdict: out.code === 0 ? 'pass' : out.code === 1 ? 'fail' : 'inconclusive' };
}

/** verify.json as `llm-auction verify --json FILE` writes it. */
export function writeVerifyFile(path: string, result: VerifyResult): void {
  writeFileSync(path, `${JSON.stringify(result, null, 2)}\n`);
}

/** One property's verdict out of a report, or undefined when it was not run. */
export function verdictOf(report: VerifyReport, property: string): Verdict | undefined {
  return report.result.properties[property] as Verdict | undefined;
}

// ---- train ----------------------------------------------------------------------------------

export interface TrainOptions extends Partial<Omit<TrainRunOptions, 'out'>>, RunControl {
  /** Run directory for checkpoints, metrics and episodes (locked while the run holds it). */
  out: string;
}

/** IRPO (Algorithm 1), resumable phase by phase (as `llm-auction train`); the trained policy is `run:OUT`. */
export async function train(opts: TrainOptions): Promise<{ out: string; config: IrpoConfig; metrics: EpochMetrics[] }> {
  checkAbort(opts.signal);
  const { signal, onProgress, ...rest } = opts;
  const full: TrainRunOptions = { preset: 'tiny', trainer: 'embedded', reward: 'pctr', encoder: 'lexical', reload: 'vllm-lora', seed: 0, ...rest };
  checkTrainOptions(full);
  const unlock = await preflightTrain(full);
  let epoch = 0;
  try {
    return await trainRun(full, {
      versions: versions(),
      ...(signal ? { signal } : {}),
      onPhase: (e) => {
        epoch = e;
      },
      onProgress: (phase, done, total) => onProgress?.({ stage: `epoch ${epoch}: ${phase}`, done, total }),
    });
  } finally {
    unlock();
  }
}

// ---- reports --------------------------------------------------------------------------------

/** Table 2 and Figure 4(a)(b) as files, with an index.html, from a run directory (as `llm-auction report`). */
export async function report(opts: Omit<ReportOptions, 'json' | 'seed'> & { seed?: number } & RunControl): Promise<ReportSummary> {
  checkAbort(opts.signal);
  const { signal, onProgress, ...rest } = opts;
  return buildReport({ ...rest, seed: opts.seed ?? 0 }, { ...(signal ? { signal } : {}), onProgress: (stage, done, total) => onProgress?.({ stage, done, total }) });
}
