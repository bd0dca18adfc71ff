/**
 * `train --resume` after a stop between the pCTR fit and the end of the epoch (the model saved, the
 * policy and the metrics line not yet): the resumed epoch's metrics equal the uninterrupted run's,
 * `pctr_fit` included (it used to come back null). The control: the same stop with the fit summary
 * gone (a run directory from before it was kept) gives null, so the comparison can fail.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/run-cli.ts';

const root = mkdtempSync(join(tmpdir(), 'llm-auction-train-resume-'));
const args = (out: string, resume = false) => ['train', '--out', out, '--queries', '30', '--epochs', '2', ...(resume ? ['--resume'] : [])];
/** The metrics lines without their timings (wall-clock seconds differ between any two runs). */
const metrics = (dir: string) =>
  readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => {
      const m = JSON.parse(l) as Record<string, unknown>;
      delete m.seconds;
      return m;
    });

/** The state a kill leaves right after epoch 2's pCTR model was saved. */
function stopAfterPctrFit(from: string, to: string): void {
  cpSync(from, to, { recursive: true });
  rmSync(join(to, 'epoch-2', 'policy.json'));
  rmSync(join(to, 'epoch-2', 'pairs.jsonl'), { force: true });
  const lines = readFileSync(join(to, 'metrics.jsonl'), 'utf8').trim().split('\n');
  writeFileSync(join(to, 'metrics.jsonl'), `${lines[0]}\n`);
  const manifest = JSON.parse(readFileSync(join(to, 'manifest.json'), 'utf8'));
  writeFileSync(join(to, 'manifest.json'), `${JSON.stringify({ ...manifest, status: 'running' }, null, 2)}\n`);
}

describe('train --resume after the pCTR fit', () => {
  it('gives the uninterrupted metrics, pctr_fit included', async () => {
    const full = join(root, 'full');
    const r = await runCli(args(full), 120_000);
    expect(r.code, r.err).toBe(0);
    const want = metrics(full);
    expect(want[1]!.pctr_fit).not.toBeNull();

    const stopped = join(root, 'stopped');
    stopAfterPctrFit(full, stopped);
    const again = await runCli(args(stopped, true), 120_000);
    expect(again.code, again.err).toBe(0);
    expect(metrics(stopped)).toEqual(want);

    // Control: without the fit summary beside the model, the resumed epoch cannot know its fit.
    const legacy = join(root, 'legacy');
    stopAfterPctrFit(full, legacy);
    rmSync(join(legacy, 'epoch-2', 'pctr-fit.json'));
    const old = await runCli(args(legacy, true), 120_000);
    expect(old.code, old.err).toBe(0);
    expect(metrics(legacy)[1]!.pctr_fit).toBeNull();
    expect(metrics(legacy)).not.toEqual(want);
  }, 300_000);
});
