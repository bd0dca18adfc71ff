/**
 * The external-trainer contract: IRPO's LLM phase handed to a real trainer (TRL's DPOTrainer on a
 * GPU, say) and the new weights handed back to the serving endpoint.
 *
 * For epoch t the suite writes DIR/epoch-t/pairs.jsonl (one {"prompt","chosen","rejected"} per
 * line: TRL's preference layout) and DIR/epoch-t/trainer.json, then runs the configured command
 * with these environment variables:
 *
 *   LLM_AUCTION_PAIRS        the pairs file
 *   LLM_AUCTION_MANIFEST     trainer.json: epoch, base model, reference adapter, beta, learning rate, max steps
 *   LLM_AUCTION_OUTPUT_DIR   where the command must write the adapter (adapter_config.json and weights)
 *   LLM_AUCTION_BASE_MODEL   the base model to fine-tune
 *   LLM_AUCTION_REF_ADAPTER  the previous epoch's adapter (empty at epoch 1): pi_ref of Eq. 6
 *   LLM_AUCTION_EPOCH, LLM_AUCTION_BETA
 *   LLM_AUCTION_OBJECTIVE    dpo, or sft for the format warm start (epoch 0: DIR/epoch-0/warm-start/,
 *                            {"prompt","completion"} lines in the pairs file; training/warm-start.ts)
 *
 * A zero exit and an adapter_config.json in the output directory complete the phase. The adapter is
 * then loaded into the endpoint (vLLM: POST /v1/load_lora_adapter with {lora_name, lora_path},
 * which needs VLLM_ALLOW_RUNTIME_LORA_UPDATING=True) or by a reload command, and the next epoch
 * samples from model = lora_name. The command may write metrics.json ({loss_before, loss_after}).
 *
 * With `processes` > 1 (or an accelerate config file) a `python SCRIPT.py …` command is run under
 * `accelerate launch --num_processes N` (`trainerLaunch`): DDP over N processes (gloo on CPUs, NCCL
 * on GPUs), or what the config file says (training/configs/: DeepSpeed ZeRO-2, ZeRO-3), with
 * LLM_AUCTION_PROCESSES=N in the environment. The reference trainer splits each step's pairs over
 * the processes and writes from the main one (training/python/trainer_common.py).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { UsageError } from '../lib/errors.ts';

export const ExternalTrainerConfig = z.object({
  adLlm: z.string().startsWith('openai:').describe('openai: spec of the endpoint that serves the base model (vLLM with --enable-lora)'),
  command: z.string().min(1).describe('Shell command that trains on the pairs (see training/README.md for its environment)'),
  baseModel: z.string().min(1).describe('Base model name or path given to the trainer'),
  reload: z.string().default('vllm-lora').describe('How the endpoint picks up an adapter: vllm-lora (its runtime LoRA API), none, or command:CMD (run CMD with the same environment)'),
  adapterPrefix: z.string().default('irpo-epoch-').describe('Adapter names are this prefix plus the epoch'),
  timeoutSeconds: z.number().positive().default(24 * 3600).describe('Longest a trainer run may take'),
  learningRate: z
    .number()
    .positive()
    .default(1e-6)
    .describe("Trainer learning rate, written to trainer.json (paper: 1e-6 for full fine-tuning; LoRA on a small model wants more, e.g. 5e-5)"),
  maxSteps: z
    .number()
    .int()
    .positive()
    .optional()
    .describe("Most optimizer steps per epoch, written to trainer.json as max_steps (absent: the trainer's own choice, one pass over the pairs)"),
  warmStart: z
    .enum(['none', 'sft'])
    .default('none')
    .describe("Epoch 0 before IRPO: none, or sft, a supervised round on answers with well-formed insertions (the embedded policy's plans with no broken markup, rendered with the real candidates), for a model that never writes the format on its own"),
  processes: z
    .number()
    .int()
    .min(1)
    .max(4096)
    .default(1)
    .describe('Processes the trainer runs on: above 1, a `python SCRIPT.py …` command runs under `accelerate launch --num_processes N` (one per GPU; on a CPU machine, gloo)'),
  accelerateConfig: z
    .string()
    .min(1)
    .optional()
    .describe('accelerate config file the launcher reads (training/configs/deepspeed-zero2.yaml, deepspeed-zero3.yaml); given, the command runs under accelerate launch even with one process'),
  warmStartLearningRate: z.number().positive().default(2e-4).describe('Learning rate of the sft warm start (LoRA)'),
  warmStartSteps: z.number().int().positive().optional().describe('Most optimizer steps of the sft warm start (absent: one pass over its examples)'),
  warmStartQueries: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('Training queries the sft warm start learns the format on (absent: the IRPO training queries); more than IRPO uses, so the model learns to copy titles rather than memorize a few answers'),
});
export type ExternalTrainerConfig = z.infer<typeof ExternalTrainerConfig>;

export interface ExternalPolicy {
  epoch: number;
  /** The model name to request from the endpoint for this epoch's policy. */
  model: string;
  adapter: string | null;
}

function runCommand(command: string, env: Record<string, string>, timeoutSeconds: number, logFile: string): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('bash', ['-c', command], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const log: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => log.push(d));
    child.stderr.on('data', (d: Buffer) => log.push(d));
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutSeconds * 1000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      writeFileSync(logFile, Buffer.concat(log));
      resolvePromise(code ?? 1);
    });
  });
}

const shellQuote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/**
 * The shell command the trainer runs as: `command` itself on one process, else the same Python
 * script under accelerate's launcher, started through the command's own interpreter (so its venv's
 * accelerate is the one used): `PY -m accelerate.commands.launch --num_processes N … SCRIPT ARGS`.
 * Without a config file, `--multi_gpu` selects torchrun's launcher, which on a machine with no GPU
 * runs N CPU processes over gloo. A command that does not start with a Python interpreter (after
 * any VAR=value prefixes) is refused: the launcher needs the script.
 */
