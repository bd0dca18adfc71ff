/**
 * The catalog, profiles and queries a run works on: the embedded world of a seed, or the files a
 * user gives. `simulate`, `bench` and the library share it.
 */
import { InputError, UsageError } from '../lib/errors.ts';
import { loadCatalog, loadProfiles, loadQueries } from '../mechanism/loaders.ts';
import type { Ad, Profile, Query } from '../mechanism/types.ts';
import { embeddedCatalog, embeddedWorld } from '../simulation/world.ts';

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
  if (queries.length === 0) throw new InputError(opts.queries, undefined, undefined, 'no queries (the file holds no lines)');
  if (opts.limit !== undefined) queries = queries.slice(0, opts.limit);
  if (catalog.length === 0) throw new InputError(opts.catalog ?? 'catalog', undefined, undefined, 'the catalog is empty');
  return { catalog, profiles: new Map(profileList.map((p) => [p.id, p])), queries, source };
}
