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
  };
  const code = await runCommand(cfg.command, env, cfg.timeoutSeconds, join(args.dir, 'trainer.log'));
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
