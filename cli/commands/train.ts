/** `llm-auction train`: IRPO (Algorithm 1) on the embedded world, resumable phase by phase. The run is evaluation/train.ts's; this checks the run directory, shows progress and prints the epochs. */
import { checkTrainOptions, trainRun, type TrainOptions as TrainRunOptions } from '../../evaluation/train.ts';
import { fmt, table, writeJsonResult } from '../output.ts';
import { progressBar } from '../progress.ts';
import { versions } from '../versions.ts';
import { preflightTrain } from '../preflight.ts';

export interface TrainOptions extends TrainRunOptions {
  json?: string;
}

export async function runTrain(opts: TrainOptions): Promise<number> {
  checkTrainOptions(opts);
  // Flags, the run directory's lock and (with --resume) its files, checked before any work.
  const unlock = await preflightTrain(opts);
  let bar = progressBar('train');
  let run;
  try {
    run = await trainRun(opts, {
      versions: versions(),
      onPhase: (epoch, p) => {
        bar.stop();
        const phase = `epoch ${epoch}: ${p}`;
        if (!process.stderr.isTTY) process.stderr.write(`${phase}\n`);
        bar = progressBar(phase);
      },
      onProgress: (_p, d, n) => bar.update(d, n),
    });
  } finally {
    bar.stop();
  }
  const { config, metrics } = run;
  process.stdout.write(
    `${table(
      ['epoch', 'revenue/query', 'reward/query', 'bid-click rho', 'pCTR AUC', 'pairs', 'DPO loss'],
      metrics.map((m) => [m.epoch, m.revenue_per_query, m.reward_per_query, m.bid_click_rank_correlation, m.pctr_auc ?? NaN, m.pairs, `${fmt(m.dpo_loss_before, 3)} -> ${fmt(m.dpo_loss_after, 3)}`]),
    )}\n(revenue, reward and correlation are measured on each epoch's online data, under the policy of the epoch before)\ntrained policy: run:${opts.out} (epochs 0..${config.epochs})\n`,
  );
  writeJsonResult(opts.json, { out: opts.out, config, metrics });
  unlock();
  return 0;
}
