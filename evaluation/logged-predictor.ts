/**
 * The baselines' default predictor for a spec's context: the pCTR model fitted on the world's
 * logged clicks (training/logged-pctr.ts), once per (user, world seed) in a process. The logs are
 * drawn from the bench's user (the one place it is read: the click draw of the logging
 * simulation); the baselines receive only the fitted model.
 */
import type { ClickModel } from '../mechanism/click-model.ts';
import { loggedPctr, type LoggedPctr } from '../training/logged-pctr.ts';
import { embeddedWorld } from '../simulation/world.ts';
import { embeddedParts } from './embedded-parts.ts';

export function logsPredictor(ctx: { user?: ClickModel; worldSeed?: number }): Promise<LoggedPctr> {
  const ws = ctx.worldSeed ?? 0;
  const parts = embeddedParts(ws);
  // The 1,000 logged auctions' plan tables (over a megabyte each) are freed as the logging goes.
  return loggedPctr(ctx.user ?? parts.user, ws, () => parts.policy.rule(), () => embeddedWorld(ws), undefined, () => parts.policy.clearTables());
}

/** A training run's pCTR model (its last epoch's), for `rm=DIR` and `quality=DIR`. */
export async function runPctrModel(dir: string, what: string) {
  const { existsSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { UsageError } = await import('../lib/errors.ts');
  const { PctrModel } = await import('../training/pctr.ts');
  const { lexicalEncoder } = await import('../simulation/text-encoder.ts');
  let e = 1;
  while (existsSync(join(dir, `epoch-${e + 1}`, 'pctr.json'))) e++;
  const file = join(dir, `epoch-${e}`, 'pctr.json');
  if (!existsSync(file)) throw new UsageError(`${what}=${dir}: no pCTR model in that run (expected ${file})`);
  return PctrModel.load(file, lexicalEncoder());
}
