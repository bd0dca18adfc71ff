/**
 * The `llm-auction` command line. Every command takes `--help`, `--version`, `--json FILE`
 * (machine-readable result; with `--json -` stdout carries only that JSON and human output goes to
 * stderr) and `--seed N`. Exit codes: 0 ok / all checks pass, 1 a
 * property or check failed, 2 bad usage or bad input (one line naming file, line and field),
 * 3 inconclusive.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { abortInFlight } from '../lib/abort.ts';
import { AD_TEMPLATE_ENV, AD_TEMPLATES } from '../mechanism/prompt.ts';
import { InputError, UsageError } from '../lib/errors.ts';
import { readText } from '../lib/jsonl.ts';
import { defaultPropertyNames, reportPropertyNames } from '../properties/registry.ts';
import { mechanismUsage } from '../evaluation/kinds/index.ts';
import { checkJsonTarget, reserveStdoutForJson } from './output.ts';
import { userUsage } from '../evaluation/users/index.ts';

const EXIT = { ok: 0, failed: 1, usage: 2, inconclusive: 3 } as const;

/** Largest value each integer flag takes: far beyond any sensible run, well short of exhausting memory. */
const MAX_INT = 2 ** 31 - 1;

/** A comma-separated list: no empty item (`a,,b`), no item with white space at its ends. */
function listArg(name: string) {
  return (value: string): string => {
    const items = value.split(',');
    if (items.some((x) => x === '')) throw new InvalidArgumentError(`${name} must be a comma-separated list without empty items, got ${JSON.stringify(value)}`);
    if (items.some((x) => x !== x.trim())) throw new InvalidArgumentError(`${name}: remove the white space in ${JSON.stringify(value)}`);
    return value;
  };
}

