/**
 * The endpoint probe against a real `transformers serve` (transformers' own OpenAI-compatible
 * server, what a GPU box without vLLM has), on this CPU with SmolLM2-135M-Instruct's transformers
 * copy: what `llm-auction probe` finds, then the same short bench through it twice, with the probe
 * (the default: the run adapts to what the server refuses) and with `probe=off` (the spec as
 * written). The second is the control: if the server took every field, both would pass.
 *
 *   bash scripts/make-serve-venv.sh && npx tsx benchmarks/probe-transformers-serve.ts [--out runs/probe-tserve]
 *
 * Writes benchmarks/results/probe-transformers-serve.json (BENCHMARKS.md after `npm run bench`).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { ProbeReport } from '../models/probe.ts';
import { writeResult } from './lib.ts';

const { values: a } = parseArgs({ options: { out: { type: 'string', default: 'runs/probe-tserve' }, limit: { type: 'string', default: '3' } } });
const out = resolve(a.out!);
mkdirSync(out, { recursive: true });
const venv = resolve(process.env.SERVE_VENV ?? '.cache/venv-serve');
const model = resolve('.cache/models/smollm2-hf');
for (const [f, how] of [
  [join(venv, 'bin', 'transformers'), 'bash scripts/make-serve-venv.sh'],
  [join(model, 'model.safetensors'), 'bash scripts/make-trainer-model.sh'],
] as const) {
  if (!existsSync(f)) {
    console.error(`[probe-tserve] ${f} is missing: run ${how}`);
    process.exit(2);
  }
}

const port = await new Promise<number>((res) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = (s.address() as { port: number }).port;
    s.close(() => res(p));
  });
});
const serveArgs = ['serve', model, '--device', 'cpu', '--host', '127.0.0.1', '--port', String(port)];
// Its /v1/models lists the hub cache, and fails when there is none: give it an empty one.
const hubCache = join(out, 'hf-hub');
mkdirSync(hubCache, { recursive: true });
const commands: string[] = [`HF_HUB_OFFLINE=1 HF_HUB_CACHE=${hubCache} ${join(venv, 'bin', 'transformers')} ${serveArgs.join(' ')}`];
const server = spawn(join(venv, 'bin', 'transformers'), serveArgs, {
  env: { ...process.env, HF_HUB_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1', TOKENIZERS_PARALLELISM: 'false', HF_HUB_CACHE: hubCache },
  stdio: ['ignore', 'inherit', 'inherit'],
});
process.on('exit', () => server.kill('SIGTERM'));
const url = `http://127.0.0.1:${port}/v1`;
const t0 = Date.now();
for (;;) {
  try {
    if ((await fetch(`${url}/models`)).ok) break;
  } catch {
    // not up yet
  }
  if (Date.now() - t0 > 180_000) throw new Error('transformers serve did not answer within 3 minutes');
  await new Promise((r) => setTimeout(r, 1000));
}
console.log(`[probe-tserve] transformers serve up at ${url} after ${((Date.now() - t0) / 1000).toFixed(0)} s`);

const spec = `openai:${url}?model=${encodeURIComponent(model)}&max_tokens=64&concurrency=1&cache=off`;
const cli = (args: string[]) => {
  const argv = [resolve('bin/llm-auction.js'), '--ad-template', 'compact', ...args];
  commands.push(`node ${argv.map((s) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s}'`)).join(' ')}`);
  const t = Date.now();
  const r = spawnSync(process.execPath, argv, { encoding: 'utf8' });
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  return { status: r.status ?? -1, stderr: r.stderr, seconds: (Date.now() - t) / 1000 };
};

try {
  const probe = cli(['probe', '-m', spec, '--json', join(out, 'probe.json')]);
  // What `llm-auction probe --json` writes: the probe's report (models/probe.ts).
  const found = JSON.parse(readFileSync(join(out, 'probe.json'), 'utf8')) as ProbeReport;
  const bench = (s: string, name: string) => cli(['bench', '-m', s, '--queries', 'test', '--limit', a.limit!, '--candidates', '3', '--seed', '0', '--json', join(out, `${name}.json`)]);
  const adapted = bench(spec, 'bench-probed');
  const asWritten = bench(`${spec}&probe=off`, 'bench-probe-off');
  const refused = Object.entries(found.fields).filter(([, r]) => !r.accepted).map(([f, r]) => `${f} (HTTP ${r.status ?? '?'})`);
  const md = [
    `\`transformers serve\` (transformers ${readFileSync(join(venv, '.transformers'), 'utf8').trim()}) with SmolLM2-135M-Instruct on the CPU; \`llm-auction probe\` then \`bench --limit ${a.limit}\` through it.`,
    '',
    '| what the probe found | |',
    '| --- | --- |',
    ...Object.entries(found.fields).map(([f, r]) => `| field ${f} | ${r.accepted ? 'accepted' : `refused (HTTP ${r.status ?? '?'})`} |`),
    `| n = 3 returns | ${found.n_returned === null ? '-' : `${found.n_returned} choice(s)`} |`,
    `| different texts at temperature 1 over ${found.tries} seeds | ${found.distinct_texts} |`,
    `| same seed, same text | ${found.seed_repeats === null ? 'could not tell' : found.seed_repeats ? 'yes' : 'no'} |`,
    `| log-probabilities returned | ${found.logprobs_returned ? 'yes' : 'no'} |`,
    `| a cut answer says "length" | ${found.finish_reason_length === null ? 'could not tell' : found.finish_reason_length ? 'yes' : 'no'} |`,
    `| adapted with | ${Object.entries(found.adapt).map(([k, v]) => `\`${k}=${v}\``).join(', ') || 'nothing'} |`,
    '',
    ...found.warnings.map((w) => `- probe warning: ${w}`),
    '',
    `bench through it with the probe (default): exit ${adapted.status} in ${adapted.seconds.toFixed(0)} s; the same bench with \`probe=off\`: exit ${asWritten.status}${asWritten.status !== 0 ? ` (${asWritten.stderr.trim().split('\n').filter((l) => /llm-auction|error|HTTP/i.test(l)).at(-1)?.slice(0, 200) ?? 'failed'})` : ''}.`,
    '',
  ];
  writeResult({
    suite: 'probe-transformers-serve',
    tasks: [],
    targets: [
      { what: 'the probe finds what transformers serve refuses or ignores', target: 'a refused field or an ignored n', measured: `${refused.join(', ') || 'nothing refused'}; n = 3 gives ${found.n_returned ?? '-'}`, met: refused.length > 0 || (found.n_returned !== null && found.n_returned < 3) },
      { what: 'a run through it adapts and finishes (probe on)', target: 'exit 0', measured: `exit ${adapted.status}`, met: adapted.status === 0 },
      { what: 'control: the same run with probe=off fails on what the server refuses', target: 'exit not 0', measured: `exit ${asWritten.status}`, met: asWritten.status !== 0 },
    ],
    notes: [`Run: \`npx tsx benchmarks/probe-transformers-serve.ts --out ${a.out} --limit ${a.limit}\`; commands:\n${commands.join('\n')}`],
    markdown: md,
    extra: { probe: found, exit: { probed: probe.status, bench_probed: adapted.status, bench_probe_off: asWritten.status } },
  });
  writeFileSync(join(out, 'commands.txt'), `${commands.join('\n')}\n`);
  console.log(md.join('\n'));
} finally {
  server.kill('SIGTERM');
}
