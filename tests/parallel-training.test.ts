/**
 * IRPO runs trained side by side in worker threads (what `demo --jobs` does) give exactly what
 * they give one after another in the main thread: the runs share nothing but the machine.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { irpoConfig } from '../training/config.ts';
import { trainIrpo } from '../training/irpo.ts';
import { trainInParallel, type TrainJob } from '../training/parallel.ts';

const dir = mkdtempSync(join(os.tmpdir(), 'llm-auction-parallel-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const job = (name: string, reward: 'pctr' | 'oracle', root: string): TrainJob => ({
  name,
  out: join(dir, root, name),
  config: irpoConfig({ preset: 'tiny', trainQueries: 30, epochs: 1, rmSamples: 2, reward }),
  seed: 4,
  resume: false,
});

describe('trainInParallel', () => {
  it('trains runs in worker threads with the same policies and metrics as in-process training', async () => {
    const jobs = [job('pctr', 'pctr', 'par'), job('oracle', 'oracle', 'par')];
    const phases: string[] = [];
    const par = await trainInParallel(jobs, 2, (name, epoch, phase) => phases.push(`${name}:${epoch}:${phase}`));
    expect(phases.some((p) => p.startsWith('pctr:1:'))).toBe(true);
    expect(phases.some((p) => p.startsWith('oracle:1:'))).toBe(true);
    for (const [k, j] of jobs.entries()) {
      const solo = job(j.name, j.config.reward as 'pctr' | 'oracle', 'solo');
      const seq = await trainIrpo({ out: solo.out, config: solo.config, seed: solo.seed });
      const strip = (ms: typeof seq) => ms.map(({ seconds: _s, ...m }) => m);
      expect(strip(par[k]!)).toEqual(strip(seq));
      expect(readFileSync(join(j.out, 'epoch-1', 'policy.json'), 'utf8')).toBe(readFileSync(join(solo.out, 'epoch-1', 'policy.json'), 'utf8'));
    }
  }, 300_000);

  it('rejects with the failing run named', async () => {
    const bad = { ...job('broken', 'pctr', 'bad'), config: { ...job('broken', 'pctr', 'bad').config, trainer: 'external' as const } };
    await expect(trainInParallel([bad], 1)).rejects.toThrow(/broken/);
  }, 60_000);
});
