/**
 * `train`'s run: IRPO (Algorithm 1, training/irpo.ts) configured from the command's or the
 * library's options. The flag combinations are checked here, the config is built here, and the
 * epochs' metrics come back; the command prints them.
 */
import { UsageError } from '../lib/errors.ts';
import { irpoConfig, type IrpoConfig } from '../training/config.ts';
import { ExternalTrainerConfig, trainerLaunch } from '../training/external.ts';
import { trainIrpo, type EpochMetrics } from '../training/irpo.ts';

export interface TrainOptions {
  out: string;
  preset: 'tiny' | 'paper';
  epochs?: number;
  trainer: 'embedded' | 'external';
  reward: 'pctr' | 'oracle' | 'shuffled';
  /** Frozen text encoder of the pCTR model: lexical, or onnx:NAME (needs onnxruntime-node). */
  encoder: string;
  worldSeed?: number;
  pctrShare?: number;
  queries?: number;
  /** Responses per query in the reward-model and DPO phases. */
  rmSamples?: number;
  dpoSamples?: number;
  candidates?: number;
  /** The external trainer: the served base model, the command, its name, how adapters reload. */
  adLlm?: string;
  trainerCommand?: string;
  baseModel?: string;
  reload: string;
  /** The external trainer's learning rate and most steps per epoch (trainer.json). */
  trainerLr?: number;
  trainerSteps?: number;
  /** The external trainer across processes: under `accelerate launch --num_processes N`, or with an accelerate config file (training/external.ts trainerLaunch). */
  trainerProcesses?: number;
  trainerAccelerateConfig?: string;
  /** The format warm start (epoch 0): none or sft, with its own learning rate and most steps. */
  warmStart?: 'none' | 'sft';
  warmStartLr?: number;
  warmStartSteps?: number;
  warmStartQueries?: number;
  resume?: boolean;
  seed: number;
}

/** Flag combinations that cannot run, as usage errors, before any work or lock. */
export function checkTrainOptions(opts: TrainOptions): void {
  if (opts.trainer === 'external' && (!opts.adLlm || !opts.trainerCommand || !opts.baseModel)) {
    throw new UsageError('--trainer external needs --ad-llm openai:URL?model=BASE, --trainer-command CMD and --base-model NAME (see training/README.md)');
  }
  if (opts.trainer !== 'external' && (opts.trainerLr !== undefined || opts.trainerSteps !== undefined)) {
    throw new UsageError('--trainer-lr and --trainer-steps set the external trainer: add --trainer external (the embedded trainer is configured by its DPO config)');
  }
  if (opts.trainer !== 'external' && (opts.trainerProcesses !== undefined || opts.trainerAccelerateConfig !== undefined)) {
    throw new UsageError('--trainer-processes and --trainer-accelerate-config launch the external trainer across processes: add --trainer external');
  }
  if (opts.trainer === 'external' && ((opts.trainerProcesses ?? 1) > 1 || opts.trainerAccelerateConfig !== undefined)) {
    trainerLaunch({ command: opts.trainerCommand ?? '', processes: opts.trainerProcesses ?? 1, accelerateConfig: opts.trainerAccelerateConfig });
  }
  const warm = opts.warmStart !== undefined && opts.warmStart !== 'none';
  const warmKnobs = opts.warmStartLr !== undefined || opts.warmStartSteps !== undefined || opts.warmStartQueries !== undefined;
  if (opts.trainer !== 'external' && (warm || warmKnobs)) {
    throw new UsageError('--warm-start teaches a real model the insertion format: add --trainer external (the embedded Ad-LLM writes the format already)');
  }
  if (!warm && warmKnobs) {
    throw new UsageError('--warm-start-lr, --warm-start-steps and --warm-start-queries set the format warm start: add --warm-start sft');
  }
}

/** The IRPO config the options describe (the preset with the options' overrides). */
export function trainConfig(opts: TrainOptions): IrpoConfig {
  checkTrainOptions(opts);
  const external =
    opts.trainer === 'external'
      ? ExternalTrainerConfig.parse({
          adLlm: opts.adLlm ?? '',
          command: opts.trainerCommand ?? '',
          baseModel: opts.baseModel ?? '',
          reload: opts.reload,
          ...(opts.trainerLr !== undefined ? { learningRate: opts.trainerLr } : {}),
          ...(opts.trainerSteps !== undefined ? { maxSteps: opts.trainerSteps } : {}),
          ...(opts.trainerProcesses !== undefined ? { processes: opts.trainerProcesses } : {}),
          ...(opts.trainerAccelerateConfig !== undefined ? { accelerateConfig: opts.trainerAccelerateConfig } : {}),
          ...(opts.warmStart !== undefined ? { warmStart: opts.warmStart } : {}),
          ...(opts.warmStartLr !== undefined ? { warmStartLearningRate: opts.warmStartLr } : {}),
          ...(opts.warmStartSteps !== undefined ? { warmStartSteps: opts.warmStartSteps } : {}),
          ...(opts.warmStartQueries !== undefined ? { warmStartQueries: opts.warmStartQueries } : {}),
        })
      : undefined;
  return irpoConfig({
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
}

export interface TrainRunHooks {
  /** Recorded in the run's manifest. */
  versions?: Record<string, string>;
  onPhase?: (epoch: number, phase: string) => void;
  onProgress?: (phase: string, done: number, total: number) => void;
  /** Stops the run at its next phase or progress report; the checkpoints written so far stay (resume continues). */
  signal?: AbortSignal;
}

/** IRPO's epochs into opts.out (checkpoints, metrics, episodes); the caller holds the run directory's lock. */
export async function trainRun(opts: TrainOptions, hooks: TrainRunHooks = {}): Promise<{ out: string; config: IrpoConfig; metrics: EpochMetrics[] }> {
  const { signal } = hooks;
  signal?.throwIfAborted();
  const config = trainConfig(opts);
  const metrics = await trainIrpo({
    out: opts.out,
    config,
    seed: opts.seed,
    resume: opts.resume ?? false,
    versions: hooks.versions ?? {},
    onPhase: (epoch, p) => (signal?.throwIfAborted(), hooks.onPhase?.(epoch, p)),
    onProgress: (p, d, n) => (signal?.throwIfAborted(), hooks.onProgress?.(p, d, n)),
  });
  return { out: opts.out, config, metrics };
}
