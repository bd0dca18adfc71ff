/**
 * Choosing the text encoder from the command line: the pCTR model of `train --encoder` and the
 * simulated user of `--user embedded:parametric?encoder=…`. Needs the ONNX model fetched by
 * `bash scripts/fetch-models.sh`; skipped with that hint otherwise.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = new URL('../bin/llm-auction.js', import.meta.url).pathname;
const MODEL = new URL('../.cache/models/all-minilm-l6-v2/model.onnx', import.meta.url).pathname;
const HAVE = existsSync(process.env.LLM_AUCTION_MODEL_CACHE ? join(process.env.LLM_AUCTION_MODEL_CACHE, 'all-minilm-l6-v2', 'model.onnx') : MODEL);
if (!HAVE) console.warn('encoder-cli: the ONNX encoder is not in .cache/models; run `bash scripts/fetch-models.sh` to test --encoder');
const root = mkdtempSync(join(tmpdir(), 'llm-auction-encoder-cli-'));
const cli = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 300_000 });

describe.skipIf(!HAVE)('--encoder onnx:all-minilm-l6-v2', () => {
  it('trains the pCTR model on the ONNX encoder and records it in the manifest', () => {
    const out = join(root, 'train');
    const r = cli(['train', '--out', out, '--queries', '60', '--epochs', '1', '--encoder', 'onnx:all-minilm-l6-v2']);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).config.pctrEncoder).toBe('onnx:all-minilm-l6-v2');
    const pctr = JSON.parse(readFileSync(join(out, 'epoch-1', 'pctr.json'), 'utf8'));
    expect(JSON.stringify(pctr)).toContain('onnx');
  });

  it('lets the simulated user judge relevance through the ONNX encoder', () => {
    const out = join(root, 'sim');
    const r = cli(['simulate', '-m', 'embedded:pretrained', '--user', 'embedded:parametric?encoder=onnx:all-minilm-l6-v2', '--limit', '15', '--out', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(out, 'episodes.jsonl'), 'utf8').trim().split('\n')).toHaveLength(15);
  });
});

describe('--encoder errors', () => {
  it('a missing encoder is one line and exit 2', () => {
    const r = cli(['simulate', '-m', 'embedded:pretrained', '--user', 'embedded:parametric?encoder=onnx:/no/such/dir', '--limit', '2', '--out', join(root, 'bad')]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
