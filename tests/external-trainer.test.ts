/**
 * The external-trainer contract, end to end on CPU: a fake vLLM-like endpoint serves the Ad-LLM and
 * loads LoRA adapters, and a stand-in command plays the DPO trainer.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResponseParser } from '../mechanism/parser.ts';
import { parseAdPrompt } from '../mechanism/prompt.ts';
import { irpoConfig } from '../training/config.ts';
import { loadPolicy, trainIrpo } from '../training/irpo.ts';
import { startFakeOpenAIServer, type FakeOpenAIServer } from './helpers/fake-openai-server.ts';

const root = mkdtempSync(join(tmpdir(), 'llm-auction-external-'));
const trainer = new URL('./fixtures/stand-in-trainer.mjs', import.meta.url).pathname;
let server: FakeOpenAIServer;
beforeAll(async () => {
  server = await startFakeOpenAIServer();
});
afterAll(async () => server.close());

describe('IRPO with an external trainer', () => {
  it('writes TRL pairs, runs the trainer, loads each adapter and samples the next epoch from it', async () => {
    const out = join(root, 'run');
    const config = irpoConfig({
      preset: 'tiny',
      trainQueries: 12,
      epochs: 2,
      rmSamples: 3,
      dpoSamples: 5,
      deltaTh: 0,
      reward: 'oracle',
      trainer: 'external',
      external: {
        adLlm: `openai:${server.baseURL}?model=fake-model&cache=off`,
        command: `node ${trainer}`,
        baseModel: 'Qwen3-4B-Instruct',
        reload: 'vllm-lora',
        adapterPrefix: 'irpo-epoch-',
        timeoutSeconds: 60,
        learningRate: 5e-5,
        maxSteps: 2,
      },
    });
    const metrics = await trainIrpo({ out, config, seed: 1 });
    expect(metrics).toHaveLength(2);
    expect(metrics[0]!.pairs).toBeGreaterThan(0);
    expect(metrics[0]!.dpo_loss_after).toBe(0.5);
    // Both adapters were loaded into the endpoint, and epoch 2 sampled from the first one.
    expect([...server.adapters.keys()]).toEqual(['irpo-epoch-1', 'irpo-epoch-2']);
    expect(server.bodies.some((b) => b.model === 'irpo-epoch-1')).toBe(true);
    const seen = JSON.parse(readFileSync(join(out, 'epoch-2', 'adapter', 'seen.json'), 'utf8'));
    expect(seen.ref).toBe(join(out, 'epoch-1', 'adapter'));
    expect(seen.manifest.base_model).toBe('Qwen3-4B-Instruct');
    const last = loadPolicy(out);
    expect(last).toMatchObject({ kind: 'external', epoch: 2, model: 'irpo-epoch-2' });
    expect(existsSync(join(out, 'epoch-1', 'trainer.log'))).toBe(true);
    // The reference trainer reads trainer.json by key: every key it reads is one we write, and
    // the previous adapter (pi_ref) is under the key it looks for.
    const written = JSON.parse(readFileSync(join(out, 'epoch-2', 'trainer.json'), 'utf8')) as Record<string, unknown>;
    // The contract is read in trainer_common.py (shared with the SFT warm start), driven by train_dpo.py.
    const python = ['train_dpo.py', 'trainer_common.py'].map((f) => readFileSync(new URL(`../training/python/${f}`, import.meta.url), 'utf8')).join('\n');
    const read = [...python.matchAll(/manifest\.get\("(\w+)"/g)].map((m) => m[1]!);
    expect(read).toEqual(expect.arrayContaining(['base_model', 'reference_adapter', 'beta', 'learning_rate']));
    for (const key of read) expect(Object.keys(written), key).toContain(key);
    expect(written.reference_adapter).toBe(join(out, 'epoch-1', 'adapter'));
    // The trainer's knobs reach it: --trainer-lr and --trainer-steps.
    expect(written.learning_rate).toBe(5e-5);
    expect(written.max_steps).toBe(2);
    expect(read).toEqual(expect.arrayContaining(['learning_rate', 'max_steps']));
  });

  it('--warm-start sft: epoch 0 trains on well-formed answers, its adapter is pi_0 and epoch 1 samples from it', async () => {
    const out = join(root, 'warm');
    const before = server.adapters.size;
    const config = irpoConfig({
      preset: 'tiny',
      trainQueries: 10,
      epochs: 1,
      rmSamples: 2,
      dpoSamples: 3,
      deltaTh: 0,
      reward: 'oracle',
      trainer: 'external',
      external: {
        adLlm: `openai:${server.baseURL}?model=fake-model&cache=off`,
        command: `node ${trainer}`,
        baseModel: 'SmolLM2-135M-Instruct',
        adapterPrefix: 'warm-',
        timeoutSeconds: 60,
        warmStart: 'sft',
        warmStartLearningRate: 3e-4,
        warmStartSteps: 7,
        warmStartQueries: 14,
      },
    });
    await trainIrpo({ out, config, seed: 2 });
    const lines = readFileSync(join(out, 'epoch-0', 'warm-start', 'sft.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    // --warm-start-queries: the warm start learns on more queries (14) than IRPO trains on (10).
    expect(lines).toHaveLength(14);
    // Every target is well formed: it names only candidates of its own prompt, with no format error.
    for (const l of lines) {
      const parsed = new ResponseParser(parseAdPrompt(l.prompt).input.ads).parse(l.completion);
      expect(parsed.errors, l.completion).toEqual([]);
      expect(parsed.exposures.length).toBe(l.ads);
    }
    expect(lines.some((l) => l.ads > 0)).toBe(true);
    const manifest = JSON.parse(readFileSync(join(out, 'epoch-0', 'warm-start', 'trainer.json'), 'utf8'));
    expect(manifest).toMatchObject({ objective: 'sft', learning_rate: 3e-4, max_steps: 7, epoch: 0, reference_adapter: null });
    expect(JSON.parse(readFileSync(join(out, 'epoch-0', 'warm-start', 'adapter', 'seen.json'), 'utf8')).objective).toBe('sft');
    // pi_0 is the warm-started model; epoch 1 sampled from it and trained with it as pi_ref.
    expect(loadPolicy(out, 0)).toMatchObject({ kind: 'external', model: 'warm-0', adapter: join(out, 'epoch-0', 'warm-start', 'adapter') });
    expect([...server.adapters.keys()].slice(before)).toEqual(['warm-0', 'warm-1']);
    expect(server.bodies.some((b) => b.model === 'warm-0')).toBe(true);
    const seen1 = JSON.parse(readFileSync(join(out, 'epoch-1', 'adapter', 'seen.json'), 'utf8'));
    expect(seen1.ref).toBe(join(out, 'epoch-0', 'warm-start', 'adapter'));
    expect(seen1.objective).toBe('dpo');
  });

  it('an epoch with no preference pair keeps the policy and does not run the trainer', async () => {
    const out = join(root, 'no-pairs');
    const config = irpoConfig({
      preset: 'tiny',
      trainQueries: 4,
      epochs: 1,
      rmSamples: 2,
      dpoSamples: 3,
      deltaTh: 1e9, // no reward gap is this large: no pairs
      reward: 'oracle',
      trainer: 'external',
      external: { adLlm: `openai:${server.baseURL}?model=fake-model&cache=off`, command: 'false', baseModel: 'm', adapterPrefix: 'none-', timeoutSeconds: 60 },
    });
    const metrics = await trainIrpo({ out, config, seed: 3 });
    expect(metrics[0]!.pairs).toBe(0);
    expect(existsSync(join(out, 'epoch-1', 'trainer.json'))).toBe(false);
    expect(loadPolicy(out)).toMatchObject({ kind: 'external', epoch: 1, model: 'fake-model', adapter: null });
  });

  it('stops with a clear error when the trainer fails', async () => {
    const config = irpoConfig({
      preset: 'tiny',
      trainQueries: 4,
      epochs: 1,
      rmSamples: 2,
      dpoSamples: 3,
      deltaTh: 0,
      reward: 'oracle',
      trainer: 'external',
      external: { adLlm: `openai:${server.baseURL}?model=fake-model&cache=off`, command: 'exit 7', baseModel: 'm', reload: 'none', adapterPrefix: 'a-', timeoutSeconds: 60 },
    });
    await expect(trainIrpo({ out: join(root, 'fail'), config, seed: 1 })).rejects.toThrow(/exited with code 7/);
  });
});