export function trainerLaunch(cfg: Pick<ExternalTrainerConfig, 'command' | 'processes' | 'accelerateConfig'>): string {
  if (cfg.processes <= 1 && cfg.accelerateConfig === undefined) return cfg.command;
  const m = /^(\s*(?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)*)(\S*python[0-9.]*)\s+(?!-)(.+)$/s.exec(cfg.command);
  if (!m) throw new UsageError(`--trainer-processes and --trainer-accelerate-config run the trainer under accelerate launch, which needs --trainer-command to be "python SCRIPT.py [ARGS]"; got ${JSON.stringify(cfg.command)}`);
  const how = cfg.accelerateConfig !== undefined ? ['--config_file', shellQuote(cfg.accelerateConfig)] : ['--multi_gpu', '--mixed_precision', 'no', '--dynamo_backend', 'no'];
  return `${m[1]}${m[2]} -m accelerate.commands.launch --num_processes ${cfg.processes} --num_machines 1 ${how.join(' ')} ${m[3]}`;
}

/** vLLM's runtime LoRA loading: the endpoint's server root is the base URL without /v1. */
export async function loadLoraAdapter(baseURL: string, name: string, path: string): Promise<void> {
  const url = `${baseURL.replace(/\/+$/, '')}/load_lora_adapter`;
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ lora_name: name, lora_path: path }) });
  if (!res.ok) throw new UsageError(`${url}: loading adapter ${name} failed: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`);
}

/** Run the trainer for one epoch and make the endpoint serve the result. */
export async function externalUpdate(
  cfg: ExternalTrainerConfig,
  args: { epoch: number; dir: string; pairsFile: string; previous: ExternalPolicy; beta: number; baseURL: string; objective?: 'dpo' | 'sft' },
): Promise<{ policy: ExternalPolicy; lossBefore: number; lossAfter: number }> {
  // The warm start (epoch 0) is the same contract with objective sft: {prompt, completion} lines.
  const objective = args.objective ?? 'dpo';
  const learningRate = objective === 'sft' ? cfg.warmStartLearningRate : cfg.learningRate;
  const maxSteps = objective === 'sft' ? cfg.warmStartSteps : cfg.maxSteps;
  // No pair (every response scored alike, as a model that never writes the format does): there is
  // nothing to train on, and the trainer would refuse an empty file. The policy stays as it was.
  if (readFileSync(args.pairsFile, 'utf8').trim() === '') {
    return { policy: { epoch: args.epoch, model: args.previous.model, adapter: args.previous.adapter }, lossBefore: Number.NaN, lossAfter: Number.NaN };
  }
  const output = resolve(join(args.dir, 'adapter'));
  mkdirSync(output, { recursive: true });
  const manifest = {
    epoch: args.epoch,
    objective,
    pairs: resolve(args.pairsFile),
    base_model: cfg.baseModel,
    reference_adapter: args.previous.adapter,
    output_dir: output,
    beta: args.beta,
    learning_rate: learningRate,
    ...(maxSteps !== undefined ? { max_steps: maxSteps } : {}),
  };
  const manifestFile = resolve(join(args.dir, 'trainer.json'));
  writeFileSync(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
  const env = {
    LLM_AUCTION_PAIRS: manifest.pairs,
    LLM_AUCTION_MANIFEST: manifestFile,
    LLM_AUCTION_OUTPUT_DIR: output,
    LLM_AUCTION_BASE_MODEL: cfg.baseModel,
    LLM_AUCTION_REF_ADAPTER: args.previous.adapter ?? '',
    LLM_AUCTION_EPOCH: String(args.epoch),
    LLM_AUCTION_BETA: String(args.beta),
    LLM_AUCTION_OBJECTIVE: objective,
    LLM_AUCTION_PROCESSES: String(cfg.processes),
  };
  const code = await runCommand(trainerLaunch(cfg), env, cfg.timeoutSeconds, join(args.dir, 'trainer.log'));
  if (code !== 0) throw new UsageError(`external trainer exited with code ${code} in epoch ${args.epoch}; see ${join(args.dir, 'trainer.log')}`);
  if (!existsSync(join(output, 'adapter_config.json'))) throw new UsageError(`external trainer wrote no adapter_config.json to ${output} in epoch ${args.epoch}`);
  const name = `${cfg.adapterPrefix}${args.epoch}`;
  if (cfg.reload === 'vllm-lora') await loadLoraAdapter(args.baseURL, name, output);
  else if (cfg.reload.startsWith('command:')) {
    const rc = await runCommand(cfg.reload.slice('command:'.length), { ...env, LLM_AUCTION_ADAPTER_NAME: name }, 3600, join(args.dir, 'reload.log'));
    if (rc !== 0) throw new UsageError(`reload command exited with code ${rc}; see ${join(args.dir, 'reload.log')}`);
  } else if (cfg.reload !== 'none') throw new UsageError(`unknown reload ${JSON.stringify(cfg.reload)}: expected vllm-lora, none or command:CMD`);
  let lossBefore = Number.NaN;
  let lossAfter = Number.NaN;
  const metricsFile = join(output, 'metrics.json');
  if (existsSync(metricsFile)) {
    const m = JSON.parse(readFileSync(metricsFile, 'utf8')) as { loss_before?: number; loss_after?: number };
    lossBefore = m.loss_before ?? Number.NaN;
    lossAfter = m.loss_after ?? Number.NaN;
  }
  return { policy: { epoch: args.epoch, model: cfg.reload === 'none' ? args.previous.model : name, adapter: output }, lossBefore, lossAfter };
}
