/**
 * Checks of a run directory's files before a command trusts them: `run:DIR` policies, and a
 * training run about to be resumed. Damage is bad input naming the file, line and field (exit 2),
 * found before any work starts, never a SyntaxError or TypeError halfway through.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { InputError } from '../lib/errors.ts';
import { fieldPath, readJsonl } from '../lib/jsonl.ts';
import { LEGACY_NUM_FEATURES, NUM_FEATURES } from './embedded-policy.ts';
import { readDoneEpisodes, readManifest } from './run.ts';

function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(file, undefined, undefined, `cannot read (${(e as NodeJS.ErrnoException).code})`);
  }
  try {
    return JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new InputError(file, undefined, undefined, `not valid JSON (${(e as Error).message}); the checkpoint is damaged`);
  }
}

const embeddedPolicy = z.looseObject({ theta: z.array(z.number({ error: 'must be a finite number' })).min(1, { error: 'must not be empty' }) });
const externalPolicy = z.looseObject({ model: z.string().min(1), baseURL: z.string().min(1), adapter: z.string().nullable().optional() });

/** One policy.json: the embedded policy's theta (finite numbers), or an endpoint model. */
function checkPolicyFile(file: string): void {
  const json = readJsonFile(file);
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new InputError(file, undefined, undefined, 'must be a JSON object');
  const schema = 'model' in json ? externalPolicy : embeddedPolicy;
  const r = schema.safeParse(json);
  if (r.success && schema === embeddedPolicy && (json as { theta: unknown[] }).theta.length !== NUM_FEATURES) {
    const n = (json as { theta: unknown[] }).theta.length;
    const why = n === LEGACY_NUM_FEATURES ? ` (a run trained before the embedded Ad-LLM's class grew to ${NUM_FEATURES} features, issue #22: train it again)` : '';
    throw new InputError(file, undefined, 'theta', `must hold ${NUM_FEATURES} numbers (one per feature of the embedded Ad-LLM), has ${n}${why}`);
  }
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new InputError(file, undefined, fieldPath(issue.path), issue.input === undefined ? 'is required' : issue.message);
  }
}

/** The policy `run:DIR[@EPOCH]` names (the last epoch by default), if it exists. */
export function checkRunPolicy(dir: string, epoch?: number): void {
  let e = epoch;
  if (e === undefined) {
    e = 0;
    while (existsSync(join(dir, `epoch-${e + 1}`, 'policy.json'))) e++;
  }
  const file = join(dir, `epoch-${e}`, 'policy.json');
  if (existsSync(file)) checkPolicyFile(file);
}

const metricsLine = z.looseObject({ epoch: z.number().int().min(1) });

/** A training run about to be resumed: manifest, metrics, every policy and online episode log. */
export function checkTrainDir(dir: string): void {
  if (!existsSync(dir)) return;
  const manifest = join(dir, 'manifest.json');
  if (existsSync(manifest)) readManifest(manifest);
  const metrics = join(dir, 'metrics.jsonl');
  if (existsSync(metrics)) readJsonl(metrics, metricsLine);
  for (const name of readdirSync(dir).filter((n) => /^epoch-\d+$/.test(n))) {
    const policy = join(dir, name, 'policy.json');
    if (existsSync(policy)) checkPolicyFile(policy);
    const online = join(dir, name, 'online');
    if (existsSync(join(online, 'manifest.json'))) readManifest(join(online, 'manifest.json'));
    // Validates every line (a torn last line is cut off, as the resume itself would).
    readDoneEpisodes(join(online, 'episodes.jsonl'));
  }
}
