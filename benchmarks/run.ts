/**
 * `npm run bench [-- SUITE…]`: run the benchmark suites (every `benchmarks/*.bench.ts` by default),
 * each in its own process so one suite's memory does not skew the next, then rebuild BENCHMARKS.md.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const wanted = process.argv.slice(2);
const suites = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => wanted.length === 0 || wanted.includes(f.replace('.bench.ts', '')));
let failed = 0;
for (const s of suites) {
  console.log(`\n# ${s}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', `${here}${s}`], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
spawnSync(process.execPath, ['--import', 'tsx', `${here}summarize.ts`], { stdio: 'inherit' });
process.exitCode = failed > 0 ? 1 : 0;
