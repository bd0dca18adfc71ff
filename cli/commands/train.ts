/** `llm-auction train`: IRPO (Algorithm 1) on the embedded world, resumable phase by phase. The run is evaluation/train.ts's; this checks the run directory, shows progress and prints the epochs. */
import { checkTrainOptions, trainConfig, trainRun, type TrainOptions as TrainRunOptions } from '../../evaluation/train.ts';
import { fmt, table, writeJsonResult } from '../output.ts';
import { stagedProgress } from '../progress.ts';
import { versions } from '../versions.ts';
import { preflightTrain } from '../preflight.ts';

/** IRPO's phases, in the order each epoch runs them (training/irpo.ts onPhase). */
const PHASES = ['online data', 'reward model', 'preference pairs', 'DPO update'];
/** The paper's terms, glossed once in a log (the demo prints the same four phases). */
const TRAIN_GLOSSARY =
  "each IRPO epoch: online data (the current policy answers the training queries; the user's clicks are logged) -> reward model (pCTR fitted on those logs) -> " +
  'preference pairs (per query, the best sampled response against each clearly worse one) -> DPO update (a policy step making preferred responses likelier)';

export interface TrainOptions extends TrainRunOptions {
  json?: string;
}

export async function runTrain(opts: TrainOptions): Promise<number> {
  checkTrainOptions(opts);
  // Flags, the run directory's lock and (with --resume) its files, checked before any work.
  const unlock = await preflightTrain(opts);
  // Overall progress over epochs x phases (share done, time left), fed within a phase by its own
  // counts; in a log each phase also gets a line, and the paper's terms a gloss before the first.
  const epochs = trainConfig(opts).epochs;
  const log = !process.stderr.isTTY || !!process.env.CI;
  const overall = stagedProgress('train', epochs * PHASES.length);
  let stage = 0;
  if (log) process.stderr.write(`${TRAIN_GLOSSARY}\n`);
  let run;
  try {
    run = await trainRun(opts, {
      versions: versions(),
      onPhase: (epoch, p) => {
        stage = Math.max(0, (epoch - 1) * PHASES.length + Math.max(0, PHASES.indexOf(p)));
        if (log) process.stderr.write(`epoch ${epoch}/${epochs}: ${p}\n`);
        overall.at(stage);
      },
      onProgress: (_p, d, n) => overall.at(stage, n > 0 ? d / n : 0),
    });
    overall.at(epochs * PHASES.length);
  } finally {
    overall.stop();
  }
  const { config, metrics } = run;
  process.stdout.write(
    `${table(
      ['epoch', 'revenue/query', 'reward/query', 'bid-click rank correlation', 'pCTR AUC (own held-out logs)', 'preference pairs', 'DPO loss'],
      metrics.map((m) => [
        m.epoch,
        m.revenue_per_query,
        m.reward_per_query,
        m.bid_click_rank_correlation,
        m.pctr_auc ?? NaN,
        m.pairs,
        m.pairs === 0 ? 'no pairs: no update' : `${fmt(m.dpo_loss_before, 3)} -> ${fmt(m.dpo_loss_after, 3)}${m.step_kept === 0 ? ' (step not kept: theta unchanged)' : ''}`,
      ]),
    )}\n(revenue and reward per query in the bids' money units; they and the bid-click rank correlation, Spearman of each candidate's bid and its sampled clicks, are measured on each epoch's online data, under the policy of the epoch before)\ntrained policy: run:${opts.out} (epochs 0..${config.epochs})\n`,
  );
  writeJsonResult(opts.json, { out: opts.out, config, metrics });
  unlock();
  return 0;
}
