/**
 * Adding a property is one file and one registration: a throwaway property from a fixture
 * (tests/fixtures/throwaway-property.ts), registered at run time, appears in `verify --help` and
 * its default list, runs in `verify` with its own verdict and evidence, and shows in the report
 * built from the verify.json it wrote. Nothing else is edited for it.
 *
 * The same holds for a mechanism kind (tests/fixtures/throwaway-kind.ts, `tilt:SLOPE`): once
 * registered it is in `-m`'s help, parses and formats (inside gsp: too), is suggested for a
 * misspelling, runs through `verify` and `bench` from the command line, and is labelled in the
 * report built from what they wrote.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runVerify } from '../cli/commands/verify.ts';
import { buildReport } from '../cli/commands/report.ts';
import { formatSpec, mechanismKindNames, parseSpec, parseSpecList, registerMechanismKind, specLabel } from '../evaluation/kinds/index.ts';
import { buildProgram, main } from '../cli/main.ts';
import { UsageError } from '../lib/errors.ts';
import { propertyNames, registerProperty } from '../properties/registry.ts';
import { irpoConfig } from '../training/config.ts';
import { trainIrpo } from '../training/irpo.ts';
import * as F from './fixtures/planted.ts';
import { tiltKind } from './fixtures/throwaway-kind.ts';
import { sweepEndsSpec } from './fixtures/throwaway-property.ts';

registerProperty(sweepEndsSpec);
registerMechanismKind(tiltKind);

const root = mkdtempSync(join(tmpdir(), 'llm-auction-extension-'));
/** Exposure falls as the bid rises: the ends of the sweep are out of order, so sweep-ends fails. */
const inverse = () => F.atClickRate('inverse@0.3', F.inverseQ, 0.3);

/** An exit code and what was printed on the way to it. */
async function printing(run: () => Promise<number>): Promise<{ code: number; text: string }> {
  const write = process.stdout.write;
  let text = '';
  process.stdout.write = ((chunk: string) => {
    text += chunk;
    return true;
  }) as typeof process.stdout.write;
  try {
    return { code: await run(), text };
  } finally {
    process.stdout.write = write;
  }
}

const verifyPrinting = (opts: Parameters<typeof runVerify>[0]) => printing(() => runVerify(opts));
/** The CLI as a user runs it. */
const cli = (...argv: string[]) => printing(() => main(argv));

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

