import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = new URL('../bin/llm-auction.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'llm-auction-cli-'));

function cli(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const adsFile = join(dir, 'ads.json');
writeFileSync(adsFile, JSON.stringify([{ id: 'Ad-0001', title: 'Floral Coffee Cup' }, { id: 'Ad-0002', title: 'Cork Yoga Block' }]));
const response = 'Pair it with @Floral Coffee Cup@[Ad-0001]. Also @Cup@[Ad-0002] and @X@[Ad-0404].';

describe('llm-auction CLI', () => {
  it('--help lists every command of the contract', () => {
    const r = cli(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['demo', 'simulate', 'train', 'bench', 'verify', 'report', 'parse', 'import', 'serve']) expect(r.out).toContain(c);
  });

  it('each command has --help with --json and --seed', () => {
    for (const c of ['demo', 'simulate', 'train', 'bench', 'verify', 'report', 'parse', 'import', 'serve']) {
      const r = cli([c, '--help']);
      expect(r.code, c).toBe(0);
      expect(r.out, c).toContain('--json');
      expect(r.out, c).toContain('--seed');
    }
  });

  it('parse classifies a response from a file and writes the contract JSON', () => {
    const resp = join(dir, 'resp.txt');
    writeFileSync(resp, response);
    const jsonOut = join(dir, 'out.json');
    const r = cli(['parse', '--ads', adsFile, resp, '--json', jsonOut]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('1 valid exposure(s), 2 format error(s)');
    const j = JSON.parse(readFileSync(jsonOut, 'utf8'));
    expect(j.exposures).toEqual([{ id: 'Ad-0001', title: 'Floral Coffee Cup', start: 13, end: 41 }]);
    expect(j.errors.map((e: { kind: string }) => e.kind)).toEqual(['title_mismatch', 'unknown_id']);
    expect(j.errors[0].text).toBe('@Cup@[Ad-0002]');
  });

  it('parse reads standard input with - and prints JSON with --json -', () => {
    const r = cli(['parse', '--ads', adsFile, '-', '--json', '-'], response);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).exposures).toHaveLength(1);
  });

  it('bad input exits 2 with one line naming file, line and field', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '[\n{"id":"Ad-0001","title":"a"},\n{"id":"Ad-0002"}\n]');
    const r = cli(['parse', '--ads', bad, '-'], 'x');
    expect(r.code).toBe(2);
    expect(r.err.trim()).toBe(`llm-auction: ${bad}:3: field "[1].title": is required`);
    expect(r.err.trim().split('\n')).toHaveLength(1);
  });

  it('bad usage exits 2', () => {
    expect(cli(['frobnicate']).code).toBe(2);
    expect(cli(['parse']).code).toBe(2);
    expect(cli(['verify', '-m', 'embedded:optimal', '--alpha', 'lots']).code).toBe(2);
  });
});