function intArg(name: string, min = 0, max = MAX_INT) {
  return (value: string): number => {
    const v = value;
    if (!/^[+-]?\d+$/.test(v)) throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
    const x = Number(v);
    if (x < min || x > max) throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}, got ${v}`);
    return x;
  };
}

/** A finite number in (lo, hi) or [lo, hi] as `open` says. */
function numberArg(name: string, lo = -Infinity, hi = Infinity, open: { lo?: boolean; hi?: boolean } = {}) {
  const range = `${open.lo ? '(' : '['}${lo}, ${hi}${open.hi ? ')' : ']'}`;
  return (value: string): number => {
    const x = Number(value);
    if (value.trim() === '' || value !== value.trim() || !Number.isFinite(x)) throw new InvalidArgumentError(`${name} must be a number in ${range}, got ${JSON.stringify(value)}`);
    if (x < lo || x > hi || (open.lo && x === lo) || (open.hi && x === hi)) throw new InvalidArgumentError(`${name} must be in ${range}, got ${value}`);
    return x;
  };
}

/** The package version (package.json). */
function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

const jsonOption = () => new Option('--json <file>', 'write the machine-readable result to FILE ("-" for stdout)');
// The spec forms are the kind registries' own, so a new kind is listed here without an edit.
const mechanismHelp = (what: string) => `${what}: ${mechanismUsage()} (see README: mechanism specs)`;
const userHelp = () => `user (click) model: ${userUsage()}`;
const seedOption = () => new Option('--seed <n>', 'seed that makes the run reproducible (0 to 4294967295)').argParser(intArg('--seed', 0, 2 ** 32 - 1)).default(0);

// The options several commands share, defined once: same flag, help, parser and default everywhere.
function userOption(): Option {
  return new Option('--user <spec>', userHelp()).default('embedded:parametric');
}
function worldSeedOption(): Option {
  return new Option('--world-seed <n>', "seed of the embedded world (profiles, queries, the user's latent tastes)").argParser(intArg('--world-seed', 0, 2 ** 32 - 1)).default(0);
}
/** --candidates; train leaves it unset so its preset decides. */
function candidatesOption(withDefault = true): Option {
  const help = `candidate ads per auction: the k best matches of the query and profile (0 = the whole catalog${withDefault ? '' : '; default 10'})`;
  const o = new Option('--candidates <k>', help).argParser(intArg('--candidates', 0, 100_000));
  return withDefault ? o.default(10) : o;
}
function limitOption(): Option {
  return new Option('--limit <n>', 'run at most N queries (default: every query of the set, e.g. all 3,000 test queries)').argParser(intArg('--limit', 1, 100_000_000));
}

/** `--property`'s help, from the registry: the verdict properties verify runs, and the reports it can add. */
function propertyHelp(): string {
  const reports = reportPropertyNames();
  const adds = reports.length === 0 ? '' : ` (${reports.join(', ')} ${reports.length === 1 ? 'adds a report' : 'add reports'})`;
  return `comma-separated: ${defaultPropertyNames().join(',')}${adds}`;
}

/** `--ad-template`: checked here, then handed to every module and child process through the environment. */
function useAdTemplate(flag: string | undefined): void {
  // The environment variable is checked exactly as the flag is: a bad value is refused, never ignored.
  const from = flag !== undefined ? '--ad-template' : AD_TEMPLATE_ENV;
  const choice = flag ?? process.env[AD_TEMPLATE_ENV];
  if (choice === undefined || (flag === undefined && choice === '')) return;
  if (!Object.hasOwn(AD_TEMPLATES, choice)) {
    if (!existsSync(choice)) throw new UsageError(`${from}: ${JSON.stringify(choice)} is neither ${Object.keys(AD_TEMPLATES).join(' nor ')} nor an existing file`);
    let text: string;
    try {
      text = readText(choice);
    } catch (e) {
      throw new UsageError(`${from}: ${(e as Error).message}`);
    }
    if (text.trim() === '') throw new UsageError(`${from}: ${choice}: the template file is empty`);
  }
  process.env[AD_TEMPLATE_ENV] = Object.hasOwn(AD_TEMPLATES, choice) ? choice : resolve(choice);
}

/** An option given as '' (`--catalog ''`, `--out ''`) names nothing: refused rather than read as the current directory or a default. */
function checkNoEmptyValues(command: Command): void {
  const values = command.opts() as Record<string, unknown>;
  for (const o of command.options) {
    if (values[o.attributeName()] === '' && command.getOptionValueSource(o.attributeName()) === 'cli') {
      throw new UsageError(`${o.long ?? o.short}: must not be empty`);
    }
  }
}

/** What a resumed `verify --out` must share with the run it continues: the spec as given and every option that changes a verdict. */
function verifyConfig(opts: Record<string, unknown>): Record<string, unknown> {
  const keys = ['mechanism', 'user', 'property', 'alpha', 'budget', 'rho', 'kappa', 'effect', 'observable', 'cases', 'sampled', 'grid', 'share', 'seed'];
  // A shard's progress names its shard (a resume of another one is refused); unsharded runs' stays as it was.
  return { ...Object.fromEntries(keys.map((k) => [k, opts[k] ?? null])), ...(opts.shard ? { shard: opts.shard } : {}) };
}

/** Environment variables the commands read, checked as flags are: a bad value is refused, never ignored. */
function checkEnvironment(): void {
  const progress = process.env.LLM_AUCTION_PROGRESS_MS;
  if (progress !== undefined && progress !== '' && (!/^\d+$/.test(progress) || Number(progress) > 86_400_000)) {
    throw new UsageError(`LLM_AUCTION_PROGRESS_MS: must be an integer number of milliseconds from 0 to 86400000 (0: no progress lines), got ${JSON.stringify(progress)}`);
  }
}

// Commands load their implementation on use, so `--help` and light commands start fast.
export function buildProgram(result: { code: number }): Command {
  const program = new Command('llm-auction')
    .description('Verify and benchmark auction mechanisms for LLM-native advertising.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .configureOutput({
      // Option-parser errors on one line, like every other usage error.
      outputError: (text, write) => write(`llm-auction: ${text.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ').trim()} (see --help)\n`),
    })
    .exitOverride()
    .option(
      '--ad-template <name|file>',
      `the Ad-LLM prompt every command of a run uses (sampling, serve, the trainer's pairs): ${Object.keys(AD_TEMPLATES).join(', ')} (short, for CPU runs of small models), or a template file; also ${AD_TEMPLATE_ENV}`,
    )
    .hook('preAction', (program, command) => {
      checkEnvironment();
      checkNoEmptyValues(command);
      useAdTemplate((program.opts() as { adTemplate?: string }).adTemplate);
      checkJsonTarget((command.opts() as { json?: string }).json);
    });

  program
    .command('demo')
    .description('the main job on the embedded default: build the world, train IRPO, compare with the baselines, verify the properties, write reports/demo/')
    .option('--run <dir>', 'run directory for everything the demo computes', 'runs/demo')
    .option('--out <dir>', 'where the report goes', 'reports/demo')
    .addOption(new Option('--queries <n>', 'training queries per IRPO epoch (tiny preset)').argParser(intArg('--queries', 1, 1_000_000)).default(2000))
    .addOption(new Option('--bench-queries <n>', 'test queries for Table 2 (exact expectations per query)').argParser(intArg('--bench-queries', 1, 1_000_000)).default(500))
    .addOption(new Option('--epochs <t>', 'IRPO epochs').argParser(intArg('--epochs', 1, 1000)).default(3))
    .addOption(new Option('--jobs <n>', "IRPO runs trained at once, one per core (default: the machine's cores); results do not depend on it").argParser(intArg('--jobs', 1, 64)))
    .addOption(worldSeedOption())
    .addOption(jsonOption())
    .addOption(seedOption())
    .action(async (opts) => {
      result.code = await (await import('./commands/demo.ts')).runDemo({
        jobs: opts.jobs,
        run: opts.run,
        out: opts.out,
        queries: opts.queries,
        benchQueries: opts.benchQueries,
        epochs: opts.epochs,
        worldSeed: opts.worldSeed,
        json: opts.json,
        seed: opts.seed,
      });
    });

  program
    .command('simulate')
    .description('run episodes (query, response, exposures, clicks, payments, reward) on the embedded world or on the files given')
    .requiredOption('-m, --mechanism <spec>', mechanismHelp('mechanism spec'))
    .requiredOption('--out <dir>', 'run directory: episodes.jsonl and manifest.json are written there')
    .option('--queries <set>', 'train, test, a queries.jsonl file, or "generate" (the --user LLM writes them from the profiles)', 'test')
    .addOption(new Option('--queries-per-profile <n>', 'with --queries generate: questions written per profile').argParser(intArg('--queries-per-profile', 1, 100)).default(5))
    .option('--catalog <file>', 'catalog.jsonl to use instead of the embedded catalog')
    .option('--profiles <file>', 'profiles.jsonl to use instead of the embedded profiles')
    .addOption(limitOption())
    .addOption(new Option('--samples <k>', 'responses per query').argParser(intArg('--samples', 1, 1000)).default(1))
    .addOption(userOption())
    .option('--resume', 'continue an interrupted run in DIR without losing or repeating episodes')
    .addOption(candidatesOption())
    .addOption(worldSeedOption())
    .addOption(new Option('--concurrency <c>', 'auctions in flight at once (for endpoint backends)').argParser(intArg('--concurrency', 1, 1024)).default(8))
    .option('--shard <i/n>', 'run only the i-th of n contiguous blocks of the queries (1-based); `merge` joins the n shard directories (default: the whole run)')
    .addOption(jsonOption())
    .addOption(seedOption())
    .action(async (opts) => {
      result.code = await (await import('./commands/simulate.ts')).runSimulate(opts);
    });

  program
    .command('merge')
    .description('join the directories of simulate --shard or bench --shard 1/n … n/n (or the --json results of verify --shard) into what one unsharded run writes')
    .requiredOption('--from <dirs>', 'the shard directories (or verify JSON files), comma-separated, in any order')
    .requiredOption('--out <dir>', 'directory to write (simulate: episodes.jsonl, manifest.json; bench: bench.json, bench-progress.jsonl, bench-episodes/), or for verify results the JSON file')
    .addOption(jsonOption())
    .action(async (opts) => {
      result.code = await (await import('./commands/merge.ts')).runMerge(opts);
    });

  program
    .command('train')
    .description('IRPO (Algorithm 1): alternate pCTR reward-model fitting and DPO updates of the allocation rule')
    .requiredOption('--out <dir>', 'run directory for checkpoints, metrics and episodes')
    .addOption(new Option('--preset <name>', 'size preset').choices(['tiny', 'paper']).default('tiny'))
    .addOption(new Option('--epochs <t>', "number of IRPO epochs T (default: the preset's, 3)").argParser(intArg('--epochs', 1, 1000)))
    .addOption(new Option('--trainer <kind>', 'DPO trainer').choices(['embedded', 'external']).default('embedded'))
    .addOption(
      new Option('--reward <model>', "reward model: the fitted pCTR model, the user's true click probabilities (LLM-Auction (Oracle)), or the control: pCTR fitted on clicks shuffled across exposures")
        .choices(['pctr', 'oracle', 'shuffled'])
        .default('pctr'),
    )
    .addOption(new Option('--queries <n>', 'training queries per epoch (default: the preset\'s: tiny 2000, paper 12000)').argParser(intArg('--queries', 1, 1_000_000)))
    .addOption(worldSeedOption())
    .addOption(new Option('--pctr-share <x>', 'share of the online logs the pCTR model is fitted on (0 < x <= 1)').argParser(numberArg('--pctr-share', 0, 1, { lo: true })).default(1))
    .option('--ad-llm <spec>', 'with --trainer external: openai: spec of the endpoint serving the base model (vLLM with --enable-lora)')
    .option('--trainer-command <cmd>', 'with --trainer external: shell command that trains on the pairs (e.g. python training/python/train_dpo.py)')
    .option('--base-model <name>', 'with --trainer external: base model given to the trainer')
    .option('--reload <how>', 'with --trainer external: vllm-lora, none, or command:CMD', 'vllm-lora')
    .addOption(new Option('--trainer-lr <x>', 'with --trainer external: learning rate written to trainer.json (default 1e-6, the paper\'s for full fine-tuning; LoRA wants more)').argParser(numberArg('--trainer-lr', 0, 1, { lo: true })))
    .addOption(new Option('--trainer-steps <n>', 'with --trainer external: most optimizer steps per epoch, written to trainer.json as max_steps').argParser(intArg('--trainer-steps', 1, 10_000_000)))
    .addOption(new Option('--trainer-processes <n>', 'with --trainer external: run the trainer command (python SCRIPT.py …) under accelerate launch --num_processes n: one per GPU, or CPU processes over gloo (default 1: the command as given)').argParser(intArg('--trainer-processes', 1, 4096)))
    .option('--trainer-accelerate-config <file>', 'with --trainer external: accelerate config file for the launcher, e.g. training/configs/deepspeed-zero2.yaml or deepspeed-zero3.yaml (GPUs; default: none, plain DDP)')
    .addOption(new Option('--rm-samples <m>', 'responses per query in the reward-model phase (default 10, as in the paper)').argParser(intArg('--rm-samples', 1, 1000)))
    .addOption(new Option('--dpo-samples <m>', 'responses per query in the LLM (DPO) phase (default 5, as in the paper)').argParser(intArg('--dpo-samples', 2, 1000)))
    .addOption(candidatesOption(false))
    .addOption(new Option('--warm-start <how>', 'with --trainer external: epoch 0 before IRPO; sft teaches the insertion format on well-formed answers (for a model that never writes it), and that model is pi_0 (run:DIR@0)').choices(['none', 'sft']))
    .addOption(new Option('--warm-start-lr <x>', 'with --warm-start sft: its learning rate (default 2e-4, LoRA)').argParser(numberArg('--warm-start-lr', 0, 1, { lo: true })))
    .addOption(new Option('--warm-start-steps <n>', 'with --warm-start sft: most optimizer steps (default: one pass over its examples)').argParser(intArg('--warm-start-steps', 1, 10_000_000)))
    .addOption(new Option('--warm-start-queries <n>', 'with --warm-start sft: training queries it learns the format on (default: --queries); more than IRPO uses teaches copying titles rather than memorizing answers').argParser(intArg('--warm-start-queries', 1, 10_000_000)))
    .option('--encoder <spec>', 'frozen text encoder of the pCTR model: lexical, or onnx:all-minilm-l6-v2 (after bash scripts/fetch-models.sh)', 'lexical')
    .option('--resume', 'continue from the last checkpoint')
    .addOption(jsonOption())
    .addOption(seedOption())
    .action(async (opts) => {
      result.code = await (await import('./commands/train.ts')).runTrain(opts);
    });

  program
    .command('bench')
    .description("Table 2: revenue and reward per query with 95% intervals, and cost per query, for each mechanism")
    .requiredOption('-m, --mechanism <specs>', mechanismHelp('comma-separated mechanism specs'))
    .option('--queries <set>', 'train, test, or a queries.jsonl file', 'test')
    .addOption(limitOption())
    .addOption(userOption())
    .addOption(candidatesOption())
    .addOption(worldSeedOption())
    .option('--out <dir>', 'also write bench.json and every episode there (for `report`); each finished query is kept there as it ends')
    .option('--resume', 'with --out: continue an interrupted bench without losing or repeating a query')
    .option('--paired-with <specs>', 'comma-separated rows (among -m) to give paired differences against, beside Pretrained and MOSAIC: same queries, same bids (default: none beyond those two)')
    .option('--shard <i/n>', 'with --out: bench only the i-th of n contiguous blocks of the queries (1-based); `merge` joins the n shard directories into the unsharded bench.json (default: every query)')
    .addOption(jsonOption())
    .addOption(seedOption())
    .action(async (opts) => {
      result.code = await (await import('./commands/bench.ts')).runBench(opts);
    });

  program
    .command('verify')
    .description('statistical checks of the incentive properties, alpha family-wise across them; exit 0 pass (or holds by construction), 1 fail, 3 inconclusive')
    .requiredOption('-m, --mechanism <spec>', mechanismHelp('mechanism spec'))
    .addOption(new Option('--property <names>', propertyHelp()).argParser(listArg('--property')).default(defaultPropertyNames().join(',')))
    .addOption(new Option('--alpha <a>', 'family-wise false-alarm rate').argParser(numberArg('--alpha', 0, 1, { lo: true, hi: true })).default(0.05))
    .addOption(new Option('--budget <n>', 'most responses to sample per property, a cap: tests stop when sure, and rarely clicked ads need more (default 200000; continuity 300000: a pass settles every gap of its grid)').argParser(intArg('--budget', 1, 1_000_000_000)))
    .addOption(new Option('--rho <r>', 'monotonicity: a relative dip itctr(b\') < (1 - rho) itctr(b) for b < b\' is a violation (default 0.1)').argParser(numberArg('--rho', 0, 1, { hi: true })))
    .addOption(new Option('--kappa <k>', 'continuity: a step b -> b+1 moving itctr by more than kappa x (itctr(1) + itctr(100)) is a jump (default 0.3)').argParser(numberArg('--kappa', 0, 1, { lo: true, hi: true })))
    .addOption(new Option('--effect <d>', 'margin of a pass, as a share of the curve\'s scale itctr(1) + itctr(100) (IR: of the value; default 0.1)').argParser(numberArg('--effect', 0, 1, { lo: true })))
    .addOption(new Option('--observable <what>', 'sampled path: 0/1 clicks as a judge gives them, or the click model\'s probability per response (default: probability where the click model gives one)').choices(['clicks', 'click-probability']))
    .addOption(new Option('--cases <n>', "auctions drawn per property (default: each property's own number)").argParser(intArg('--cases', 1, 1_000_000)))
    .option('--sampled', 'estimate itctr from samples even when the rule can enumerate its responses')
    .addOption(new Option('--grid <which>', 'sampled monotonicity/continuity: pilot = a grid per auction chosen by a pilot on its own seed (a pass speaks about its bids; a dip narrower than a gap is not ruled out), full = bids 1, 10, ..., 100 and all 99 steps (default pilot)').choices(['pilot', 'full']))
    .addOption(new Option('--share <how>', 'sampled path: auto = reweight each response to every grid bid where the rule reports log-probabilities (logProb or enumerate), off = never (default auto)').choices(['auto', 'off']))
    .addOption(userOption())
    .option('--out <dir>', "keep each finished property's verdict in DIR/verify-progress.jsonl and the result in DIR/verify.json, so a stopped verify continues with --resume")
    .option('--resume', 'with --out: continue an interrupted verify; finished properties are not checked again')
    .option('--shard <i/n>', 'check only the i-th of n contiguous blocks of the work (every tested property\'s planned cases in turn, so shards split one property too), each at the whole family\'s alpha share; `merge --from A.json,B.json` joins the shards\' --json results into one verdict per property (default: every property)')
    .addOption(jsonOption())
    .addOption(seedOption())
    .action(async (opts) => {
      const { resolveMechanismUnderTest } = await import('../evaluation/resolve.ts');
      const mechanism = await resolveMechanismUnderTest(opts.mechanism, { user: opts.user });
      result.code = await (await import('./commands/verify.ts')).runVerify({
        mechanism,
        spec: opts.mechanism,
        properties: [opts.property],
        alpha: opts.alpha,
        budget: opts.budget,
        seed: opts.seed,
        effect: opts.effect,
        rho: opts.rho,
        kappa: opts.kappa,
        observable: opts.observable,
        cases: opts.cases,
        exact: opts.sampled ? false : undefined,
        bidGrid: opts.grid,
        share: opts.share,
        json: opts.json,
        out: opts.out,
        resume: opts.resume,
        shard: opts.shard,
        config: verifyConfig(opts),
      });
    });

  program
    .command('report')
    .description('Table 2 and Figure 4(a)(b) as SVG, with an index.html, from a run directory')
    .requiredOption('--run <dir>', 'run directory written by demo, or by train (with bench.json/verify.json beside it)')
    .requiredOption('--out <dir>', 'where to write the report')
    .addOption(new Option('--queries <n>', 'test queries of Figure 4(a)').argParser(intArg('--queries', 1, 100_000)).default(200))
    .addOption(new Option('--responses <n>', 'sampled responses per bid in Figure 4(b)').argParser(intArg('--responses', 1, 100_000)).default(200))
    .option('--figures <list>', 'which figures to draw: 4a,4b, 4a or 4b (Figure 4(b) needs rules that enumerate their responses)', '4a,4b')
    .addOption(
      new Option('--itctr-samples <k>', 'Figure 4(a) for a rule that cannot enumerate its responses (a served LLM): estimate its itctr from K sampled responses per query and bid (0: exact only)')
        .argParser(intArg('--itctr-samples', 0, 10_000))
        .default(0),
    )
    .addOption(jsonOption())
    .addOption(seedOption())
    .action(async (opts) => {
      result.code = await (await import('./commands/report.ts')).runReport(opts);
    });

  program
    .command('parse')
    .description('classify the ad insertions of one response: valid exposures and format errors')
    .requiredOption('--ads <file>', 'JSON array of {"id","title"}: the candidate ads')
    .argument('[file]', 'the response text (default: standard input; "-" also reads it)')
    .addOption(jsonOption())
    .addOption(seedOption())
    .action(async (file: string | undefined, opts: { ads: string; json?: string }) => {
      result.code = await (await import('./commands/parse.ts')).runParse({ ads: opts.ads, file, json: opts.json });
    });

  program
    .command('import')
    .description('convert an external catalog and queries into the suite\'s JSON Lines files')
    .addOption(new Option('--format <name>', 'source format').choices(['gem-bench']).makeOptionMandatory())
    .requiredOption('--from <dir>', 'source folder')
    .requiredOption('--out <dir>', 'output folder (catalog.jsonl, queries.jsonl, profiles.jsonl)')
    .addOption(jsonOption())
    .addOption(seedOption())
    .action(async (opts) => {
      result.code = await (await import('./commands/import.ts')).runImport({ format: opts.format, from: opts.from, out: opts.out, seed: opts.seed, json: opts.json });
    });

  program
    .command('probe')
    .description('ask an OpenAI-compatible endpoint what it does with the fields a run sends (top_k, n, seed, logprobs, stop, max_tokens); exit 0 nothing to adapt, 3 warnings')
    .requiredOption('-m, --mechanism <spec>', 'openai:URL?model=NAME[&k=v…], the endpoint as a run would use it')
    .addOption(jsonOption())
    .action(async (opts) => {
      result.code = await (await import('./commands/probe.ts')).runProbe({ mechanism: opts.mechanism, json: opts.json });
    });

  program
    .command('serve')
    .description('expose any mechanism as an OpenAI-compatible chat-completions endpoint')
    .requiredOption('-m, --mechanism <spec>', mechanismHelp('mechanism spec'))
    .addOption(new Option('--port <p>', 'port (0 picks a free one)').argParser(intArg('--port', 0, 65535)).default(8000))
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .addOption(jsonOption())
    .addOption(seedOption())
    .action(async (opts) => {
      const { resolveRule } = await import('../evaluation/resolve.ts');
      const rule = await resolveRule(opts.mechanism);
      result.code = await (await import('./commands/serve.ts')).runServe({ rule, port: opts.port, host: opts.host, json: opts.json, seed: opts.seed });
    });

  return program;
}

