/**
 * Bad input, table-driven: every command, every file format, every numeric flag. Each
 * case must end in exit 2 with one line on stderr that names the file, line and field (or the flag
 * or spec) — no stack trace, no hang, nothing silently accepted. The cases run through the CLI's
 * main() in this process (one process for all of them); a representative set also runs as real
 * subprocesses, to prove the exit codes and stderr of the binary itself.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { embeddedWorld } from '../simulation/world.ts';
import { runCli } from './helpers/run-cli.ts';

const BIN = new URL('../bin/llm-auction.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'llm-auction-bad-'));
const f = (name: string, content: string | Buffer) => {
  const p = join(dir, name);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, content);
  return p;
};
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const out = (name: string) => join(dir, 'out', name);

// ---- Files, good and bad ------------------------------------------------------------------------
const catalog = (lines: string[]) => lines.join('\n') + '\n';
const ad1 = '{"id":"Ad-0001","title":"Floral Coffee Cup"}';
const ad2 = '{"id":"Ad-0002","title":"Cork Yoga Block"}';
const goodCatalog = f('catalog.jsonl', catalog([ad1, ad2]));
const goodQueries = f('queries.jsonl', '{"id":"Q-1","profile_id":"U-0001","text":"Which mug keeps coffee warm?","split":"test"}\n');
const goodProfiles = f('profiles.jsonl', '{"id":"U-0001","info":"a runner","interests":["running"]}\n');
const goodAds = f('ads.json', JSON.stringify([{ id: 'Ad-0001', title: 'Floral Coffee Cup' }]));
const response = f('response.txt', 'Try @Floral Coffee Cup@[Ad-0001].');
const aFile = f('a-file', 'x');
const aDir = join(dir, 'a-dir');
mkdirSync(aDir, { recursive: true });

/** [name, content, expected message] for the catalog format. */
const catalogCases: [string, string | Buffer, RegExp][] = [
  ['not JSON on line 2', catalog([ad1, '{"id":"Ad-0002",']), /:2: not valid JSON/],
  ['missing title', catalog([ad1, '{"id":"Ad-0002"}']), /:2: field "title": is required/],
  ['empty title', catalog([ad1, '{"id":"Ad-0002","title":"  "}']), /:2: field "title": title must not be empty/],
  ['title not a string', catalog(['{"id":"Ad-0001","title":7}']), /:1: field "title": must be a string/],
  ['bad id', catalog(['{"id":"ad 1","title":"x"}']), /:1: field "id": must look like "Ad-0001"/],
  ['missing id', catalog(['{"title":"x"}']), /:1: field "id": is required/],
  ['duplicate id', catalog([ad1, ad2, ad1]), /:3: field "id": duplicate id "Ad-0001" \(first on line 1\)/],
  ['array line', catalog(['[1,2]']), /:1: each line must be a JSON object/],
  ['null line', catalog([ad1, 'null']), /:2: each line must be a JSON object/],
  ['empty file', '', /the catalog is empty/],
  ['only blank lines', '\n\n  \n', /the catalog is empty/],
  ['invalid UTF-8 on line 2', Buffer.concat([Buffer.from(`${ad1}\n{"id":"Ad-0002","title":"Caf`), Buffer.from([0xe9, 0x22, 0x7d, 0x0a])]), /:2: not valid UTF-8/],
  ['description not a string', catalog(['{"id":"Ad-0001","title":"x","description":5}']), /:1: field "description"/],
  ['torn last line', `${ad1}\n{"id":"Ad-00`, /:2: not valid JSON/],
  ['a title with a NUL', catalog(['{"id":"Ad-0001","title":"Cup\\u0000"}']), /:1: field "title": contains a control character/],
  ['a title with a lone surrogate', catalog(['{"id":"Ad-0001","title":"Cup \\ud800"}']), /:1: field "title": contains a lone surrogate/],
  ['an unknown field "titel"', catalog(['{"id":"Ad-0001","title":"Cup","titel":"Cup"}']), /:1: field "titel": unknown field/],
  ['a __proto__ key', catalog(['{"id":"Ad-0001","title":"Cup","__proto__":{"title":"x"}}']), /:1: field "__proto__": unknown field/],
  ['an absurd id', catalog([`{"id":"Ad-${'9'.repeat(5000)}","title":"Cup"}`]), /:1: field "id": must be at most 64 characters/],
  ['a duplicate key', catalog(['{"id":"Ad-0001","title":"Cup","title":"Mug"}']), /:1: field "title": appears twice on the line/],
  ['a line of NUL bytes', Buffer.concat([Buffer.from(`${ad1}\n`), Buffer.alloc(8), Buffer.from('\n')]), /:2: not valid JSON \(.*\\u0000/],
];
const profileCases: [string, string, RegExp][] = [
  ['missing interests', '{"id":"U-0001","info":"x"}\n', /:1: field "interests": is required/],
  ['interests not an array', '{"id":"U-0001","info":"x","interests":"running"}\n', /:1: field "interests": must be an array of strings/],
  ['empty interest', '{"id":"U-0001","info":"x","interests":[""]}\n', /:1: field "interests\[0\]"/],
  ['duplicate id', '{"id":"U-0001","info":"x","interests":[]}\n{"id":"U-0001","info":"y","interests":[]}\n', /:2: field "id": duplicate/],
  ['missing info', '{"id":"U-0001","interests":[]}\n', /:1: field "info": is required/],
  ['an unknown field', '{"id":"U-0001","info":"x","interests":[],"intrests":["a"]}\n', /:1: field "intrests": unknown field/],
  ['an absurd id', `{"id":"U-${'1'.repeat(100)}","info":"x","interests":[]}\n`, /:1: field "id": must be at most 64 characters/],
  ['not JSON', '{"id":\n', /:1: not valid JSON/],
];
const queryCases: [string, string, RegExp][] = [
  ['missing text', '{"id":"Q-1","profile_id":"U-0001","split":"test"}\n', /:1: field "text": is required/],
  ['bad split', '{"id":"Q-1","profile_id":"U-0001","text":"x","split":"dev"}\n', /:1: field "split": must be "train" or "test"/],
  ['unknown profile', '{"id":"Q-1","profile_id":"U-9999999","text":"x","split":"test"}\n', /:1: field "profile_id": no profile with id "U-9999999"/],
  ['duplicate id', '{"id":"Q-1","profile_id":"U-0001","text":"x","split":"test"}\n{"id":"Q-1","profile_id":"U-0001","text":"y","split":"test"}\n', /:2: field "id": duplicate/],
  ['empty file', '', /no queries/],
  ['not JSON on line 3 (CRLF)', '{"id":"Q-1","profile_id":"U-0001","text":"x","split":"test"}\r\n{"id":"Q-2","profile_id":"U-0001","text":"y","split":"test"}\r\n{oops}\r\n', /:3: not valid JSON/],
  ['text not a string', '{"id":"Q-1","profile_id":"U-0001","text":["x"],"split":"test"}\n', /:1: field "text": must be a string/],
  ['an unknown field "txt"', '{"id":"Q-1","profile_id":"U-0001","text":"x","txt":"y","split":"test"}\n', /:1: field "txt": unknown field/],
  ['a duplicate key', '{"id":"Q-1","profile_id":"U-0001","text":"x","split":"test","split":"train"}\n', /:1: field "split": appears twice on the line/],
];
const adsCases: [string, string, RegExp][] = [
  ['not JSON', '[{"id":"Ad-0001",', /:1: not valid JSON/],
  ['not an array', '{"id":"Ad-0001","title":"x"}', /:1: must be a JSON array/],
  ['element without title (line 3)', '[\n{"id":"Ad-0001","title":"a"},\n{"id":"Ad-0002"}\n]', /:3: field "\[1\]\.title": is required/],
  ['duplicate id', '[{"id":"Ad-0001","title":"a"},{"id":"Ad-0001","title":"b"}]', /field "\[1\]\.id": duplicate/],
  ['100,000 nested brackets', '['.repeat(100_000) + ']'.repeat(100_000), /nested too deeply|must be a JSON array|field/],
  ['bad id', '[{"id":"x","title":"a"}]', /field "\[0\]\.id": must look like "Ad-0001"/],
  ['trailing comma', '[{"id":"Ad-0001","title":"a"},]', /:1: not valid JSON/],
  ['empty file', '', /:1: (not valid JSON|must be a JSON array)/],
];

// ---- Module rules ---------------------------------------------------------------------------------
const mod = (name: string, body: string) => f(`rules/${name}.mjs`, body);
const modules: [string, string, RegExp][] = [
  ['throws on import', mod('throws-import', 'throw new Error("boom at load");'), /cannot load the module \(boom at load\)/],
  ['no default export', mod('no-default', 'export const x = 1;'), /default export must be an allocation rule/],
  ['sample not a function', mod('no-sample', 'export default { name: "x", sample: 3 };'), /default export must be an allocation rule/],
  ['bad payment', mod('bad-payment', 'export default { sample: async () => [], payment: "second-price" };'), /field "payment"/],
  ['wrong count', mod('wrong-count', 'export default { name: "short", async sample(i, n) { return ["one"].concat(n > 5 ? ["two"] : []).slice(0, n - 1); } };'), /mechanism short: sample\(\) returned 0 responses for 1 requested/],
  ['objects', mod('objects', 'export default { name: "obj", async sample(i, n) { return Array.from({ length: n }, () => ({ text: "x" })); } };'), /mechanism obj: sample\(\) response \[0\] is an object, not a string/],
  ['throws', mod('throws', 'export default { name: "thrower", async sample() { throw new Error("rule exploded"); } };'), /mechanism thrower: sample\(\) failed on query .*: rule exploded/],
  ['not an array', mod('not-array', 'export default { name: "str", async sample() { return "text"; } };'), /mechanism str: sample\(\) must return an array of strings, got a string/],
  ['throws a non-Error at import', mod('throw-42', 'throw 42;'), /cannot load the module \(threw 42\)/],
  ['name is an object', mod('name-object', 'export default { name: { a: 1 }, async sample(i, n) { return Array(n).fill("x"); } };'), /field "name": must be a non-empty string/],
];
/** A module rule whose enumerate() returns `dist` (sample is fine): verify and bench must refuse it before any verdict. */
const enumMod = (name: string, dist: string) =>
  mod(`enum-${name}`, `export default { name: "${name}", async sample(i, n) { return Array(n).fill("no ad"); }, async enumerate(i) { return ${dist}; } };`);
const invalidRules: [string, string, RegExp][] = [
  ['probabilities summing to 0.6', enumMod('sum06', '[{ response: "a", prob: 0.3 }, { response: "b", prob: 0.3 }]'), /mechanism sum06: enumerate\(\) on query .*: the probabilities sum to 0\.6, not 1/],
  ['a NaN probability', enumMod('nan', '[{ response: "a", prob: NaN }, { response: "b", prob: 1 }]'), /mechanism nan: enumerate\(\) .*entry \[0\]\.prob is NaN/],
  ['a negative probability', enumMod('neg', '[{ response: "a", prob: -0.5 }, { response: "b", prob: 1.5 }]'), /mechanism neg: enumerate\(\) .*entry \[0\]\.prob is -0\.5, outside \[0, 1\]/],
  ['a probability above 1', enumMod('above', '[{ response: "a", prob: 1.5 }]'), /mechanism above: enumerate\(\) .*entry \[0\]\.prob is 1\.5, outside \[0, 1\]/],
  ['an empty list', enumMod('empty', '[]'), /mechanism empty: enumerate\(\) .*returned an empty distribution/],
  ['a non-string response', enumMod('nonstr', '[{ response: 7, prob: 1 }]'), /mechanism nonstr: enumerate\(\) .*entry \[0\]\.response is a number, not a string/],
  ['not an array', enumMod('notarr', '"a"'), /mechanism notarr: enumerate\(\) .*must return an array of \{response, prob\}, got a string/],
];

// ---- Trained-run directories ------------------------------------------------------------------------
const runDir = (name: string, policy: string) => {
  f(`runs/${name}/epoch-0/policy.json`, policy);
  return join(dir, 'runs', name);
};
const truncatedRun = runDir('truncated', '{"epoch":0,"theta":[0,0,');
const badThetaRun = runDir('bad-theta', '{"epoch":0,"theta":["a",null]}\n');
const emptyPolicyRun = runDir('empty', '');
const noThetaRun = runDir('no-theta', '{"epoch":0}\n');

// ---- Resumable run directories, damaged --------------------------------------------------------------
const ep = (q: string, s: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ query_id: q, sample: s, mechanism: 'x', bids: {}, response: 'r', exposures: [], format_errors: [], clicks: [], payments: [], revenue: 0, reward: 0, ctr: {}, user: 'u', ...extra });
const simDir = (name: string, files: Record<string, string>) => {
  for (const [k, v] of Object.entries(files)) f(`sims/${name}/${k}`, v);
  return join(dir, 'sims', name);
};
const simArgs = (d: string) => ['simulate', '-m', 'embedded:pretrained', '--limit', '3', '--out', d, '--resume'];
const simDamage: [string, string, RegExp][] = [
  ['empty manifest.json', simDir('empty-manifest', { 'manifest.json': '' }), /manifest\.json: not valid JSON/],
  ['truncated manifest.json', simDir('trunc-manifest', { 'manifest.json': '{"kind":"simulate","seed":0,"con' }), /manifest\.json: not valid JSON/],
  ['manifest without kind', simDir('kindless', { 'manifest.json': '{"seed":0,"config":{}}' }), /manifest\.json: field "kind"/],
  ['damaged middle line', simDir('mid', { 'episodes.jsonl': `${ep('Q-1', 0)}\n{oops\n${ep('Q-2', 0)}\n` }), /episodes\.jsonl:2: not valid JSON/],
  ['clicks null', simDir('clicks-null', { 'episodes.jsonl': `${ep('Q-1', 0)}\n${ep('Q-2', 0, { clicks: null })}\n` }), /episodes\.jsonl:2: field "clicks"/],
  ['duplicate episode', simDir('dup', { 'episodes.jsonl': `${ep('Q-1', 0)}\n${ep('Q-1', 0)}\n` }), /episodes\.jsonl:2: field "query_id": episode Q-1#0 appears twice/],
  ['sample not an integer', simDir('sample', { 'episodes.jsonl': `${ep('Q-1', 0.5)}\n` }), /episodes\.jsonl:1: field "sample"/],
];

// ---- Numeric flags: every one, out of range and not a number ------------------------------------------
const need: Record<string, string[]> = {
  demo: [],
  simulate: ['-m', 'embedded:pretrained', '--out', out('num-sim')],
  train: ['--out', out('num-train')],
  bench: ['-m', 'embedded:pretrained'],
  verify: ['-m', 'embedded:pretrained'],
  report: ['--run', aDir, '--out', out('num-report')],
  parse: ['--ads', goodAds, response],
  import: ['--format', 'gem-bench', '--from', aDir, '--out', out('num-import')],
  serve: ['-m', 'embedded:pretrained'],
};
const numericFlags: [string, string, string[]][] = [
  ['demo', '--queries', ['0', 'many', '99999999999']],
  ['demo', '--bench-queries', ['0', '1.5']],
  ['demo', '--epochs', ['0', '1001', '-3']],
  ['demo', '--jobs', ['0', '65', 'two']],
  ['simulate', '--queries-per-profile', ['0', '101']],
  ['simulate', '--limit', ['0', '-1', 'ten', '1e3']],
  ['simulate', '--samples', ['0', '99999999999', '2.5']],
  ['simulate', '--candidates', ['-1', 'all']],
  ['simulate', '--world-seed', ['-1', '4294967296']],
  ['simulate', '--concurrency', ['0', '5000']],
  ['train', '--epochs', ['0', 'x']],
  ['train', '--queries', ['0', '2000000']],
  ['train', '--trainer-lr', ['0', '2', 'fast']],
  ['train', '--trainer-steps', ['0', '1.5']],
  ['train', '--trainer-processes', ['0', '1.5']],
  ['train', '--rm-samples', ['0', '1001']],
  ['train', '--dpo-samples', ['1', 'x']],
  ['train', '--warm-start-lr', ['0', '-1']],
  ['train', '--warm-start-steps', ['0', 'many']],
  ['train', '--warm-start-queries', ['0', 'all']],
  ['bench', '--limit', ['0', 'NaN']],
  ['bench', '--candidates', ['-5']],
  ['bench', '--world-seed', ['1.5']],
  ['verify', '--alpha', ['0', '1', '1.5', 'lots', '-0.1']],
  ['verify', '--budget', ['0', '1e12']],
  ['verify', '--effect', ['-1', '0', '2', 'Infinity']],
  ['verify', '--cases', ['0', 'some']],
  ['report', '--queries', ['0', '100001']],
  ['report', '--responses', ['0', '-2']],
  ['report', '--itctr-samples', ['-1', 'some']],
  ['report', '--figures', ['4c', '', '4a,5']],
  ['serve', '--port', ['-1', '65536', 'http']],
];
const seedCommands = ['demo', 'simulate', 'train', 'bench', 'verify', 'report', 'parse', 'import', 'serve'];

interface Case {
  name: string;
  args: string[];
  expect: RegExp;
  /** Environment variables set for this case only. */
  env?: Record<string, string>;
}
const cases: Case[] = [];

for (const [name, content, re] of catalogCases) {
  const file = f(`catalog/${name.replace(/\W+/g, '-')}.jsonl`, content);
  const r = new RegExp(`${esc(file)}${re.source.startsWith(':') ? '' : '.*'}${re.source}`);
  cases.push({ name: `simulate --catalog: ${name}`, args: ['simulate', '-m', 'embedded:pretrained', '--catalog', file, '--limit', '2', '--out', out(`cat-${cases.length}`)], expect: r });
}
for (const [name, content, re] of profileCases) {
  const file = f(`profiles/${name.replace(/\W+/g, '-')}.jsonl`, content);
  cases.push({ name: `simulate --profiles: ${name}`, args: ['simulate', '-m', 'embedded:pretrained', '--profiles', file, '--queries', goodQueries, '--out', out(`prof-${cases.length}`)], expect: new RegExp(`${esc(file)}.*${re.source}`) });
}
for (const [name, content, re] of queryCases) {
  const file = f(`queries/${name.replace(/\W+/g, '-')}.jsonl`, content);
  cases.push({ name: `simulate --queries: ${name}`, args: ['simulate', '-m', 'embedded:pretrained', '--queries', file, '--out', out(`q-${cases.length}`)], expect: new RegExp(`${esc(file)}.*${re.source}`) });
  cases.push({ name: `bench --queries: ${name}`, args: ['bench', '-m', 'embedded:pretrained', '--queries', file], expect: new RegExp(`${esc(file)}.*${re.source}`) });
}
for (const [name, content, re] of adsCases) {
  const file = f(`ads/${name.replace(/\W+/g, '-')}.json`, content);
  cases.push({ name: `parse --ads: ${name}`, args: ['parse', '--ads', file, response], expect: new RegExp(`${esc(file)}.*${re.source}`) });
}
for (const [name, file, re] of modules) {
  cases.push({ name: `module rule: ${name}`, args: ['simulate', '-m', `module:${file}`, '--limit', '2', '--out', out(`mod-${cases.length}`)], expect: re });
}
for (const [name, file, re] of invalidRules) {
  cases.push({ name: `verify refuses a rule whose enumerate() has ${name}`, args: ['verify', '-m', `module:${file}`, '--property', 'monotonicity', '--cases', '1'], expect: re });
  cases.push({ name: `bench refuses a rule whose enumerate() has ${name}`, args: ['bench', '-m', `module:${file}`, '--limit', '2'], expect: re });
}
cases.push({ name: 'verify refuses a rule whose sample() gives the wrong count', args: ['verify', '-m', `module:${modules.find((m) => m[0] === 'wrong count')![1]}`, '--property', 'monotonicity', '--cases', '1'], expect: /mechanism short: sample\(\) returned \d+ responses for \d+ requested/ });
cases.push({ name: 'verify refuses a rule whose sample() gives objects', args: ['verify', '-m', `module:${modules.find((m) => m[0] === 'objects')![1]}`, '--property', 'monotonicity', '--cases', '1'], expect: /mechanism obj: sample\(\) response \[0\] is an object, not a string/ });
for (const [name, d, re] of simDamage) cases.push({ name: `simulate --resume over ${name}`, args: simArgs(d), expect: re });
for (const [cmd, flag, values] of numericFlags) {
  for (const v of values) cases.push({ name: `${cmd} ${flag} ${v}`, args: [cmd, ...need[cmd]!, `${flag}=${v}`], expect: new RegExp(`${esc(flag)}`) });
}
for (const cmd of seedCommands) {
  cases.push({ name: `${cmd} --seed -1`, args: [cmd, ...need[cmd]!, '--seed=-1'], expect: /--seed/ });
  cases.push({ name: `${cmd} --seed 4294967296`, args: [cmd, ...need[cmd]!, '--seed', '4294967296'], expect: /--seed/ });
  cases.push({ name: `${cmd} unknown option`, args: [cmd, ...need[cmd]!, '--frobnicate'], expect: /unknown option '--frobnicate'/ });
  cases.push({ name: `${cmd} --json naming a directory`, args: [cmd, ...need[cmd]!, '--json', aDir], expect: new RegExp(`${esc(aDir)}: --json: is a directory`) });
  cases.push({ name: `${cmd} --json under a file`, args: [cmd, ...need[cmd]!, '--json', join(aFile, 'x.json')], expect: new RegExp(`${esc(aFile)}: --json: is a file`) });
}
cases.push({ name: 'simulate --json /proc/nope/x.json', args: ['simulate', ...need.simulate!, '--json', '/proc/nope/x.json'], expect: /\/proc\/nope: --json: cannot be created there/ });

// Specs, users and everything else, one by one.
const misc: Case[] = [
  { name: 'unknown command', args: ['simulat'], expect: /unknown command 'simulat' \(Did you mean simulate\?\)/ },
  { name: 'unknown --ad-template', args: ['--ad-template', 'nope', 'simulate', '-m', 'embedded:pretrained', '--limit', '2', '--out', out('s-tpl')], expect: /--ad-template: "nope" is neither default nor compact nor an existing file/ },
  { name: 'simulate without -m', args: ['simulate', '--out', out('no-m')], expect: /required option '-m, --mechanism <spec>'/ },
  { name: 'simulate without --out', args: ['simulate', '-m', 'embedded:pretrained'], expect: /required option '--out <dir>'/ },
  { name: 'mistyped spec kind', args: ['simulate', '-m', 'embeded:pretrained', '--limit', '2', '--out', out('s1')], expect: /unknown kind "embeded" \(did you mean "embedded"\?\)/ },
  { name: 'mistyped wrapper kind', args: ['bench', '-m', 'mosiac:embedded:pretrained', '--limit', '2'], expect: /unknown kind "mosiac" \(did you mean "mosaic"\?\)/ },
  { name: 'typo in a wrapper key', args: ['simulate', '-m', 'mosaic:embedded:pretrained?m=20', '--limit', '2', '--out', out('s2')], expect: /unknown mosaic parameter "m"/ },
  { name: 'typo in a gsp key', args: ['bench', '-m', 'gsp:embedded:pretrained?kk=2', '--limit', '2'], expect: /unknown gsp parameter "kk"/ },
  { name: 'mosaic n=0', args: ['bench', '-m', 'mosaic:embedded:pretrained?n=0', '--limit', '2'], expect: /n must be a positive integer/ },
  { name: 'gsp k=abc', args: ['bench', '-m', 'gsp:embedded:pretrained?k=abc', '--limit', '2'], expect: /k must be a positive integer/ },
  { name: 'spec without a kind', args: ['simulate', '-m', 'pretrained', '--limit', '2', '--out', out('s3')], expect: /expected KIND:/ },
  { name: 'empty spec', args: ['simulate', '-m', '', '--limit', '2', '--out', out('s4')], expect: /bad mechanism spec ""|--mechanism: must not be empty/ },
  { name: 'unknown embedded rule', args: ['simulate', '-m', 'embedded:bogus', '--limit', '2', '--out', out('s5')], expect: /embedded:bogus/ },
  { name: 'bench: empty spec list', args: ['bench', '-m', ','], expect: /no mechanism spec given|bad mechanism spec/ },
  { name: 'run: missing directory', args: ['simulate', '-m', `run:${join(dir, 'nope')}`, '--limit', '2', '--out', out('s6')], expect: /no trained policy/ },
  { name: 'run: truncated policy.json', args: ['simulate', '-m', `run:${truncatedRun}`, '--limit', '2', '--out', out('s7')], expect: /epoch-0\/policy\.json: not valid JSON/ },
  { name: 'run: empty policy.json', args: ['simulate', '-m', `run:${emptyPolicyRun}`, '--limit', '2', '--out', out('s8')], expect: /epoch-0\/policy\.json: not valid JSON/ },
  { name: 'run: theta ["a", null]', args: ['simulate', '-m', `run:${badThetaRun}`, '--limit', '2', '--out', out('s9')], expect: /epoch-0\/policy\.json: field "theta\[0\]"/ },
  { name: 'run: no theta', args: ['bench', '-m', `run:${noThetaRun}`, '--limit', '2'], expect: /epoch-0\/policy\.json: field "theta"/ },
  { name: 'module: missing file', args: ['simulate', '-m', `module:${join(dir, 'nope.mjs')}`, '--limit', '2', '--out', out('s10')], expect: /no such file/ },
  { name: 'local: missing gguf', args: ['simulate', '-m', 'local:/nonexistent.gguf', '--limit', '2', '--out', out('s11')], expect: /\/nonexistent\.gguf/ },
  { name: 'openai: ftp URL', args: ['simulate', '-m', 'openai:ftp://host/v1?model=m', '--limit', '2', '--out', out('s12')], expect: /openai:http\(s\)/ },
  { name: 'openai: no model', args: ['simulate', '-m', 'openai:http://127.0.0.1:9/v1', '--limit', '2', '--out', out('s13')], expect: /no model/ },
  { name: 'openai: unknown parameter', args: ['simulate', '-m', 'openai:http://127.0.0.1:9/v1?model=m&temprature=1', '--limit', '2', '--out', out('s14')], expect: /unknown parameter "temprature"/ },
  { name: 'openai: temperature not a number', args: ['simulate', '-m', 'openai:http://127.0.0.1:9/v1?model=m&temperature=hot', '--limit', '2', '--out', out('s15')], expect: /temperature must be a number/ },
  { name: 'openai: temperature out of range', args: ['simulate', '-m', 'openai:http://127.0.0.1:9/v1?model=m&temperature=9', '--limit', '2', '--out', out('s16')], expect: /temperature/ },
  { name: 'openai: unreachable endpoint', args: ['simulate', '-m', 'openai:http://127.0.0.1:9/v1?model=m&cache=off&max_retries=0', '--limit', '1', '--out', out('s17')], expect: /connection failed/ },
  { name: 'bad user spec', args: ['simulate', '-m', 'embedded:pretrained', '--user', 'bogus', '--limit', '2', '--out', out('s18')], expect: /bad user spec "bogus"/ },
  { name: 'user encoder bogus', args: ['simulate', '-m', 'embedded:pretrained', '--user', 'embedded:parametric?encoder=bogus', '--limit', '2', '--out', out('s19')], expect: /user spec .*bogus/ },
  { name: 'simulate --out naming a file', args: ['simulate', '-m', 'embedded:pretrained', '--out', aFile], expect: new RegExp(`${esc(aFile)}: --out: is a file`) },
  { name: 'simulate --out under a file', args: ['simulate', '-m', 'embedded:pretrained', '--out', join(aFile, 'run')], expect: /--out: .* is a file/ },
  { name: 'simulate --catalog missing', args: ['simulate', '-m', 'embedded:pretrained', '--catalog', join(dir, 'nope.jsonl'), '--limit', '2', '--out', out('s20')], expect: /nope\.jsonl: no such file/ },
  { name: 'simulate --catalog a directory', args: ['simulate', '-m', 'embedded:pretrained', '--catalog', aDir, '--limit', '2', '--out', out('s21')], expect: new RegExp(`${esc(aDir)}: is a directory`) },
  { name: 'simulate --queries missing file', args: ['simulate', '-m', 'embedded:pretrained', '--queries', join(dir, 'nope-q.jsonl'), '--limit', '2', '--out', out('s22')], expect: /nope-q\.jsonl: no such file/ },
  { name: 'simulate --profiles without --queries FILE', args: ['simulate', '-m', 'embedded:pretrained', '--profiles', goodProfiles, '--limit', '2', '--out', out('s23')], expect: /--profiles needs a queries file/ },
  { name: 'simulate --queries generate without an LLM user', args: ['simulate', '-m', 'embedded:pretrained', '--queries', 'generate', '--limit', '2', '--out', out('s24')], expect: /--queries generate needs an LLM user/ },
  { name: 'simulate over an existing run without --resume', args: ['simulate', '-m', 'embedded:pretrained', '--limit', '3', '--out', simDir('existing', { 'episodes.jsonl': `${ep('Q-1', 0)}\n` })], expect: /already holds a run: pass --resume/ },
  { name: 'train --preset bogus', args: ['train', '--out', out('t1'), '--preset', 'bogus'], expect: /--preset <name>' argument 'bogus' is invalid/ },
  { name: 'train --reward bogus', args: ['train', '--out', out('t2'), '--reward', 'bogus'], expect: /--reward/ },
  { name: 'train --trainer bogus', args: ['train', '--out', out('t3'), '--trainer', 'bogus'], expect: /--trainer/ },
  { name: 'train --encoder bogus', args: ['train', '--out', out('t4'), '--encoder', 'bogus', '--queries', '5', '--epochs', '1'], expect: /--encoder.*bogus|encoder "bogus"/ },
  { name: 'train --encoder onnx:nonexistent', args: ['train', '--out', out('t5'), '--encoder', 'onnx:nonexistent', '--queries', '5', '--epochs', '1'], expect: /--encoder.*nonexistent|nonexistent/ },
  { name: 'train --trainer external without its flags', args: ['train', '--out', out('t6'), '--trainer', 'external'], expect: /--trainer external needs --ad-llm/ },
  {
    name: 'train --trainer external --ad-llm embedded:pretrained',
    args: ['train', '--out', out('t7'), '--trainer', 'external', '--ad-llm', 'embedded:pretrained', '--trainer-command', 'true', '--base-model', 'x'],
    expect: /--ad-llm/,
  },
  { name: 'train --reload bogus', args: ['train', '--out', out('t8'), '--trainer', 'external', '--ad-llm', 'openai:http://127.0.0.1:9/v1?model=m', '--trainer-command', 'true', '--base-model', 'x', '--reload', 'bogus'], expect: /--reload/ },
  { name: 'train --warm-start bogus', args: ['train', '--out', out('t9'), '--warm-start', 'bogus'], expect: /--warm-start <how>' argument 'bogus' is invalid/ },
  { name: 'train --warm-start sft without --trainer external', args: ['train', '--out', out('t10'), '--warm-start', 'sft'], expect: /--warm-start .*add --trainer external/ },
  { name: 'train --trainer-lr without --trainer external', args: ['train', '--out', out('t11'), '--trainer-lr', '1e-4'], expect: /--trainer-lr and --trainer-steps set the external trainer/ },
  {
    name: 'train --warm-start-steps without --warm-start sft',
    args: ['train', '--out', out('t12'), '--trainer', 'external', '--ad-llm', 'openai:http://127.0.0.1:9/v1?model=m', '--trainer-command', 'true', '--base-model', 'x', '--warm-start-steps', '3'],
    expect: /--warm-start-lr, --warm-start-steps and --warm-start-queries set the format warm start: add --warm-start sft/,
  },
  { name: 'train --trainer-processes without --trainer external', args: ['train', '--out', out('t13'), '--trainer-processes', '2'], expect: /--trainer-processes and --trainer-accelerate-config launch the external trainer across processes: add --trainer external/ },
  {
    name: 'train --trainer-processes with a command that is not python SCRIPT.py',
    args: ['train', '--out', out('t14'), '--trainer', 'external', '--ad-llm', 'openai:http://127.0.0.1:9/v1?model=m', '--trainer-command', 'true', '--base-model', 'x', '--trainer-processes', '2'],
    expect: /needs --trainer-command to be "python SCRIPT.py \[ARGS\]"/,
  },
  { name: 'bench --shard without --out', args: ['bench', '-m', 'embedded:pretrained', '--shard', '1/2'], expect: /--shard needs --out DIR/ },
  { name: 'bench --shard 3/2', args: ['bench', '-m', 'embedded:pretrained', '--shard', '3/2', '--out', out('b1')], expect: /--shard must be i\/n/ },
  { name: 'bench --paired-with a row not benched', args: ['bench', '-m', 'embedded:pretrained', '--paired-with', 'gsp:embedded:pretrained'], expect: /--paired-with gsp:embedded:pretrained\?k=1: not among the -m rows/ },
  { name: 'train --out naming a file', args: ['train', '--out', aFile, '--queries', '5', '--epochs', '1'], expect: new RegExp(`${esc(aFile)}: --out: is a file`) },
  { name: 'train --resume over an empty manifest', args: ['train', '--out', simDir('train-empty-manifest', { 'manifest.json': '' }), '--resume'], expect: /manifest\.json: not valid JSON/ },
  { name: 'train --resume over a truncated metrics.jsonl', args: ['train', '--out', simDir('train-trunc-metrics', { 'metrics.jsonl': '{"epoch":1,"rev' }), '--resume'], expect: /metrics\.jsonl:1: not valid JSON/ },
  { name: 'train --resume over episodes whose clicks is null', args: ['train', '--out', simDir('train-clicks-null', { 'epoch-1/online/episodes.jsonl': `${ep('Q-1', 0, { clicks: null })}\n` }), '--resume'], expect: /episodes\.jsonl:1: field "clicks"/ },
  { name: 'train --resume over a truncated policy', args: ['train', '--out', simDir('train-trunc-policy', { 'epoch-0/policy.json': '{"theta":[0,' }), '--resume'], expect: /policy\.json: not valid JSON/ },
  { name: 'verify --property bogus', args: ['verify', '-m', 'embedded:pretrained', '--property', 'bogus'], expect: /bogus/ },
  { name: 'verify bad spec', args: ['verify', '-m', 'embeded:optimal'], expect: /did you mean "embedded"/ },
  { name: 'verify --user bogus', args: ['verify', '-m', 'embedded:pretrained', '--user', 'bogus'], expect: /bad user spec "bogus"/ },
  { name: 'report --run missing', args: ['report', '--run', join(dir, 'nope-run'), '--out', out('r1')], expect: /--run .*nope-run: no such directory/ },
  { name: 'report --run a file', args: ['report', '--run', aFile, '--out', out('r2')], expect: /--run .*a-file: not a directory/ },
  { name: 'report --run empty directory', args: ['report', '--run', aDir, '--out', out('r3')], expect: /a-dir/ },
  { name: 'parse without --ads', args: ['parse', response], expect: /required option '--ads <file>'/ },
  { name: 'parse --ads missing file', args: ['parse', '--ads', join(dir, 'nope.json'), response], expect: /nope\.json: no such file/ },
  { name: 'parse response file missing', args: ['parse', '--ads', goodAds, join(dir, 'nope.txt')], expect: /nope\.txt: no such file/ },
  { name: 'parse response is a directory', args: ['parse', '--ads', goodAds, aDir], expect: /a-dir: is a directory/ },
  { name: 'parse response not UTF-8', args: ['parse', '--ads', goodAds, f('bad-utf8.txt', Buffer.from([0x41, 0x0a, 0xff, 0xfe]))], expect: /bad-utf8\.txt:2: not valid UTF-8/ },
  { name: 'parse --ads a directory', args: ['parse', '--ads', aDir, response], expect: /a-dir: is a directory/ },
  { name: 'import --format bogus', args: ['import', '--format', 'bogus', '--from', aDir, '--out', out('i1')], expect: /--format <name>' argument 'bogus' is invalid/ },
  { name: 'import --from missing', args: ['import', '--format', 'gem-bench', '--from', join(dir, 'nope-src'), '--out', out('i2')], expect: /nope-src: no such folder/ },
  { name: 'import --from a file', args: ['import', '--format', 'gem-bench', '--from', aFile, '--out', out('i3')], expect: /a-file: not a folder/ },
  { name: 'import --from an empty folder', args: ['import', '--format', 'gem-bench', '--from', aDir, '--out', out('i4')], expect: /a-dir/ },
  { name: 'import --out a file', args: ['import', '--format', 'gem-bench', '--from', aDir, '--out', aFile], expect: /a-file/ },
  { name: 'serve bad spec', args: ['serve', '-m', 'embedded:bogus', '--port', '0'], expect: /embedded:bogus/ },
  { name: 'serve --host not an address', args: ['serve', '-m', 'embedded:pretrained', '--port', '0', '--host', '999.999.1.1'], expect: /999\.999\.1\.1/ },
  { name: 'demo --run naming a file', args: ['demo', '--run', aFile, '--out', out('d1')], expect: /a-file/ },
  { name: 'demo --out under a file', args: ['demo', '--run', out('d2run'), '--out', join(aFile, 'report'), '--queries', '5', '--bench-queries', '5', '--epochs', '1'], expect: /a-file/ },
];
// Round 2 (issue #25): specs.
misc.push(
  { name: 'mosaic n=%ZZ (bad percent-encoding)', args: ['bench', '-m', 'mosaic:embedded:pretrained?n=%ZZ', '--limit', '2'], expect: /bad mechanism spec .*: bad percent-encoding in "n=%ZZ"/ },
  { name: 'openai spec with bad percent-encoding', args: ['simulate', '-m', 'openai:http://127.0.0.1:9/v1?model=%E0%A4%A', '--limit', '2', '--out', out('s25')], expect: /bad spec .*: bad percent-encoding/ },
  { name: 'mosaic ?n=2&n=3', args: ['bench', '-m', 'mosaic:embedded:pretrained?n=2&n=3', '--limit', '2'], expect: /parameter "n" is given twice/ },
  { name: 'openai ?model=a&model=b', args: ['simulate', '-m', 'openai:http://127.0.0.1:9/v1?model=a&model=b', '--limit', '2', '--out', out('s26')], expect: /parameter "model" is given twice/ },
  { name: 'a trailing space in a spec', args: ['simulate', '-m', 'embedded:pretrained ', '--limit', '2', '--out', out('s27')], expect: /bad mechanism spec "embedded:pretrained ": white space at its start or end/ },
  { name: '200 nested mosaic wrappers', args: ['bench', '-m', `${'mosaic:'.repeat(200)}embedded:pretrained`, '--limit', '2'], expect: /wrappers nested more than 16 deep/ },
  { name: 'parse --json /dev/full (no summary left on stdout)', args: ['parse', '--ads', goodAds, response, '--json', '/dev/full'], expect: /\/dev\/full: --json: cannot write \(ENOSPC\)/ },
  { name: 'bench: the same row twice', args: ['bench', '-m', 'embedded:pretrained,mosaic:embedded:pretrained,embedded:pretrained', '--limit', '2'], expect: /mechanism spec "embedded:pretrained" is given twice/ },
  { name: 'openai cache=maybe', args: ['simulate', '-m', 'openai:http://127.0.0.1:9/v1?model=m&cache=maybe', '--limit', '2', '--out', out('s28')], expect: /cache must be off or a path \(\.\/maybe for a folder here\), got "maybe"/ },
);
// Round 2 (issue #25): files that are not regular files, run directories with a directory where a file belongs, empty and padded flag values, environment variables.
const fifo = join(dir, 'a-fifo');
spawnSync('mkfifo', [fifo]);
const emptyTemplate = f('empty-template.md', '');
const eisdirRun = (name: string, what: string) => {
  mkdirSync(join(dir, 'sims', name, what), { recursive: true });
  return join(dir, 'sims', name);
};
for (const [label, p] of [['a FIFO', fifo], ['/dev/zero', '/dev/zero']] as const) {
  const re = new RegExp(`${esc(p)}: is (a FIFO|a device), expected a regular file`);
  misc.push(
    { name: `simulate --catalog ${label}`, args: ['simulate', '-m', 'embedded:pretrained', '--catalog', p, '--limit', '2', '--out', out(`fifo-c-${label}`)], expect: re },
    { name: `simulate --profiles ${label}`, args: ['simulate', '-m', 'embedded:pretrained', '--profiles', p, '--queries', goodQueries, '--out', out(`fifo-p-${label}`)], expect: re },
    { name: `simulate --queries ${label}`, args: ['simulate', '-m', 'embedded:pretrained', '--queries', p, '--out', out(`fifo-q-${label}`)], expect: re },
    { name: `parse --ads ${label}`, args: ['parse', '--ads', p, response], expect: re },
    { name: `parse response file ${label}`, args: ['parse', '--ads', goodAds, p], expect: re },
    { name: `--ad-template ${label}`, args: ['--ad-template', p, 'parse', '--ads', goodAds, response], expect: new RegExp(`--ad-template: ${esc(p)}: is (a FIFO|a device)`) },
  );
}
// Resume over episodes that are not of this run (no manifest to compare): the first test query is the run's.
const q0 = embeddedWorld(0).queries.find((q) => q.split === 'test')!.id;
const epOf = (q: string, s: number, mechanism = 'embedded:pretrained') => ep(q, s, { mechanism });
misc.push(
  { name: 'simulate --resume over an episode of a query not in the run', args: simArgs(simDir('foreign-query', { 'episodes.jsonl': `${epOf(q0, 0)}\n${epOf('Q-99999', 0)}\n` })), expect: /episodes\.jsonl:2: field "query_id": no query "Q-99999" among this run's 3/ },
  { name: 'simulate --resume over a sample beyond --samples', args: simArgs(simDir('foreign-sample', { 'episodes.jsonl': `${epOf(q0, 0)}\n${epOf(q0, 5)}\n` })), expect: /episodes\.jsonl:2: field "sample": sample 5 is beyond --samples 1/ },
  { name: 'simulate --resume over an episode of another mechanism', args: simArgs(simDir('foreign-mech', { 'episodes.jsonl': `${epOf(q0, 0, 'embedded:optimal')}\n` })), expect: /episodes\.jsonl:1: field "mechanism": an episode of "embedded:optimal"/ },
  { name: 'simulate --resume: episodes.jsonl is a directory', args: simArgs(eisdirRun('eisdir-episodes', 'episodes.jsonl')), expect: /episodes\.jsonl: is a directory, expected a file/ },
  { name: 'bench --resume: bench-progress.jsonl is a directory', args: ['bench', '-m', 'embedded:pretrained', '--limit', '2', '--out', eisdirRun('eisdir-bench', 'bench-progress.jsonl'), '--resume'], expect: /bench-progress\.jsonl: is a directory, expected a file/ },
  { name: 'verify --resume: verify-progress.jsonl is a directory', args: ['verify', '-m', 'embedded:pretrained', '--cases', '1', '--out', eisdirRun('eisdir-verify', 'verify-progress.jsonl'), '--resume'], expect: /verify-progress\.jsonl: is a directory, expected a file/ },
  { name: 'simulate: .lock is a directory', args: simArgs(eisdirRun('eisdir-lock', '.lock')), expect: /\.lock: is a directory, not a lock file/ },
  { name: "simulate --catalog ''", args: ['simulate', '-m', 'embedded:pretrained', '--catalog', '', '--limit', '2', '--out', out('empty-cat')], expect: /--catalog: must not be empty/ },
  { name: "simulate --out ''", args: ['simulate', '-m', 'embedded:pretrained', '--out', '', '--limit', '2'], expect: /--out: must not be empty/ },
  { name: "bench --limit ' 3 '", args: ['bench', '-m', 'embedded:pretrained', '--limit', ' 3 '], expect: /--limit must be an integer/ },
  { name: "verify --alpha ' 0.05'", args: ['verify', '-m', 'embedded:pretrained', '--alpha', ' 0.05'], expect: /--alpha must be a number/ },
  { name: "verify --property 'monotonicity,,ir'", args: ['verify', '-m', 'embedded:pretrained', '--property', 'monotonicity,,ir'], expect: /--property must be a comma-separated list without empty items/ },
  { name: '--ad-template an empty file', args: ['--ad-template', emptyTemplate, 'parse', '--ads', goodAds, response], expect: /--ad-template: .*empty-template\.md: the template file is empty/ },
  { name: '--ad-template a directory', args: ['--ad-template', aDir, 'parse', '--ads', goodAds, response], expect: /--ad-template: .*a-dir: is a directory/ },
  { name: 'LLM_AUCTION_AD_TEMPLATE=nope', args: ['parse', '--ads', goodAds, response], env: { LLM_AUCTION_AD_TEMPLATE: 'nope' }, expect: /LLM_AUCTION_AD_TEMPLATE: "nope" is neither default nor compact nor an existing file/ },
  { name: 'LLM_AUCTION_PROGRESS_MS=abc', args: ['parse', '--ads', goodAds, response], env: { LLM_AUCTION_PROGRESS_MS: 'abc' }, expect: /LLM_AUCTION_PROGRESS_MS: must be an integer/ },
  { name: 'LLM_AUCTION_MODULE_TIMEOUT_S=abc', args: ['simulate', '-m', `module:${modules[0]![1]}`, '--limit', '2', '--out', out('modtimeout')], env: { LLM_AUCTION_MODULE_TIMEOUT_S: 'abc' }, expect: /LLM_AUCTION_MODULE_TIMEOUT_S: must be a number of seconds/ },
);
cases.push(...misc);

describe('bad input: every case a clean exit 2', () => {
  it(`has at least 150 cases (has ${cases.length})`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(150);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const saved = Object.fromEntries(Object.keys(c.env ?? {}).map((k) => [k, process.env[k]]));
    Object.assign(process.env, c.env ?? {});
    let r: Awaited<ReturnType<typeof runCli>>;
    try {
      r = await runCli(c.args);
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
    expect(r.hung, `hung: ${c.args.join(' ')}`).toBe(false);
    expect(r.err).not.toMatch(/\n\s+at |internal error/);
    expect(r.code, r.err).toBe(2);
    const lines = r.err.trim().split('\n');
    expect(lines, r.err).toHaveLength(1);
    expect(lines[0]).toMatch(/^llm-auction: /);
    expect(lines[0]).toMatch(c.expect);
    expect(r.out).toBe('');
  });
});

describe('accepted on purpose (README: what counts as bad input)', () => {
  it('a title containing the insertion markup is shown to the Ad-LLM in display form', async () => {
    const file = f('markup-title.jsonl', `${JSON.stringify({ id: 'Ad-0001', title: 'Cup @Other@[Ad-0002] deal' })}\n${ad2}\n`);
    const r = await runCli(['simulate', '-m', 'embedded:pretrained', '--catalog', file, '--limit', '2', '--out', out('markup'), '--json', '-']);
    expect(r.code, r.err).toBe(0);
    const { displayTitle } = await import('../mechanism/format.ts');
    expect(displayTitle('Cup @Other@[Ad-0002] deal')).toBe('Cup (at)Other(at)(Ad-0002) deal');
  });

  it('a flag given twice takes the last value', async () => {
    const r = await runCli(['simulate', '-m', 'embedded:optimal', '-m', 'embedded:pretrained', '--limit', '2', '--limit', '3', '--out', out('twice'), '--json', '-']);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out).episodes).toBe(3);
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(join(out('twice'), 'episodes.jsonl'), 'utf8')).toMatch(/"mechanism":"embedded:pretrained"/);
  });
});

describe('read as text editors write it', () => {
  it('a catalog with a UTF-8 byte-order mark and CRLF line ends', async () => {
    const file = f('bom-crlf.jsonl', `\uFEFF${ad1}\r\n${ad2}\r\n`);
    const r = await runCli(['simulate', '-m', 'embedded:pretrained', '--catalog', file, '--limit', '2', '--out', out('bom'), '--json', '-']);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out).episodes).toBe(2);
  });

  it('an --ads file with a byte-order mark', async () => {
    const file = f('bom-ads.json', `\uFEFF${JSON.stringify([{ id: 'Ad-0001', title: 'Floral Coffee Cup' }])}\r\n`);
    const r = await runCli(['parse', '--ads', file, response, '--json', '-']);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out).exposures).toHaveLength(1);
  });
});

describe('the binary itself (subprocesses)', () => {
  // A representative few of the cases above: exit code and stderr as a shell sees them.
  const picks = [
    'unknown command',
    'simulate --samples 99999999999',
    'parse --ads: 100,000 nested brackets',
    'simulate --out naming a file',
    'simulate --json /proc/nope/x.json',
    'module rule: throws',
    'run: truncated policy.json',
    'typo in a wrapper key',
    'mosaic n=%ZZ (bad percent-encoding)',
    'simulate --catalog a FIFO',
    'verify refuses a rule whose enumerate() has probabilities summing to 0.6',
    'module rule: throws a non-Error at import',
  ];
  it.each(picks)('%s', (name) => {
    const c = cases.find((x) => x.name === name)!;
    expect(c, name).toBeDefined();
    // Fresh output directories: the in-process run of the case may have made the old ones.
    const args = c.args.map((a, k) => (c.args[k - 1] === '--out' && a.startsWith(join(dir, 'out')) ? `${a}-subprocess` : a));
    const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
    expect(r.signal).toBeNull();
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(c.expect);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
