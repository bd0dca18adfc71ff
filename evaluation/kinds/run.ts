/** `run:DIR[@EPOCH]`: the allocation rule trained by `train` in DIR (its last epoch by default). */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { MechanismKind } from './kind.ts';

export interface RunSpec {
  kind: 'run';
  dir: string;
  epoch?: number;
}

/** The reward model the run was trained with and its warm start, from its manifest; empty when it cannot be read. */
function runManifest(dir: string): { reward?: string; warmStart?: string } {
  const file = join(dir, 'manifest.json');
  if (!existsSync(file)) return {};
  try {
    const m = JSON.parse(readFileSync(file, 'utf8')) as { config?: { reward?: unknown; external?: { warmStart?: unknown } } };
    const reward = typeof m.config?.reward === 'string' ? m.config.reward : undefined;
    const warm = m.config?.external?.warmStart;
    return { ...(reward ? { reward } : {}), ...(typeof warm === 'string' && warm !== 'none' ? { warmStart: warm } : {}) };
  } catch {
    // A manifest we cannot read only costs the label its "(pCTR)" / "(Oracle)".
    return {};
  }
}

export const runKind: MechanismKind<RunSpec> = {
  kind: 'run',
  usage: 'run:DIR[@EPOCH]',
  parse({ rest, fail }) {
    const m = /^(.+?)(?:@(\d+))?$/.exec(rest);
    if (!m || m[1]!.trim() === '') return fail('expected run:DIR or run:DIR@EPOCH');
    return m[2] === undefined ? { kind: 'run', dir: m[1]! } : { kind: 'run', dir: m[1]!, epoch: Number(m[2]) };
  },
  format: (s) => (s.epoch === undefined ? `run:${s.dir}` : `run:${s.dir}@${s.epoch}`),
  async resolve(spec) {
    const { loadPolicy, policyRule } = await import('../../training/irpo.ts');
    const { checkRunPolicy } = await import('../../simulation/run-files.ts');
    const { embeddedParts } = await import('../embedded-parts.ts');
    checkRunPolicy(spec.dir, spec.epoch);
    const saved = loadPolicy(spec.dir, spec.epoch);
    return policyRule(saved, embeddedParts().policy, `run:${spec.dir}@${saved.epoch}`);
  },
  label(s) {
    const { reward, warmStart } = runManifest(s.dir);
    // Epoch 0 of a warm-started run is the warm start alone, before any IRPO epoch: its own row.
    if (s.epoch === 0 && warmStart) return `Format warm start (${warmStart}), before IRPO`;
    // The demo's pCTR-quality runs are named train-pctr-10 / -30 (share of the logs the pCTR model saw).
    const share = /^train-pctr-(\d+)$/.exec(basename(s.dir))?.[1];
    const which =
      reward === 'pctr' ? (share ? `pCTR on ${share}% of logs` : 'pCTR') : reward === 'oracle' ? 'Oracle' : reward === 'shuffled' ? 'pCTR, shuffled clicks' : basename(s.dir);
    return `LLM-Auction (${which})${s.epoch === undefined ? '' : `, epoch ${s.epoch}`}`;
  },
};
