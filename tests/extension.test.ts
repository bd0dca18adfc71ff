/**
 * Adding a property is one file and one registration: a throwaway property from a fixture
 * (tests/fixtures/throwaway-property.ts), registered at run time, appears in `verify --help` and
 * its default list, runs in `verify` with its own verdict and evidence, and shows in the report
 * built from the verify.json it wrote. Nothing else is edited for it.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runVerify } from '../cli/commands/verify.ts';
import { buildReport } from '../cli/commands/report.ts';
import { buildProgram } from '../cli/main.ts';
import { UsageError } from '../lib/errors.ts';
import { propertyNames, registerProperty } from '../properties/registry.ts';
import { irpoConfig } from '../training/config.ts';
import { trainIrpo } from '../training/irpo.ts';
import * as F from './fixtures/planted.ts';
import { sweepEndsSpec } from './fixtures/throwaway-property.ts';

registerProperty(sweepEndsSpec);

const root = mkdtempSync(join(tmpdir(), 'llm-auction-extension-'));
/** Exposure falls as the bid rises: the ends of the sweep are out of order, so sweep-ends fails. */
const inverse = () => F.atClickRate('inverse@0.3', F.inverseQ, 0.3);

/** runVerify's exit code and what it printed. */
async function verifyPrinting(opts: Parameters<typeof runVerify>[0]): Promise<{ code: number; text: string }> {
  const write = process.stdout.write;
  let text = '';
  process.stdout.write = ((chunk: string) => {
    text += chunk;
    return true;
  }) as typeof process.stdout.write;
  try {
    return { code: await runVerify(opts), text };
  } finally {
    process.stdout.write = write;
  }
}

describe('a property registered at run time', () => {
  it('is listed by verify --help and joins the default list', () => {
    expect(propertyNames()).toContain('sweep-ends');
    const verify = buildProgram({ code: 0 }).commands.find((c) => c.name() === 'verify')!;
    const help = verify.helpInformation().replace(/\s+/g, ' ');
    expect(help).toContain('comma-separated: monotonicity,continuity,ir,vm-truthfulness,sweep-ends (um-equilibrium adds a report)');
    expect(help).toContain('(default: "monotonicity,continuity,ir,vm-truthfulness,sweep-ends")');
  });

  it('cannot take the name of one already registered', () => {
    expect(() => registerProperty(sweepEndsSpec)).toThrow(UsageError);
    expect(() => registerProperty({ ...sweepEndsSpec, name: 'a,b' })).toThrow(UsageError);
  });

  it('runs in verify: its verdict in the JSON, its own evidence in the summary', async () => {
    const json = join(root, 'verify.json');
    const { code, text } = await verifyPrinting({ mechanism: inverse(), properties: ['sweep-ends'], seed: 1, json });
    expect(code).toBe(1);
    const out = JSON.parse(readFileSync(json, 'utf8'));
    expect(out.tested).toEqual(['sweep-ends']);
    expect(out.properties['sweep-ends'].verdict).toBe('fail');
    expect(out.properties['sweep-ends'].counterexample.bids).toEqual([1, 100]);
    expect(text).toMatch(/sweep-ends\s+fail\s+\d+\s+exact\s+exact\s+itctr 0\.\d+ at bid 1 falls to 0\.\d+ at bid 100/);
  });

  it('shows in the report built from the verify.json that verify wrote', { timeout: 300_000 }, async () => {
    const run = join(root, 'run');
    await trainIrpo({ out: run, config: irpoConfig({ preset: 'tiny', trainQueries: 40, epochs: 1, rmSamples: 2 }), seed: 2 });
    await verifyPrinting({ mechanism: inverse(), properties: ['monotonicity,sweep-ends'], seed: 1, cases: 2, json: join(run, 'verify.json') });
    const out = join(root, 'report');
    await buildReport({ run, out, seed: 0, queries: 8, responses: 10 });
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    expect(html).toMatch(/<tr><td>sweep-ends<\/td><td><span class="badge fail">fail<\/span><\/td>/);
    expect(html).toMatch(/<tr><td>monotonicity<\/td><td><span class="badge fail">fail<\/span><\/td>/);
  });
});
