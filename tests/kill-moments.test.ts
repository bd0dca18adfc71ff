/**
 * kill -9 at several moments of `train` and of `bench --out`, then `--resume`: every file of the run
 * directory equals, byte for byte, what a run that was never stopped writes; train's metrics.jsonl
 * is compared line by line without each phase's wall-clock `seconds` (the one field no two runs
 * share). The moments are chosen by watching the run as it goes: lines in the files it appends to,
 * a checkpoint appearing, the phase it announces on stderr. Each moment must catch the run before
 * its end, and the moments must leave different states behind (else they are one moment).
 * (verify's moments: tests/verify-resume.test.ts.)
 *
 * Controls, so that "identical" can fail: a resume over a directory whose kept work was changed
 * (one kept episode's reward in train, one finished query's revenue in bench) gives other
 * results, so the resumed runs do read what was kept rather than start over; and a record torn
 * mid-write is left at the end of one killed run, which the resume must repair.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = new URL('../bin/llm-auction.js', import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), 'llm-auction-kill-moments-'));
// Progress every update, so phases are announced on stderr as they start.
const env = { ...process.env, LLM_AUCTION_PROGRESS_MS: '0' };

/** Every file under dir, as its path relative to dir, sorted. */
function files(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  if (existsSync(dir)) walk(dir);
  return out.sort();
}

const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').length - 1 : 0);

/** What a killed run left: each file with its size (tells the moments apart). */
const state = (dir: string) => files(dir).map((f) => `${f}:${statSync(join(dir, f)).size}`).join(' ');

/** Run the CLI to its end; its exit code and stderr. */
function cli(args: string[]): Promise<{ code: number | null; err: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, err })));
}

/**
 * Start the CLI and kill -9 it as soon as `moment` (given its stderr so far) holds; polled every
 * 2 ms and on every stderr write. Returns how it ended and the state it left in `dir`.
 */
async function killWhen(args: string[], dir: string, moment: (err: string) => boolean): Promise<{ signal: NodeJS.Signals | null; state: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  let sent = false;
  const check = () => {
    if (!sent && moment(err)) {
      sent = true;
      child.kill('SIGKILL');
    }
  };
  child.stderr.on('data', (d) => {
    err += d;
    check();
  });
  const timer = setInterval(check, 2);
  const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_c, s) => resolve(s)));
  clearInterval(timer);
  return { signal, state: state(dir) };
}

/** Expect `got` to hold the same files as `want`, each byte for byte (`norm` maps a file's text first). */
function expectSameDir(got: string, want: string, norm: (file: string, text: string) => string = (_f, t) => t): void {
  expect(files(got)).toEqual(files(want));
  for (const f of files(want)) expect(norm(f, readFileSync(join(got, f), 'utf8')), f).toBe(norm(f, readFileSync(join(want, f), 'utf8')));
}

/** train's metrics.jsonl without the seconds each phase took; other files as they are. */
const withoutSeconds = (f: string, text: string) =>
  f === 'metrics.jsonl'
    ? text
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          const m = JSON.parse(l) as Record<string, unknown>;
          delete m.seconds;
          return JSON.stringify(m);
        })
        .join('\n')
    : text;

