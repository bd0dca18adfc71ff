/**
 * `llm-auction merge --from A,B,… --out OUT`: join shard runs (evaluation/shard.ts). Directories
 * are `simulate --shard` runs (OUT a run directory) or `bench --shard` directories (OUT a bench
 * directory, the table printed as bench prints it, --json as bench's: evaluation/bench-shard.ts);
 * JSON files are `verify --shard --json` results (OUT the merged JSON; the exit code is verify's:
 * 0 pass, 1 fail, 3 inconclusive).
 */
import { readFileSync, statSync } from 'node:fs';
import { InputError } from '../../lib/errors.ts';
import { mergeRuns, mergeVerifyResults, type ShardedVerifyResult } from '../../evaluation/shard.ts';
import { isBenchShard, mergeBenches } from '../../evaluation/bench-shard.ts';
import { writeJsonResult } from '../output.ts';
import { benchTable } from './bench.ts';

function readResult(file: string): ShardedVerifyResult {
  try {
    const json = JSON.parse(readFileSync(file, 'utf8')) as ShardedVerifyResult;
    if (typeof json !== 'object' || json === null || typeof json.properties !== 'object') throw new Error('no "properties"');
    return json;
  } catch (e) {
    throw new InputError(file, undefined, undefined, `not a verify --json result (${(e as Error).message})`);
  }
}

export async function runMerge(opts: { from: string; out: string; json?: string }): Promise<number> {
  const from = opts.from.split(',').map((d) => d.trim()).filter((d) => d !== '');
  const isFile = (p: string) => {
    try {
      return statSync(p).isFile();
    } catch {
      return false;
    }
  };
  if (from.length > 0 && from.every(isFile)) {
    const { code, result } = mergeVerifyResults(from.map(readResult), from);
    writeJsonResult(opts.out, result);
    process.stdout.write(`${Object.keys(result.properties).length} properties of ${from.length} verify shard(s) merged into ${opts.out}; exit ${code}\n`);
    writeJsonResult(opts.json, result);
    return code;
  }
  if (from.length > 0 && from.every(isBenchShard)) {
    const m = mergeBenches(from, opts.out);
    process.stdout.write(`${benchTable(m.rows)}\n${m.queries} queries of ${m.shards} bench shard(s) merged into ${opts.out} (bench.json, bench-progress.jsonl, bench-episodes/)\n`);
    writeJsonResult(opts.json, { rows: m.rows });
    return 0;
  }
  const summary = mergeRuns(from, opts.out);
  process.stdout.write(`${summary.episodes} episodes of ${summary.shards} shard(s) merged into ${opts.out}\n`);
  writeJsonResult(opts.json, summary);
  return 0;
}