describe('a mechanism kind registered at run time', () => {
  const helpOf = (command: string) =>
    buildProgram({ code: 0 })
      .commands.find((c) => c.name() === command)!
      .helpInformation()
      .replace(/\s+/g, ' ');

  it('is listed by -m in the help of verify and bench', () => {
    expect(mechanismKindNames()).toEqual(['embedded', 'run', 'mosaic', 'gsp', 'inject', 'segment', 'prominence', 'token', 'local', 'openai', 'module', 'tilt']);
    expect(helpOf('verify')).toContain('module:PATH, tilt:SLOPE (see README: mechanism specs)');
    expect(helpOf('bench')).toContain('module:PATH, tilt:SLOPE (see README: mechanism specs)');
  });

  it('parses, formats and labels like a built-in kind, inside a built-in wrapper too', () => {
    expect(parseSpec('tilt:+0.50')).toEqual({ kind: 'tilt', slope: 0.5 });
    expect(formatSpec(parseSpec('tilt:+0.50'))).toBe('tilt:0.5');
    const wrapped = parseSpec('gsp:tilt:-.8?k=2');
    expect(wrapped).toEqual({ kind: 'gsp', inner: { kind: 'tilt', slope: -0.8 }, k: 2 });
    expect(formatSpec(wrapped)).toBe('gsp:tilt:-0.8?k=2');
    expect(parseSpec(formatSpec(wrapped))).toEqual(wrapped);
    expect(specLabel(wrapped)).toBe('GSP (k=2, pCTR from logs) over Tilt (slope -0.8)');
    expect(parseSpecList('tilt:0.3,embedded:pretrained,mosaic:tilt:1?n=3').map(formatSpec)).toEqual(['tilt:0.3', 'embedded:pretrained', 'mosaic:tilt:1?n=3']);
  });

  it('is suggested for a misspelled kind and named among the known ones; its own errors are usage errors', () => {
    expect(() => parseSpec('tlit:0.5')).toThrow(
      'bad mechanism spec "tlit:0.5": unknown kind "tlit" (did you mean "tilt"?); expected one of embedded, run, mosaic, gsp, inject, segment, prominence, token, local, openai, module, tilt',
    );
    expect(() => parseSpec('tilt:2')).toThrow(UsageError);
    expect(() => parseSpec('tilt:2')).toThrow(/SLOPE must be a number in \[-1, 1\], got "2"/);
  });

  it('cannot take the name of one already registered, built in or not', () => {
    expect(() => registerMechanismKind(tiltKind)).toThrow('mechanism kind "tilt" is already registered');
    expect(() => registerMechanismKind({ ...tiltKind, kind: 'gsp' } as never)).toThrow('mechanism kind "gsp" is already registered');
    expect(() => registerMechanismKind({ ...tiltKind, kind: 'a:b' } as never)).toThrow(UsageError);
    expect(mechanismKindNames().filter((k) => k === 'tilt')).toHaveLength(1);
  });

  it('runs in verify from the command line, its parameter deciding the verdict', async () => {
    const falling = join(root, 'verify-tilt-falling.json');
    const down = await cli('verify', '-m', 'tilt:-0.8', '--property', 'monotonicity', '--cases', '2', '--budget', '2000', '--json', falling);
    expect(down.code).toBe(1);
    const out = JSON.parse(readFileSync(falling, 'utf8'));
    expect(out.mechanism).toBe('tilt:-0.8');
    expect(out.tested).toEqual(['monotonicity']);
    expect(out.properties.monotonicity.verdict).toBe('fail');
    // The exposure of the fixture's line at the ends of the sweep: 0.5 + 0.4 at bid 1, 0.5 - 0.4 at 100.
    expect(out.properties.monotonicity.counterexample).toMatchObject({ bids: [1, 100], exposure: [0.9, 0.1], exact: true });
    expect(down.text).toMatch(/monotonicity\s+fail\s/);

    const rising = join(root, 'verify-tilt-rising.json');
    const up = await cli('verify', '-m', 'tilt:0.8', '--property', 'monotonicity', '--cases', '2', '--budget', '2000', '--json', rising);
    expect(up.code).toBe(0);
    expect(JSON.parse(readFileSync(rising, 'utf8')).properties.monotonicity).toMatchObject({ verdict: 'pass', counterexample: null });
  });

  it('is labelled in the report built from what bench and verify wrote', { timeout: 300_000 }, async () => {
    const run = join(root, 'tilt-run');
    await trainIrpo({ out: run, config: irpoConfig({ preset: 'tiny', trainQueries: 40, epochs: 1, rmSamples: 2 }), seed: 2 });
    expect((await cli('bench', '-m', 'tilt:-0.8,gsp:tilt:-0.8', '--limit', '3', '--out', run)).code).toBe(0);
    expect((await cli('verify', '-m', 'tilt:-0.8', '--property', 'monotonicity', '--cases', '2', '--json', join(run, 'verify.json'))).code).toBe(1);
    const rows = JSON.parse(readFileSync(join(run, 'bench.json'), 'utf8')).rows;
    expect(rows.map((r: { mechanism: string; label: string; exact: boolean }) => [r.mechanism, r.label, r.exact])).toEqual([
      ['tilt:-0.8', 'Tilt (slope -0.8)', true],
      ['gsp:tilt:-0.8?k=1', 'GSP (k=1, pCTR from logs) over Tilt (slope -0.8)', true],
    ]);
    const out = join(root, 'tilt-report');
    await buildReport({ run, out, seed: 0, queries: 8, responses: 10 });
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    expect(html).toContain('<tr><td>Tilt (slope -0.8)<br><span class="spec">tilt:-0.8</span></td>');
    expect(html).toContain('<tr><td>GSP (k=1, pCTR from logs) over Tilt (slope -0.8)<br><span class="spec">gsp:tilt:-0.8?k=1</span></td>');
    expect(html).toContain('<code>llm-auction verify</code> for <code>tilt:-0.8</code>');
    expect(html).toMatch(/<tr><td>monotonicity<\/td><td><span class="badge fail">fail<\/span><\/td>/);
  });
});