describe('kill -9 at several moments, then --resume', () => {
  it('train: every file of the run as an uninterrupted run writes it, metrics included', async () => {
    const args = ['train', '--queries', '30', '--epochs', '2', '--seed', '5'];
    const full = join(root, 'train-full');
    const a = await cli([...args, '--out', full]);
    expect(a.code, a.err).toBe(0);
    const online = (dir: string, t: number) => join(dir, `epoch-${t}`, 'online', 'episodes.jsonl');
    expect(lines(online(full, 1))).toBe(300); // 30 queries x 10 samples: the moments below fall inside
    const moments: [string, (dir: string) => (err: string) => boolean][] = [
      ['epoch 1, online data half written', (d) => () => lines(online(d, 1)) >= 150],
      ['epoch 1, pCTR fitted, pairs started', () => (err) => err.includes('epoch 1/2: preference pairs')],
      ['epoch 1 checkpointed', (d) => () => existsSync(join(d, 'epoch-1', 'policy.json'))],
      ['epoch 2, online data started', (d) => () => lines(online(d, 2)) >= 30],
      ['epoch 2, DPO update started', () => (err) => err.includes('epoch 2/2: DPO update')],
    ];
    const states = new Set<string>();
    for (const [k, [name, moment]] of moments.entries()) {
      const dir = join(root, `train-killed-${k}`);
      const killed = await killWhen([...args, '--out', dir], dir, moment(dir));
      expect(killed.signal, `${name}: it finished before the kill`).toBe('SIGKILL');
      expect(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')).status, name).not.toBe('complete');
      states.add(killed.state);
      // The first moment also leaves an episode torn mid-write, as a kill inside a write can.
      if (k === 0) appendFileSync(online(dir, 1), '{"query_id":"Q-0');
      if (k === 3) cpSync(dir, join(root, 'train-control'), { recursive: true });
      const r = await cli([...args, '--out', dir, '--resume']);
      expect(r.code, `${name}: ${r.err}`).toBe(0);
      expectSameDir(dir, full, withoutSeconds);
    }
    expect(states.size).toBe(moments.length);

    // Control: the same resume over kept work that was changed (epoch 2's first online episode,
    // kept from before the kill, scored 100 higher) does not give the uninterrupted run's metrics.
    const control = join(root, 'train-control');
    const eps = readFileSync(online(control, 2), 'utf8').split('\n');
    const e0 = JSON.parse(eps[0]!);
    eps[0] = JSON.stringify({ ...e0, reward: e0.reward + 100, revenue: e0.revenue + 100 });
    writeFileSync(online(control, 2), eps.join('\n'));
    const c = await cli([...args, '--out', control, '--resume']);
    expect(c.code, c.err).toBe(0);
    expect(withoutSeconds('metrics.jsonl', readFileSync(join(control, 'metrics.jsonl'), 'utf8'))).not.toBe(withoutSeconds('metrics.jsonl', readFileSync(join(full, 'metrics.jsonl'), 'utf8')));
  }, 600_000);

  it('bench --out: bench.json, its progress and every episode file as an uninterrupted run writes them', async () => {
    // rm=oracle: MOSAIC without a logged-clicks pCTR fit in each run (what is tested is kill and resume).
    const args = ['bench', '-m', 'embedded:pretrained,mosaic:embedded:pretrained?n=3&rm=oracle,embedded:optimal', '--limit', '40', '--seed', '4'];
    const full = join(root, 'bench-full');
    const a = await cli([...args, '--out', full]);
    expect(a.code, a.err).toBe(0);
    const progress = (dir: string) => join(dir, 'bench-progress.jsonl');
    expect(lines(progress(full))).toBe(41); // the configuration, then one line a query
    // Progress lines: the configuration only, then 3, 19 and 37 queries done.
    const moments = [1, 4, 20, 38];
    const states = new Set<string>();
    for (const n of moments) {
      const dir = join(root, `bench-killed-${n}`);
      const killed = await killWhen([...args, '--out', dir], dir, () => lines(progress(dir)) >= n);
      expect(killed.signal, `at ${n} lines: it finished before the kill`).toBe('SIGKILL');
      expect(existsSync(join(dir, 'bench.json'))).toBe(false);
      expect(lines(progress(dir))).toBeLessThan(41);
      states.add(killed.state);
      if (n === 4) appendFileSync(progress(dir), '{"query_id":"Q-'); // a write torn by the kill
      if (n === 20) cpSync(dir, join(root, 'bench-control'), { recursive: true });
      const r = await cli([...args, '--out', dir, '--resume']);
      expect(r.code, `at ${n} lines: ${r.err}`).toBe(0);
      expectSameDir(dir, full);
    }
    expect(states.size).toBe(moments.length);

    // Control: a finished query's kept revenue changed, the resumed bench.json is not the same.
    const control = join(root, 'bench-control');
    const text = readFileSync(progress(control), 'utf8').split('\n');
    const rec = JSON.parse(text[1]!);
    rec.outcomes[0].revenue += 50;
    text[1] = JSON.stringify(rec);
    writeFileSync(progress(control), text.join('\n'));
    const c = await cli([...args, '--out', control, '--resume']);
    expect(c.code, c.err).toBe(0);
    expect(readFileSync(join(control, 'bench.json'), 'utf8')).not.toBe(readFileSync(join(full, 'bench.json'), 'utf8'));
  }, 600_000);
});
