/**
 * The external trainer across processes (issue #27): `--trainer-processes N` runs a
 * `python SCRIPT.py …` trainer command under `accelerate launch --num_processes N`. The command it
 * builds, what it refuses, and (where the trainer's venv is installed: .cache/venv-train, made by
 * training/python/smoke_test.sh) one DPO epoch of the reference trainer through externalUpdate on
 * 2 CPU processes, its losses beside one process's within 1e-4 (CI's smoke test checks the same
 * with the adapter weights).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkTrainOptions, type TrainOptions } from '../evaluation/train.ts';
import { ExternalTrainerConfig, externalUpdate, trainerLaunch } from '../training/external.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const PY = join(ROOT, '.cache/venv-train/bin/python');

describe('trainerLaunch', () => {
  it('leaves a one-process command alone and puts a python script under accelerate launch', () => {
    const command = 'python training/python/train_dpo.py --cpu';
    expect(trainerLaunch({ command, processes: 1 })).toBe(command);
    expect(trainerLaunch({ command, processes: 2 })).toBe(
      'python -m accelerate.commands.launch --num_processes 2 --num_machines 1 --multi_gpu --mixed_precision no --dynamo_backend no training/python/train_dpo.py --cpu',
    );
    // The command's own interpreter (its venv) and VAR=value prefixes are kept; a config file replaces --multi_gpu.
    expect(trainerLaunch({ command: 'HF_HOME=/x .venv/bin/python3.11 t.py', processes: 4, accelerateConfig: 'training/configs/deepspeed-zero3.yaml' })).toBe(
      'HF_HOME=/x .venv/bin/python3.11 -m accelerate.commands.launch --num_processes 4 --num_machines 1 --config_file training/configs/deepspeed-zero3.yaml t.py',
    );
    expect(trainerLaunch({ command: 'python t.py', processes: 1, accelerateConfig: "my conf's.yaml" })).toContain(`--config_file 'my conf'\\''s.yaml'`);
    for (const bad of ['bash train.sh', 'python -m mytrainer', 'accelerate launch t.py']) {
      expect(() => trainerLaunch({ command: bad, processes: 2 }), bad).toThrow(/needs --trainer-command to be "python SCRIPT.py/);
    }
  });

  it('the flags need --trainer external and a python command, checked before any work', () => {
    const base = { out: 'x', preset: 'tiny', trainer: 'embedded', reward: 'pctr', encoder: 'lexical', reload: 'none', seed: 0 } as TrainOptions;
    expect(() => checkTrainOptions({ ...base, trainerProcesses: 2 })).toThrow(/add --trainer external/);
    const ext = { ...base, trainer: 'external' as const, adLlm: 'openai:http://127.0.0.1:1/v1?model=m', baseModel: 'm' };
    expect(() => checkTrainOptions({ ...ext, trainerCommand: './train.sh', trainerProcesses: 2 })).toThrow(/python SCRIPT.py/);
    expect(() => checkTrainOptions({ ...ext, trainerCommand: 'python t.py', trainerProcesses: 2 })).not.toThrow();
    expect(ExternalTrainerConfig.parse({ adLlm: 'openai:x', command: 'c', baseModel: 'm' }).processes).toBe(1);
  });
});

describe.skipIf(!existsSync(PY))('the reference trainer on 2 CPU processes', () => {
  it('one DPO epoch through externalUpdate: the losses of 1 and 2 processes within 1e-4', { timeout: 300_000 }, async () => {
    const work = mkdtempSync(join(tmpdir(), 'llm-auction-launch-'));
    Object.assign(process.env, { HF_HUB_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1', HF_DATASETS_OFFLINE: '1', TOKENIZERS_PARALLELISM: 'false', HF_HOME: join(work, 'hf'), PYTHONWARNINGS: 'ignore' });
    const made = spawnSync(PY, [join(ROOT, 'training/python/make_tiny_model.py'), '--out', join(work, 'tiny'), '--pairs-out', join(work, 'pairs.jsonl')], { encoding: 'utf8' });
    expect(made.status, made.stderr).toBe(0);
    // Two pairs per optimizer step in both runs (one per process under the launcher). The runs
    // inherit this test's niceness.
    const command = `${PY} ${join(ROOT, 'training/python/train_dpo.py')} --cpu --global-batch-size 2 --learning-rate 1e-3 --warmup-ratio 0 --max-length 512 --lora-r 4 --lora-alpha 8 --lora-dropout 0`;
    const run = async (processes: number) => {
      const dir = join(work, `p${processes}`);
      mkdirSync(dir);
      const cfg = ExternalTrainerConfig.parse({ adLlm: 'openai:http://127.0.0.1:1/v1?model=tiny', command, baseModel: join(work, 'tiny'), reload: 'none', maxSteps: 2, learningRate: 1e-3, processes });
      const r = await externalUpdate(cfg, { epoch: 1, dir, pairsFile: join(work, 'pairs.jsonl'), previous: { epoch: 0, model: 'tiny', adapter: null }, beta: 0.1, baseURL: 'http://127.0.0.1:1/v1' });
      const metrics = JSON.parse(readFileSync(join(dir, 'adapter', 'metrics.json'), 'utf8')) as { losses: number[]; processes: number; steps: number };
      return { r, metrics, log: readFileSync(join(dir, 'trainer.log'), 'utf8') };
    };
    const one = await run(1);
    const two = await run(2);
    expect(one.metrics.processes).toBe(1);
    expect(two.metrics.processes, two.log.slice(-2000)).toBe(2); // really two processes
    expect(two.metrics.steps).toBe(2);
    expect(two.metrics.losses).toHaveLength(one.metrics.losses.length);
    two.metrics.losses.forEach((x, k) => expect(Math.abs(x - one.metrics.losses[k]!)).toBeLessThanOrEqual(1e-4));
    expect(Math.abs(two.r.lossAfter - one.r.lossAfter)).toBeLessThanOrEqual(1e-4);
    // The second step moved the loss off log 2 (the first is log 2 for every run: a fresh LoRA is the base model).
    expect(Math.abs(one.metrics.losses[1]! - Math.LN2)).toBeGreaterThan(1e-3);
  });
});
