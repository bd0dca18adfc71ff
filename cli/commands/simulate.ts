/**
 * `llm-auction simulate`: run episodes of one mechanism on the embedded world (or on files) into a
 * run directory, resumable after a crash.
 */
import { InputError, UsageError } from '../../mechanism/errors.ts';
import { loadCatalog, loadProfiles, loadQueries } from '../../mechanism/jsonl.ts';
import type { Ad, Profile, Query } from '../../mechanism/types.ts';
import { auctionInput } from '../../simulation/auctions.ts';
import { runSimulation, type RunItem } from '../../simulation/run.ts';
import { embeddedCatalog, embeddedWorld } from '../../simulation/world.ts';
import { writeJsonResult, fmt } from '../output.ts';
import { progressBar } from '../progress.ts';
import { resolveRule, resolveUser } from '../resolve.ts';
import { versions } from '../versions.ts';

export interface SimulateOptions {
  mechanism: string;
  out: string;
  queries: string;
  catalog?: string;
  profiles?: string;
  limit?: number;
  samples: number;
  user: string;
  resume?: boolean;
  candidates: number;
  worldSeed: number;
  concurrency: number;
  json?: string;
  seed: number;
}

export interface WorldSelection {
  catalog: Ad[];
  profiles: Map<string, Profile>;
  queries: Query[];
  source: string;
}

/** The catalog, profiles and queries a command runs on: the embedded world unless files are given. */
export function selectWorld(opts: { queries: string; catalog?: string; profiles?: string; limit?: number; worldSeed: number }): WorldSelection {
  const catalog = opts.catalog ? loadCatalog(opts.catalog) : embeddedCatalog();
  const world = embeddedWorld(opts.worldSeed);
  const profileList = opts.profiles ? loadProfiles(opts.profiles) : world.profiles;
  let queries: Query[];
  let source: string;
  if (opts.queries === 'train' || opts.queries === 'test') {
    if (opts.profiles) throw new UsageError('--profiles needs a queries file (--queries FILE) whose profile_id values name those profiles');
    queries = world.queries.filter((q) => q.split === opts.queries);
    source = `embedded world (seed ${opts.worldSeed}), ${opts.queries} split`;
  } else {
    queries = loadQueries(opts.queries, profileList);
    source = opts.queries;
  }
  if (opts.limit !== undefined) queries = queries.slice(0, opts.limit);
  if (catalog.length === 0) throw new InputError(opts.catalog ?? 'catalog', undefined, undefined, 'the catalog is empty');
  return { catalog, profiles: new Map(profileList.map((p) => [p.id, p])), queries, source };
}

export async function runSimulate(opts: SimulateOptions): Promise<number> {
  const world = selectWorld(opts);
  const user = await resolveUser(opts.user);
  const rule = await resolveRule(opts.mechanism, { user });
  const items: RunItem[] = world.queries.map((q) => ({
    queryId: q.id,
    input: auctionInput(q, world.profiles.get(q.profile_id)!, world.catalog, { seed: opts.seed, stage: 'simulate', epoch: 0, candidates: opts.candidates }),
  }));
  const bar = progressBar('simulate');
  const t0 = Date.now();
  const res = await runSimulation({
    out: opts.out,
    items,
    resume: opts.resume ?? false,
    concurrency: opts.concurrency,
    episode: { rule, clicks: user, seed: opts.seed, samples: opts.samples, stage: 'simulate', epoch: 0 },
    manifest: {
      kind: 'simulate',
      seed: opts.seed,
      config: {
        mechanism: opts.mechanism,
        user: opts.user,
        queries: world.source,
        catalog: opts.catalog ?? 'embedded',
        limit: opts.limit ?? null,
        samples: opts.samples,
        candidates: opts.candidates,
        world_seed: opts.worldSeed,
      },
      versions: versions(),
    },
    onProgress: (d, t) => bar.update(d, t),
  });
  bar.stop();
  const secs = (Date.now() - t0) / 1000;
  const summary = { out: opts.out, queries: items.length, samples: opts.samples, episodes: res.total, written: res.written, resumed_from: res.total - res.written, seconds: secs };
  process.stdout.write(
    `${res.written} episodes written to ${opts.out}/episodes.jsonl (${res.total - res.written} already there), ${items.length} queries x ${opts.samples} samples, ${fmt(secs, 1)} s\n`,
  );
  writeJsonResult(opts.json, summary);
  return 0;
}
