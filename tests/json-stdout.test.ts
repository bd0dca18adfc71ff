/**
 * `npx llm-auction <command> --json - | node -e 'JSON.parse(require("fs").readFileSync(0))'`
 * succeeds for every command: with `--json -` stdout carries one JSON document and nothing else
 * (tables, summaries and progress go to stderr). Each command runs once, on small inputs, through
 * a real shell pipeline.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'llm-auction-json-'));
const GEM_BENCH = join(ROOT, '..', 'shared', 'data', 'gem-bench');
const ads = join(dir, 'ads.json');
writeFileSync(ads, JSON.stringify([{ id: 'Ad-0001', title: 'Floral Coffee Cup' }]));
const response = join(dir, 'response.txt');
writeFileSync(response, 'Try @Floral Coffee Cup@[Ad-0001].');

const PARSE = `node -e 'const j = JSON.parse(require("fs").readFileSync(0)); if (j === null || typeof j !== "object") process.exit(1); process.stdout.write(JSON.stringify(Object.keys(j)))'`;

/** Run `npx llm-auction ARGS --json - | node -e 'JSON.parse(…)'`; the pipeline's status is the parser's. */
function pipeline(args: string[], timeoutMs = 300_000): { status: number | null; keys: string[]; stderr: string } {
  const quoted = args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = spawnSync('bash', ['-c', `npx --no-install llm-auction ${quoted} --json - 2>"${join(dir, 'stderr.txt')}" | ${PARSE}`], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: timeoutMs,
    env: { ...process.env, LLM_AUCTION_PROGRESS_MS: '0' },
  });
  let stderr = '';
  try {
    stderr = spawnSync('cat', [join(dir, 'stderr.txt')], { encoding: 'utf8' }).stdout;
  } catch {
    // none
  }
  return { status: r.status, keys: r.status === 0 ? (JSON.parse(r.stdout) as string[]) : [], stderr: `${r.stderr}${stderr}` };
}

// The demo at its smallest still trains five runs, benches the exact best-in-class policy,
// verifies and writes the report: about 2 minutes on 2 idle cores. It runs in every `npm test`
// (it caught a report crash on runs with no clicks to fit); LLM_AUCTION_SLOW_TESTS=0 skips it.
const SLOW = process.env.LLM_AUCTION_SLOW_TESTS !== '0';
const demoSkip = SLOW ? '' : ' [skipped: LLM_AUCTION_SLOW_TESTS=0]';
if (!SLOW) console.warn(`json-stdout.test.ts: the demo's --json - case is skipped${demoSkip.replace(' [skipped:', ':').replace(']', '')}`);

describe('--json - prints only JSON on stdout, for every command', () => {
  const trainDir = join(dir, 'train');

  it('train, then bench into its run directory, then report on it', () => {
    const train = pipeline(['train', '--out', trainDir, '--queries', '20', '--epochs', '1']);
    expect(train.status, train.stderr).toBe(0);
    expect(train.keys).toContain('metrics');
    const bench = pipeline(['bench', '-m', `embedded:pretrained,embedded:optimal,run:${trainDir}`, '--limit', '5', '--out', trainDir]);
    expect(bench.status, bench.stderr).toBe(0);
    expect(bench.keys).toContain('rows');
    const report = pipeline(['report', '--run', trainDir, '--out', join(dir, 'report'), '--queries', '5', '--responses', '5']);
    expect(report.status, report.stderr).toBe(0);
    expect(report.keys).toContain('files');
  });

  // ~2 min alone, 2.5 min beside the other test files on 2 cores: room for a slower machine.
  it.skipIf(!SLOW)(
    `demo${demoSkip}`,
    () => {
      const demo = pipeline(['demo', '--run', join(dir, 'demo-run'), '--out', join(dir, 'demo-report'), '--queries', '30', '--bench-queries', '20', '--epochs', '1'], 840_000);
      expect(demo.keys, demo.stderr).toContain('rows');
    },
    900_000,
  );

  it.each([
    ['simulate', ['simulate', '-m', 'embedded:pretrained', '--limit', '3', '--out', join(dir, 'sim')], 'episodes'],
    ['verify', ['verify', '-m', 'embedded:optimal', '--property', 'ir', '--cases', '2', '--budget', '200'], 'properties'],
    ['parse', ['parse', '--ads', ads, response], 'exposures'],
  ] as const)('%s', (_name, args, key) => {
    const r = pipeline([...args]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.keys).toContain(key);
  });

  it.skipIf(!existsSync(GEM_BENCH))(`import${existsSync(GEM_BENCH) ? '' : ` [skipped: no GEM-Bench data at ${GEM_BENCH}]`}`, () => {
    const r = pipeline(['import', '--format', 'gem-bench', '--from', GEM_BENCH, '--out', join(dir, 'import')]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.keys).toContain('format');
  });

  it('serve: one JSON document when it stops', async () => {
    const child = spawn('bash', ['-c', `exec node bin/llm-auction.js serve -m embedded:pretrained --port 0 --json -`], { cwd: ROOT });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    for (let t = 0; !/stop with Ctrl-C/.test(err) && t < 600; t++) await new Promise((r) => setTimeout(r, 50));
    expect(err).toMatch(/llm-auction serve: .* at http/); // the banner, on stderr
    expect(out).toBe('');
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code, err).toBe(0);
    const parsed = spawnSync('bash', ['-c', PARSE], { input: out, encoding: 'utf8' });
    expect(parsed.status, out).toBe(0);
    expect(JSON.parse(parsed.stdout)).toContain('url');
  });
});

describe('--version', () => {
  it('on the program and on every command', () => {
    const version = (JSON.parse(spawnSync('cat', [join(ROOT, 'package.json')], { encoding: 'utf8' }).stdout) as { version: string }).version;
    for (const args of [['--version'], ['simulate', '--version'], ['verify', '--version']]) {
      const r = spawnSync(process.execPath, [join(ROOT, 'bin/llm-auction.js'), ...args], { encoding: 'utf8' });
      expect(r.status).toBe(0);
      expect(r.stdout.trim()).toBe(version);
    }
  });
});
