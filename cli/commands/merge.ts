/** `llm-auction merge --from DIR1,DIR2,… --out DIR`: join shard runs (evaluation/shard.ts) and say what was written. */
import { mergeRuns } from '../../evaluation/shard.ts';
import { writeJsonResult } from '../output.ts';

export async function runMerge(opts: { from: string; out: string; json?: string }): Promise<number> {
  const dirs = opts.from.split(',').map((d) => d.trim()).filter((d) => d !== '');
  const summary = mergeRuns(dirs, opts.out);
  process.stdout.write(`${summary.episodes} episodes of ${summary.shards} shard(s) merged into ${opts.out}\n`);
  writeJsonResult(opts.json, summary);
  return 0;
}
