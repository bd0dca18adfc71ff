/**
 * `llm-auction simulate`: run episodes of one mechanism on the embedded world (or on files) into a
 * run directory, resumable after a crash. The run is evaluation/simulate.ts's; this prints it.
 */
import { simulateRun, type SimulateOptions as SimulateRunOptions } from '../../evaluation/simulate.ts';
import { fmt, writeJsonResult } from '../output.ts';
import { progressBar } from '../progress.ts';
import { versions } from '../versions.ts';

export interface SimulateOptions extends SimulateRunOptions {
  json?: string;
}

export async function runSimulate(opts: SimulateOptions): Promise<number> {
  const bar = progressBar('simulate');
  let summary;
  try {
    summary = await simulateRun(opts, { versions: versions(), onProgress: (d, t) => bar.update(d, t) });
  } finally {
    bar.stop();
  }
  process.stdout.write(
    `${summary.written} episodes written to ${opts.out}/episodes.jsonl (${summary.resumed_from} already there), ${summary.queries} queries x ${summary.samples} samples, ${fmt(summary.seconds, 1)} s\n`,
  );
  writeJsonResult(opts.json, summary);
  return 0;
}
