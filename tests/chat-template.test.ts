/**
 * One chat template for sampling and training: the token ids the local backend evaluates and
 * draws (node-llama-cpp, the GGUF's Jinja template) are the ids the DPO trainer scores
 * (transformers' apply_chat_template on the trainer's copy of the model, the way TRL tokenizes a
 * conversational pair: the prompt with add_generation_prompt, then prompt + answer, the answer's
 * ids being what follows the prompt). Needs the GGUF, the transformers copy and the training venv;
 * without any of them the test is skipped, saying which is missing.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildAdPrompt } from '../mechanism/prompt.ts';
import type { AuctionInput } from '../mechanism/types.ts';
import type { ChatMessage } from '../models/backends/chat-client.ts';
import { disposeLocalModels, LocalChat, type TokenTrace } from '../models/backends/local.ts';
import { defaultBaseModelDir, trainingPython } from '../models/lora.ts';
import { manifest, modelCacheDir } from '../models/registry.ts';

const M = manifest().models.smollm2;
const GGUF = path.join(modelCacheDir(), M.dir, M.file);
const HF = defaultBaseModelDir('smollm2')!;
const PY = trainingPython();
const missing = [
  [GGUF, 'bash scripts/fetch-models.sh smollm2'],
  [path.join(HF, 'tokenizer.json'), 'bash scripts/make-trainer-model.sh'],
  [PY, 'bash training/python/smoke_test.sh'],
].filter(([f]) => !existsSync(f!));
const why = missing.map(([f, how]) => `${f} is missing (${how})`).join('; ');
if (missing.length > 0) console.warn(`chat-template.test.ts: skipped: ${why}`);

const input: AuctionInput = {
  query: 'Which shoes should I buy for trail running in the rain?',
  profile: { id: 'U-0007', info: 'Female, 34, lives in Seattle, runs three times a week', interests: ['running', 'hiking'] },
  ads: [
    { id: 'Ad-0001', title: 'Trail Runner GTX Waterproof Shoe', bid: 1.25 },
    { id: 'Ad-0002', title: 'Ceramic Pour-Over Coffee Dripper', bid: 0.4 },
  ],
};

/** What transformers gives for each conversation: the prompt ids and the prompt + answer ids. */
interface HfIds {
  prompt: number[];
  full: number[];
  eos: number;
  /** The prompt as text. */
  text: string;
}

function transformersIds(cases: { messages: ChatMessage[]; answer: string }[]): HfIds[] {
  const script = [
    'import json, sys',
    'from transformers import AutoTokenizer',
    'tok = AutoTokenizer.from_pretrained(sys.argv[1])',
    'out = []',
    'for c in json.load(sys.stdin):',
    '    ids = lambda m, **kw: list(tok.apply_chat_template(m, tokenize=True, return_dict=True, **kw)["input_ids"])',
    '    p = ids(c["messages"], add_generation_prompt=True)',
    '    f = ids(c["messages"] + [{"role": "assistant", "content": c["answer"]}])',
    '    out.append({"prompt": p, "full": f, "eos": tok.eos_token_id, "text": tok.decode(p)})',
    'print(json.dumps(out))',
  ].join('\n');
  const stdout = execFileSync(PY, ['-c', script, HF], { input: JSON.stringify(cases), encoding: 'utf8', timeout: 120_000, stdio: ['pipe', 'pipe', 'pipe'] });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as HfIds[];
}

describe.skipIf(missing.length > 0)('one chat template: sampler tokens = trainer tokens (SmolLM2)', () => {
  const chat = new LocalChat({ model: 'smollm2', threads: 1 });
  afterAll(async () => {
    await disposeLocalModels();
  });

  it('renders the prompt as apply_chat_template does, and the sampled answer is what follows it', async () => {
    const conversations: ChatMessage[][] = [
      [{ role: 'user', content: buildAdPrompt(input) }],
      [
        { role: 'system', content: 'You are a shopping assistant. Answer in one sentence.' },
        { role: 'user', content: 'Which shoes should I buy for trail running in the rain?' },
      ],
    ];
    // A prefilled answer (the conversation ends with it): what the wrapper renders is prompt + answer.
    const prefilled = 'For wet trails, try the @Trail Runner GTX Waterproof Shoe@[Ad-0001]: grippy and dry.';
    const traces: TokenTrace[] = [];
    for (const messages of conversations) {
      const trace: TokenTrace = { prompt: [], choices: [] };
      await chat.chat(messages, { seed: 1, temperature: 0, maxTokens: 24 }, trace);
      traces.push(trace);
    }
    const prefillTrace: TokenTrace = { prompt: [], choices: [] };
    await chat.chat([...conversations[1]!, { role: 'assistant', content: prefilled }], { seed: 1, temperature: 0, maxTokens: 1 }, prefillTrace);

    const hf = transformersIds([
      ...conversations.map((messages, i) => ({ messages, answer: traces[i]!.choices[0]!.text })),
      { messages: conversations[1]!, answer: prefilled },
    ]);
    for (let i = 0; i < conversations.length; i++) {
      const t = traces[i]!;
      const { prompt, full, eos } = hf[i]!;
      const drawn = t.choices[0]!.tokens;
      expect(drawn.length).toBeGreaterThan(0);
      // The prompt the sampler evaluated is transformers' prompt with the generation prompt...
      expect(t.prompt).toEqual(prompt);
      // ...which is a prefix of prompt + answer, so TRL takes the answer's ids from where it ends.
      expect(full.slice(0, prompt.length)).toEqual(prompt);
      // Those ids are the ones the sampler drew, then the end of the turn (<|im_end|> and a newline).
      expect(full.slice(prompt.length, prompt.length + drawn.length)).toEqual(drawn);
      expect(full.slice(prompt.length + drawn.length)).toEqual([eos, 198]);
      // And the context really held the prompt, then the drawn ids (the last one is not evaluated).
      const ctx = t.choices[0]!.context;
      expect(ctx.slice(0, prompt.length)).toEqual(prompt);
      expect(drawn.slice(0, ctx.length - prompt.length)).toEqual(ctx.slice(prompt.length));
      expect(ctx.length - prompt.length).toBeGreaterThanOrEqual(drawn.length - 1);
    }
    // The template's default system message is there when the conversation has none (the
    // automatic ChatML wrapper left it out), and gives way to the conversation's own.
    expect(hf[0]!.text).toContain('You are a helpful AI assistant named SmolLM');
    expect(hf[1]!.text).not.toContain('named SmolLM');
    expect(hf[1]!.text).toContain('You are a shopping assistant.');
    const pre = hf[2]!;
    expect(prefillTrace.prompt).toEqual(pre.full.slice(0, -2));
    expect(pre.full.slice(-2)).toEqual([pre.eos, 198]);
  });
});

describe('a GGUF without a chat template', () => {
  it('falls back to the automatic format, with a one-line note', async () => {
    const { chatWrapperFor } = await import('../models/backends/local.ts');
    const notes: string[] = [];
    const fake = { filename: 'bare.gguf', fileInfo: { metadata: { tokenizer: {} } } } as unknown as Parameters<typeof chatWrapperFor>[0];
    expect(await chatWrapperFor(fake, (l) => notes.push(l))).toBe('auto');
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(/bare\.gguf has no chat template.*automatic/);
    expect(notes[0]).not.toContain('\n');
  });
});
