/**
 * Several independent IRPO runs at once, one worker thread each, at most `jobs` at a time. The
 * demo trains five runs (pCTR, Oracle, shuffled clicks, and pCTR on 30% and 10% of the logs);
 * each is single-threaded, so on a 2-core laptop two at a time halve the wall time. Each run is
 * seeded on its own, so the results are the same whatever the number of jobs.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { IrpoConfig } from './config.ts';
import type { EpochMetrics } from './irpo.ts';

export interface TrainJob {
  name: string;
  out: string;
  config: IrpoConfig;
  seed: number;
  resume: boolean;
  versions?: Record<string, string>;
}

/** Default number of runs at once: the machine's cores. */
export const defaultJobs = (): number => Math.max(1, availableParallelism());

/** Trains every job; resolves with each job's metrics in the jobs' order, or rejects with the first failure. */
export async function trainInParallel(
  jobs: readonly TrainJob[],
  parallel: number,
  onPhase?: (name: string, epoch: number, phase: string) => void,
): Promise<EpochMetrics[][]> {
  const results: EpochMetrics[][] = new Array(jobs.length);
  let next = 0;
  const workers: Worker[] = [];
  const runOne = (k: number) =>
    new Promise<void>((resolve, reject) => {
      const job = jobs[k]!;
      const w = new Worker(new URL('./parallel-worker.mjs', import.meta.url), { workerData: job });
      workers.push(w);
      w.on('message', (m: { type: 'phase'; epoch: number; phase: string } | { type: 'done'; metrics: EpochMetrics[] }) => {
        if (m.type === 'phase') onPhase?.(job.name, m.epoch, m.phase);
        else results[k] = m.metrics;
      });
      w.on('error', (e) => reject(new Error(`IRPO run ${job.name} failed: ${e.message}`, { cause: e })));
      w.on('exit', (code) => (code === 0 && results[k] ? resolve() : reject(new Error(`IRPO run ${job.name} stopped (exit code ${code})`))));
    });
  const lane = async () => {
    while (next < jobs.length) await runOne(next++);
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(parallel, jobs.length)) }, lane));
  } catch (e) {
    await Promise.all(workers.map((w) => w.terminate()));
    throw e;
  }
  return results;
}
