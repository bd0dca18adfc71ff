/**
 * `llm-auction verify -m SPEC [--property …] [--alpha A] [--budget N] [--seed N] [--json FILE]`:
 * run the statistical property checks on one mechanism. The checks, their family-wise alpha, the
 * verdicts with their evidence and the exit code (0 pass, 1 fail, 3 inconclusive) are computed by
 * evaluation/verify.ts; this command shows their progress, prints the summary and writes --json.
 */
import cliProgress from 'cli-progress';
import { num } from '../../properties/evidence.ts';
import type { ProgressEvent } from '../../properties/types.ts';
import { table, writeJsonResult } from '../output.ts';
import type { VerifyResult } from '../../reports/formats.ts';
import { inconclusiveAdvice, resolveProperties, verifyProperties, type VerifyPropertiesOptions } from '../../evaluation/verify.ts';
import { VerifyProgress } from '../../evaluation/verify-progress.ts';
import { UsageError } from '../../lib/errors.ts';

export { verdictText } from '../../evaluation/verify.ts';

export interface VerifyOptions extends Omit<VerifyPropertiesOptions, 'onProgress' | 'signal' | 'checkpoint'> {
  /** `--json FILE`; "-" writes the JSON alone to stdout. */
  json?: string;
  /** `--out DIR`: resumable state (each finished property) and, at the end, DIR/verify.json. */
  out?: string;
  /** `--resume`: continue the verify in `out`. */
  resume?: boolean;
  /** What a resume must match: the spec as given, the user, and every option that changes a verdict. */
  config?: Record<string, unknown>;
  /** The `-m` spec as given, for the command an inconclusive verdict suggests (default: the mechanism's name). */
  spec?: string;
}

function progressBar(): { onProgress: (e: ProgressEvent) => void; stop: () => void } | undefined {
  if (!process.stderr.isTTY) return undefined;
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: '{property} [{bar}] {value}/{total} cases | {samples} responses{phase}',
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let current: string | undefined;
  return {
    onProgress(e) {
      const payload = { property: e.property.padEnd(15), samples: e.samples, phase: e.phase === 'shrinking' ? ' | shrinking' : '' };
      if (current !== e.property) {
        if (current !== undefined) bar.stop();
        current = e.property;
        bar.start(e.casesPlanned, Math.min(e.cases, e.casesPlanned), payload);
      } else {
        bar.update(Math.min(e.cases, e.casesPlanned), payload);
      }
    },
    stop() {
      if (current !== undefined) bar.stop();
      current = undefined;
    },
  };
}

/** "budget N responses per property", or each property's own cap when they differ. */
function budgetLine(given: number | undefined, budgets: Record<string, number>): string {
  if (given !== undefined) return `budget ${given} responses per property`;
  const caps = Object.entries(budgets);
  if (caps.length === 0) return 'budget: none spent';
  if (new Set(caps.map(([, n]) => n)).size === 1) return `budget ${caps[0]![1]} responses per property`;
  return `budget per property ${caps.map(([p, n]) => `${p} ${n}`).join(', ')} responses`;
}

export async function runVerify(opts: VerifyOptions): Promise<number> {
  return (await verifyMechanism(opts)).code;
}

/** verify's whole run: the verdicts, printed and written as `--json` says, and handed back to callers such as demo. */
export async function verifyMechanism(opts: VerifyOptions): Promise<{ code: number; result: VerifyResult }> {
  const { json, spec, out, resume, config, ...rest } = opts;
  if (resume && out === undefined) throw new UsageError('--resume continues a verify written with --out DIR: add --out');
  const state = out === undefined ? undefined : VerifyProgress.open(out, config ?? {}, resume === true, resolveProperties(rest.properties).map((p) => p.name));
  const bar = progressBar();
  let outcome;
  try {
    outcome = await verifyProperties({ ...rest, ...(bar ? { onProgress: bar.onProgress } : {}), ...(state ? { checkpoint: state } : {}) });
    state?.finish(outcome.result);
  } finally {
    bar?.stop();
    state?.close();
  }
  const { code, result, lines } = outcome;
  // Inconclusive: the budget the evidence asks for, and the command with the spec as typed.
  const headline = code === 3 ? `inconclusive: ${inconclusiveAdvice({ ...result, mechanism: spec ?? result.mechanism })}` : outcome.headline;
  if (json === '-') {
    writeJsonResult('-', result);
    return { code, result };
  }
  const { alpha, alpha_per_property: alphaEach, tested, seed } = result;
  const alphaLine =
    tested.length > 1
      ? `alpha ${alpha} family-wise over ${tested.length} tested properties (${num(alphaEach, 4)} each)`
      : `alpha ${alpha}`;
  const rows = lines.map((l) => [l.property, l.verdict, l.samples, l.p_value, l.mode, l.evidence]);
  process.stdout.write(
    `verify ${result.mechanism}: ${alphaLine}, ${budgetLine(opts.budget, result.budgets)}, seed ${seed}\n\n` +
      `${table(['property', 'verdict', 'samples', 'p-value', 'mode', 'evidence'], rows)}\n\n${headline}\n`,
  );
  writeJsonResult(json, result);
  return { code, result };
}
