/** Progress outside a terminal: a plain line every few seconds, so CI logs show a run is alive. */
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { progressBar, stagedProgress } from '../cli/progress.ts';

afterEach(() => {
  vi.useRealTimers();
  delete process.env.LLM_AUCTION_PROGRESS_MS;
});

function sink() {
  const stream = new PassThrough() as unknown as NodeJS.WriteStream & { text: string };
  stream.text = '';
  stream.write = ((chunk: string) => ((stream.text += chunk), true)) as typeof stream.write;
  return stream;
}

describe('progress when stderr is not a terminal', () => {
  it('writes one line per interval, not per update, and a last line at the end', () => {
    vi.useFakeTimers({ now: 0 });
    process.env.LLM_AUCTION_PROGRESS_MS = '5000';
    const s = sink();
    const p = progressBar('simulate', s);
    for (let d = 1; d <= 100; d++) {
      vi.setSystemTime(d * 200); // 100 updates over 20 s
      p.update(d, 100);
    }
    p.stop();
    const lines = s.text.trim().split('\n');
    expect(lines).toHaveLength(4); // at 5, 10, 15 and 20 s; the closing line would repeat the 20 s one, so it is not written twice
    expect(lines[0]).toMatch(/^simulate: 25\/100 \(25%\), 5 s, about 15 s left$/);
    expect(lines.at(-1)).toMatch(/^simulate: 100\/100 \(100%\), 20 s$/);
    // A stop after progress the last line did not show still says where it ended.
    const t = sink();
    const q = progressBar('bench', t);
    vi.setSystemTime(30_000);
    q.update(1, 10);
    vi.setSystemTime(31_000);
    q.update(2, 10);
    q.stop();
    expect(t.text.trim().split('\n').at(-1)).toMatch(/^bench: 2\/10 \(20%\), 11 s/); // created at 20 s, stopped at 31 s
  });

  it('is silent with LLM_AUCTION_PROGRESS_MS=0', () => {
    process.env.LLM_AUCTION_PROGRESS_MS = '0';
    const s = sink();
    const p = progressBar('bench', s);
    p.update(1, 2);
    p.stop();
    expect(s.text).toBe('');
  });

  it('keeps writing through a long stage with no update, and stops when stopped', () => {
    vi.useFakeTimers({ now: 0 });
    process.env.LLM_AUCTION_PROGRESS_MS = '5000';
    const s = sink();
    const p = progressBar('train', s);
    p.update(1, 4);
    vi.advanceTimersByTime(12_000); // a 12 s stage: lines at 5 and 10 s
    expect(s.text.trim().split('\n')).toHaveLength(2);
    p.stop();
    const n = s.text.trim().split('\n').length;
    vi.advanceTimersByTime(20_000);
    expect(s.text.trim().split('\n')).toHaveLength(n);
  });

  it('staged progress says the share done and the time left, not units', () => {
    vi.useFakeTimers({ now: 0 });
    process.env.LLM_AUCTION_PROGRESS_MS = '5000';
    const s = sink();
    vi.setSystemTime(10_000);
    const q = stagedProgress('training', 8, s); // e.g. 2 runs x 1 epoch x 4 phases
    vi.setSystemTime(20_000);
    q.at(1, 1); // two of eight stages after 10 s: about 30 s left
    q.stop();
    expect(s.text.trim().split('\n')[0]).toBe('training: 25% done, 10 s, about 30 s left');
  });

  it('a stage before the first (a warm start, epoch 0) shows 0% done, never a negative share', () => {
    vi.useFakeTimers({ now: 0 });
    process.env.LLM_AUCTION_PROGRESS_MS = '5000';
    const s = sink();
    const q = stagedProgress('train', 4, s);
    vi.setSystemTime(10_000);
    q.at(-4, 0.5);
    q.stop();
    expect(s.text).toContain('train: 0% done');
    expect(s.text).not.toMatch(/-\d+%/);
  });
});