/** `--json -` anywhere before a `--`: stdout is the JSON result's alone. */
function jsonToStdout(argv: readonly string[]): boolean {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--') return false;
    if (argv[i] === '--json=-' || (argv[i] === '--json' && argv[i + 1] === '-')) return true;
  }
  return false;
}

/** Run the CLI; returns the exit code instead of exiting, so tests can call it. */
export async function main(argv: string[]): Promise<number> {
  const result = { code: EXIT.ok as number };
  const program = buildProgram(result);
  if (argv.length === 0) {
    program.outputHelp();
    return EXIT.ok;
  }
  // `--version` is every command's, not only the program's.
  const dashdash = argv.indexOf('--');
  const before = dashdash < 0 ? argv : argv.slice(0, dashdash);
  if (before.includes('--version') || before.includes('-V')) {
    process.stdout.write(`${packageVersion()}\n`);
    return EXIT.ok;
  }
  const restore = jsonToStdout(argv) ? reserveStdoutForJson() : undefined;
  // With --json FILE, the human summary waits until the JSON is written: a command that then fails
  // (a full disk, /dev/full) leaves only its one error line, not a summary that reads as success.
  const held = !restore && jsonFileGiven(before) && before[0] !== 'serve' ? holdStdout() : undefined;
  try {
    await program.parseAsync(argv, { from: 'user' });
    held?.release(true);
    return result.code;
  } catch (e) {
    held?.release(false);
    abortInFlight('the command stopped');
    if (e instanceof CommanderError) {
      // Help and version requests come through here too, as "errors" with exit code 0.
      return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    // An endpoint that refuses the request or cannot be reached makes the spec unusable: one line, exit 2.
    if (e instanceof InputError || e instanceof UsageError || (e instanceof Error && (e.name === 'OpenAIBackendError' || e.name === 'InputError' || e.name === 'UsageError'))) {
      process.stderr.write(`llm-auction: ${oneLine(e.message)}\n`);
      return EXIT.usage;
    }
    process.stderr.write(`llm-auction: internal error: ${(e as Error).stack ?? String(e)}\n`);
    return EXIT.failed;
  } finally {
    held?.release(false);
    restore?.();
  }
}

/** A message on one line, with control characters (a NUL from a damaged file) shown escaped, never written raw. */
function oneLine(message: string): string {
  return message
    .replace(/\s*\n\s*/g, ' ')
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** `--json FILE` (not `-`) among the arguments. */
function jsonFileGiven(args: readonly string[]): boolean {
  return args.some((a, i) => (a === '--json' && args[i + 1] !== undefined && args[i + 1] !== '-') || (a.startsWith('--json=') && a !== '--json=-'));
}

/** Stdout held back until `release`: written out (true) or dropped (false); later calls do nothing. */
function holdStdout(): { release(write: boolean): void } {
  const original = process.stdout.write;
  const chunks: unknown[][] = [];
  process.stdout.write = ((...args: unknown[]) => {
    chunks.push(args);
    const cb = args.find((a) => typeof a === 'function') as (() => void) | undefined;
    cb?.();
    return true;
  }) as typeof process.stdout.write;
  let done = false;
  return {
    release(write: boolean) {
      if (done) return;
      done = true;
      process.stdout.write = original;
      if (write) for (const c of chunks) (original as (...a: unknown[]) => boolean).apply(process.stdout, c.filter((a) => typeof a !== 'function'));
    },
  };
}
