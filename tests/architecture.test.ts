/**
 * The layout's two rules, checked over every tracked TypeScript file (ARCHITECTURE.md says why):
 * imports only run downward through the layers, and no source file grows past ~500 lines
 * (data files aside), so a concept stays in one readable place.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';

/** Lower numbers sit lower; a file may import its own folder or any strictly lower layer. */
export const LAYERS: Record<string, number> = {
  lib: 0, // rng, stats, errors, JSON Lines, numbers: no domain knowledge
  mechanism: 1, // the contract: types, prompt, parser, payment, reward, itctr, settlement
  models: 2, // real LLM backends behind the AllocationRule interface
  simulation: 3, // the embedded world, users, judge, episodes and runs
  properties: 4, // incentive properties as statistical tests
  data: 4, // importers of real data into the world's formats
  training: 5, // pCTR model, DPO, the IRPO loop
  baselines: 5, // GSP, MOSAIC
  reports: 6, // Table 2, Figure 4, HTML
  evaluation: 6.5, // spec and user kinds (resolve a spec to a rule), world selection, Table 2's computation: what commands and the library call
  cli: 7, // commands: flags in, one call into evaluation/ or below, output out
  api: 7.5, // the library's entry ('llm-auction', 'llm-auction/vitest'): calls evaluation/ as the commands do; the tests use it
  benchmarks: 8,
  tests: 8,
  scripts: 8,
  bin: 9,
};

/** Harness code may share fixtures across these folders (benchmarks reuse the planted rules and the fake server). */
const HARNESS_SHARING = [['benchmarks', 'tests/fixtures/'], ['benchmarks', 'tests/helpers/']] as const;

/** Files that are data written as code (vocabulary tables), exempt from the size rule. */
const DATA_FILES = new Set(['simulation/world-vocabulary.ts']);
const MAX_LINES = 500;

const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '*.ts', '*.mts'], { encoding: 'utf8' })
  .split('\n')
  .filter((f) => f !== '' && f.split('/')[0]! in LAYERS);

function relativeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) out.push(normalize(join(dirname(file), m[1]!)));
  return out;
}

describe('architecture', () => {
  it('reads the tree (a broken file listing would make the checks below vacuous)', () => {
    expect(files.length).toBeGreaterThan(150);
    expect(files).toContain('mechanism/types.ts');
    expect(relativeImports('cli/main.ts').length).toBeGreaterThan(3);
  });

  it('imports run downward: commands -> reports -> training/baselines -> properties/data -> simulation -> models -> mechanism -> lib', () => {
    const upward: string[] = [];
    for (const file of files) {
      const from = file.split('/')[0]!;
      for (const target of relativeImports(file)) {
        const to = target.split('/')[0]!;
        if (to === from || !(to in LAYERS)) continue;
        if (HARNESS_SHARING.some(([a, b]) => a === from && target.startsWith(b))) continue;
        if (LAYERS[to]! >= LAYERS[from]!) upward.push(`${file} -> ${target}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it(`no source file is longer than ${MAX_LINES} lines (data files aside)`, () => {
    const long = files
      .filter((f) => !DATA_FILES.has(f))
      .map((f) => ({ f, lines: readFileSync(f, 'utf8').split('\n').length }))
      .filter(({ lines }) => lines > MAX_LINES)
      .map(({ f, lines }) => `${f}: ${lines}`);
    expect(long).toEqual([]);
  });
});
