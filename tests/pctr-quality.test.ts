/**
 * The pCTR-quality figure's x axis: every run's final pCTR model on the same held-out logs
 * (training/pctr-quality.ts), and the step check's noise margin (training/irpo.ts).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { irpoConfig } from '../training/config.ts';
import { clearsNoise, trainIrpo } from '../training/irpo.ts';
import { commonHeldOutExamples, pctrAucOnCommonLogs } from '../training/pctr-quality.ts';
import { embeddedWorld } from '../simulation/world.ts';

const root = mkdtempSync(join(tmpdir(), 'llm-auction-pctr-quality-'));
const world = embeddedWorld(0);
const profileOf = new Map(world.queries.map((q) => [q.id, q.profile_id]));
const textOf = new Map(world.queries.map((q) => [q.id, q.text]));

describe('pCTR models compared on one common held-out set', () => {
  it('scores every run on the same exposures of queries no fit saw; the shuffled-click model ranks worse than the real one', async () => {
    const base = { preset: 'tiny' as const, trainQueries: 400, epochs: 1, rmSamples: 4, heldOutShare: 0.25 };
    const real = join(root, 'pctr');
    const shuffled = join(root, 'shuffled');
    await trainIrpo({ out: real, config: irpoConfig({ ...base, reward: 'pctr' }), seed: 3 });
    await trainIrpo({ out: shuffled, config: irpoConfig({ ...base, reward: 'shuffled' }), seed: 3 });
    const examples = commonHeldOutExamples(real, (q) => profileOf.get(q)!, (q) => textOf.get(q)!);
    // About a quarter of 400 queries, 4 responses each, about one valid exposure per response.
    expect(examples.length).toBeGreaterThan(100);
    const positives = examples.filter((x) => x.click === 1).length;
    expect(positives).toBeGreaterThan(5);
    const [a, b] = await pctrAucOnCommonLogs([real, shuffled], real, examples);
    expect(a!.examples).toBe(examples.length);
    expect(b!.examples).toBe(examples.length);
    expect(a!.auc).toBeGreaterThan(0.6);
    expect(a!.auc).toBeGreaterThan(b!.auc);
  }, 300_000);

  it('refuses a run whose held-out queries are not the reference run\'s', async () => {
    const other = join(root, 'other-seed');
    await trainIrpo({ out: other, config: irpoConfig({ preset: 'tiny', trainQueries: 40, epochs: 1, rmSamples: 2 }), seed: 4 });
    await expect(pctrAucOnCommonLogs([other], join(root, 'pctr'), [])).rejects.toThrow(/held-out queries would not be the same/);
  }, 300_000);
});

describe('the step check keeps a step only when its gain clears the noise', () => {
  it('margin 0 keeps any step that does not lose; margin 1 asks for a gain of a standard error', () => {
    const noisy = [1, -1, 1.2, -0.9, 0.1, -0.2];
    expect(clearsNoise(noisy, 0)).toBe(true);
    expect(clearsNoise(noisy, 1)).toBe(false);
    const gain = [1, 0.8, 1.2, 0.9, 1.1, 1];
    expect(clearsNoise(gain, 1)).toBe(true);
    expect(clearsNoise(gain.map((x) => -x), 0)).toBe(false);
    expect(clearsNoise([], 1)).toBe(true);
  });
});
