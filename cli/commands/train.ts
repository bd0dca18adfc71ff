/** `llm-auction train`: IRPO (Algorithm 1) on the embedded world, resumable phase by phase. */
import { trainIrpo } from '../../training/irpo.ts';
import { UsageError } from '../../lib/errors.ts';
import { irpoConfig } from '../../training/config.ts';
import { ExternalTrainerConfig } from '../../training/external.ts';
import { fmt, table, writeJsonResult } from '../output.ts';
import { progressBar } from '../progress.ts';
import { versions } from '../versions.ts';
import { preflightTrain, type TrainFlags } from '../preflight.ts';

/** The flags preflight checks (run directory, trainer, reward, encoder), plus the rest. */
export interface TrainOptions extends TrainFlags {
  preset: 'tiny' | 'paper';
  epochs?: number;
  reward: 'pctr' | 'oracle' | 'shuffled';
  worldSeed?: number;
  pctrShare?: number;
  queries?: number;
  /** Responses per query in the reward-model and DPO phases. */
  rmSamples?: number;
  dpoSamples?: number;
  candidates?: number;
  /** The external trainer's learning rate and most steps per epoch (trainer.json). */
  trainerLr?: number;
  trainerSteps?: number;
  /** The format warm start (epoch 0): none or sft, with its own learning rate and most steps. */
  warmStart?: 'none' | 'sft';
  warmStartLr?: number;
  warmStartSteps?: number;
  warmStartQueries?: number;
  json?: string;
  seed: number;
}

export async function runTrain(opts: TrainOptions): Promise<number> {
  if (opts.trainer === 'external' && (!opts.adLlm || !opts.trainerCommand || !opts.baseModel)) {
    throw new UsageError('--trainer external needs --ad-llm openai:URL?model=BASE, --trainer-command CMD and --base-model NAME (see training/README.md)');
  }
  if (opts.trainer !== 'external' && (opts.trainerLr !== undefined || opts.trainerSteps !== undefined)) {
    throw new UsageError('--trainer-lr and --trainer-steps set the external trainer: add --trainer external (the embedded trainer is configured by its DPO config)');
  }
  const warm = opts.warmStart !== undefined && opts.warmStart !== 'none';
  const warmKnobs = opts.warmStartLr !== undefined || opts.warmStartSteps !== undefined || opts.warmStartQueries !== undefined;
  if (opts.trainer !== 'external' && (warm || warmKnobs)) {
    throw new UsageError('--warm-start teaches a real model the insertion format: add --trainer external (the embedded Ad-LLM writes the format already)');
  }
  if (!warm && warmKnobs) {
    throw new UsageError('--warm-start-lr, --warm-start-steps and --warm-start-queries set the format warm start: add --warm-start sft');
  }
  // Flags, the run directory's lock and (with --resume) its files, checked before any work.
  const unlock = await preflightTrain(opts);
  const external =
    opts.trainer === 'external'
      ? ExternalTrainerConfig.parse({
          adLlm: opts.adLlm ?? '',
          command: opts.trainerCommand ?? '',
          baseModel: opts.baseModel ?? '',
          reload: opts.reload,
          ...(opts.trainerLr !== undefined ? { learningRate: opts.trainerLr } : {}),
          ...(opts.trainerSteps !== undefined ? { maxSteps: opts.trainerSteps } : {}),
          ...(opts.warmStart !== undefined ? { warmStart: opts.warmStart } : {}),
          ...(opts.warmStartLr !== undefined ? { warmStartLearningRate: opts.warmStartLr } : {}),
          ...(opts.warmStartSteps !== undefined ? { warmStartSteps: opts.warmStartSteps } : {}),
          ...(opts.warmStartQueries !== undefined ? { warmStartQueries: opts.warmStartQueries } : {}),
        })
      : undefined;
  const config = irpoConfig({
    preset: opts.preset,
    epochs: opts.epochs,
    trainer: opts.trainer,
    reward: opts.reward,
    trainQueries: opts.queries,
    external,
    pctrEncoder: opts.encoder,
    worldSeed: opts.worldSeed,
    pctrDataShare: opts.pctrShare,
    rmSamples: opts.rmSamples,
    dpoSamples: opts.dpoSamples,
    candidates: opts.candidates,
  });
  let bar = progressBar('train');
  let phase = '';
  const metrics = await trainIrpo({
    out: opts.out,
    config,
    seed: opts.seed,
    resume: opts.resume ?? false,
    versions: versions(),
    onPhase: (epoch, p) => {
      bar.stop();
      phase = `epoch ${epoch}: ${p}`;
      if (!process.stderr.isTTY) process.stderr.write(`${phase}\n`);
      bar = progressBar(phase);
    },
    onProgress: (_p, d, n) => bar.update(d, n),
  });
  bar.stop();
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
