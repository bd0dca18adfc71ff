/**
 * The external-trainer contract, end to end on CPU: a fake vLLM-like endpoint serves the Ad-LLM and
 * loads LoRA adapters, and a stand-in command plays the DPO trainer.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
    const python = readFileSync(new URL('../training/python/train_dpo.py', import.meta.url), 'utf8');
    const read = [...python.matchAll(/manifest\.get\("(\w+)"/g)].map((m) => m[1]!);
    expect(read).toEqual(expect.arrayContaining(['base_model', 'reference_adapter', 'beta', 'learning_rate']));
    for (const key of read) expect(Object.keys(written), key).toContain(key);
    expect(written.reference_adapter).toBe(join(out, 'epoch-1', 'adapter'));
    // The trainer's knobs reach it: --trainer-lr and --trainer-steps.
    expect(written.learning_rate).toBe(5e-5);
    expect(written.max_steps).toBe(2);
    expect(read).toEqual(expect.arrayContaining(['learning_rate', 'max_steps']));
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
