/**
 * The pCTR models of several IRPO runs measured on one common test set, so their AUCs can be
 * compared: the pCTR-quality figure sets reward after training against these numbers.
 *
 * Each run's own `pctr_auc` (metrics.jsonl) is measured on its last epoch's held-out queries as
 * *its* policy answered them. A run whose policy learned to insert almost nothing (the 10%-logs
 * run, the shuffled control) is then measured on a handful of exposures, and the runs are not on
 * the same examples. Here every run's final pCTR model is scored on the same logged exposures:
 * the reference run's online logs (every epoch) on the queries IRPO holds out of every pCTR fit.
 * The held-out split depends only on the run seed and the query, so with one seed no run was
 * fitted on any of these queries.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deriveSeed } from '../lib/rng.ts';
import type { Episode } from '../simulation/episode.ts';
import { examplesFromEpisodes, type PctrExample } from './pctr-features.ts';
import { PctrModel } from './pctr.ts';

interface RunManifest {
  seed: number;
  config: { heldOutShare: number; pctrEncoder: string; reward: string };
}

function manifestOf(dir: string): RunManifest {
  return JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as RunManifest;
}

/** The last epoch of a run that saved a pCTR model (0 when none did: an Oracle run). */
function lastPctrEpoch(dir: string): number {
  let e = 0;
  while (existsSync(join(dir, `epoch-${e + 1}`, 'pctr.json'))) e++;
  return e;
}

/**
 * The queries IRPO holds out of every pCTR fit to measure it: a share of them, drawn from the run
 * seed and the query alone, so runs with one seed hold out the same ones (irpo.ts uses this too).
 */
export function heldOutQuery(seed: number, share: number): (queryId: string) => boolean {
  return (qid) => deriveSeed(seed, 'heldout', qid) / 2 ** 32 < share;
}

/** The reference run's logged exposures on the held-out queries, every epoch, labelled with clicks. */
export function commonHeldOutExamples(reference: string, profileOf: (queryId: string) => string, queryTextOf: (queryId: string) => string): PctrExample[] {
  const m = manifestOf(reference);
  const heldOut = heldOutQuery(m.seed, m.config.heldOutShare);
  const episodes: Episode[] = [];
  for (let e = 1; existsSync(join(reference, `epoch-${e}`, 'online', 'episodes.jsonl')); e++) {
    for (const line of readFileSync(join(reference, `epoch-${e}`, 'online', 'episodes.jsonl'), 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      const ep = JSON.parse(line) as Episode;
      if (heldOut(ep.query_id)) episodes.push(ep);
    }
  }
  return examplesFromEpisodes(episodes, profileOf, queryTextOf);
}

export interface CommonAuc {
  run: string;
  epoch: number;
  auc: number;
  examples: number;
  positives: number;
}

/**
 * The AUC of each run's final pCTR model on `examples`. Every run must share the reference's seed
 * and held-out share (else some of the examples could be in a run's fitting data).
 */
export async function pctrAucOnCommonLogs(runs: readonly string[], reference: string, examples: readonly PctrExample[]): Promise<CommonAuc[]> {
  const ref = manifestOf(reference);
  const { createEncoder } = await import('../simulation/onnx-encoder.ts');
  const out: CommonAuc[] = [];
  for (const dir of runs) {
    const m = manifestOf(dir);
    if (m.seed !== ref.seed || m.config.heldOutShare !== ref.config.heldOutShare) {
      throw new Error(`${dir}: seed ${m.seed} / heldOutShare ${m.config.heldOutShare} differ from the reference ${reference}'s (${ref.seed} / ${ref.config.heldOutShare}); its held-out queries would not be the same`);
    }
    const epoch = lastPctrEpoch(dir);
    if (epoch === 0) throw new Error(`${dir}: no epoch saved a pCTR model (an Oracle run has none)`);
    const model = PctrModel.load(join(dir, `epoch-${epoch}`, 'pctr.json'), await createEncoder(m.config.pctrEncoder));
    await model.prepare(examples);
    const ev = model.evaluate(examples);
    out.push({ run: dir, epoch, auc: ev.auc, examples: examples.length, positives: examples.filter((x) => x.click === 1).length });
  }
  return out;
}
