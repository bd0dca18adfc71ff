/**
 * `llm-auction probe -m openai:URL?model=NAME`: what the endpoint does with the fields a run sends
 * (models/probe.ts), printed before anyone trusts a run on it. Exit 0 when nothing needs adapting,
 * 3 when a run would need the printed spec changes or would mean less than it seems, 2 when the
 * endpoint dies under the concurrent burst a run would send (one line naming the likely cause).
 */
import { UsageError } from '../../lib/errors.ts';
import { parseOpenAISpec } from '../../models/backends/openai-config.ts';
import { probeEndpoint, type ProbeReport } from '../../models/probe.ts';
import { table, writeJsonResult } from '../output.ts';

export interface ProbeOptions {
  mechanism: string;
  json?: string;
}

function adaptedSpec(spec: string, adapt: Record<string, string>): string {
  const extra = Object.entries(adapt).map(([k, v]) => `${k}=${v}`);
  if (extra.length === 0) return spec;
  return `${spec}${spec.includes('?') ? '&' : '?'}${extra.join('&')}`;
}

export async function runProbe(opts: ProbeOptions): Promise<number> {
  const spec = opts.mechanism.trim();
  if (!spec.startsWith('openai:')) {
    throw new UsageError(
      `probe asks an OpenAI-compatible endpoint: give -m openai:URL?model=NAME (got ${JSON.stringify(spec)}). ` +
        'In-process rules (embedded:, local:, module:) honour seed, n and max_tokens themselves; a wrapper (mosaic:, gsp:) sends what its inner spec sends: probe that.',
    );
  }
  const cfg = parseOpenAISpec(spec);
  // The concurrent burst sends what a run with this spec would (its concurrency and n, up to 16 and 4).
  const burst = { concurrency: Math.min(cfg.concurrency, 16), n: Math.min(cfg.maxNPerRequest, 4) };
  const report: ProbeReport = await probeEndpoint({ baseURL: cfg.baseURL, model: cfg.model, apiKey: cfg.apiKey, timeoutMs: cfg.timeoutMs, burst });
  const code = report.warnings.length ? 3 : 0;
  const result = { ...report, spec, adapted_spec: adaptedSpec(spec, report.adapt) };
  if (opts.json === '-') {
    writeJsonResult('-', result);
    return code;
  }
  const yesNo = (x: boolean | null) => (x === null ? 'could not tell' : x ? 'yes' : 'no');
  const rows: (string | number)[][] = [
    ...Object.entries(report.fields).map(([f, r]) => [`field ${f}`, r.accepted ? 'accepted' : `refused: HTTP ${r.status} ${r.message ?? ''}`.trim()]),
    ['n = 3 returns', report.n_returned === null ? '-' : `${report.n_returned} choice(s)`],
    ['different texts at temperature 1', `${report.distinct_texts} of ${report.tries}`],
    ['same seed, same text', yesNo(report.seed_repeats)],
    ['log-probabilities returned', yesNo(report.logprobs_returned)],
    ['cut answer says "length"', yesNo(report.finish_reason_length)],
    ...(report.burst
      ? [
          [
            `${report.burst.requests} at once${report.burst.seeded ? ', seeded' : ''}${report.burst.n > 1 ? `, n = ${report.burst.n}` : ''}, beside ${report.burst.long_prompts.requests} long prompts (~${report.burst.long_prompts.approx_tokens} tokens)`,
            `${report.burst.answered} + ${report.burst.long_prompts.answered} answered in ${report.burst.seconds.toFixed(1)} s, still up`,
          ],
        ]
      : []),
  ];
  process.stdout.write(
    `probe ${report.endpoint} (model ${report.model})\n\n${table(['what', 'found'], rows)}\n\n` +
      (report.warnings.length ? `${report.warnings.map((w) => `warning: ${w}`).join('\n')}\n\nadapted spec: ${result.adapted_spec}\n` : 'nothing to adapt: the endpoint honours every field a run sends\n'),
  );
  writeJsonResult(opts.json, result);
  return code;
}
