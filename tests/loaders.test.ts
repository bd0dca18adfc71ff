import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../lib/errors.ts';
import { loadAdRefs, loadAuctions, loadCatalog, loadProfiles, loadQueries } from '../mechanism/loaders.ts';

const dir = mkdtempSync(join(tmpdir(), 'llm-auction-loaders-'));
function file(name: string, lines: string[]): string {
  const p = join(dir, name);
  writeFileSync(p, `${lines.join('\n')}\n`);
  return p;
}
function errorOf(fn: () => unknown): InputError {
  try {
    fn();
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error('expected an InputError');
}

const ad = (id: string, title?: string) => JSON.stringify(title === undefined ? { id } : { id, title, category: 'Coffee' });
const profile = { id: 'U-0001', info: 'a nurse', interests: ['tea'] };
const auction = (bid: unknown) => `{"query":"q?","profile":${JSON.stringify(profile)},"ads":[{"id":"Ad-0001","title":"Mug","bid":${bid}}]}`;

describe('JSON Lines loaders', () => {
  it('load a good catalog, profiles and queries', () => {
    const catalog = loadCatalog(file('c.jsonl', [ad('Ad-0001', 'Mug'), '', ad('Ad-0002', 'Kettle')]));
    expect(catalog).toEqual([
      { id: 'Ad-0001', title: 'Mug', category: 'Coffee' },
      { id: 'Ad-0002', title: 'Kettle', category: 'Coffee' },
    ]);
    const profiles = loadProfiles(file('p.jsonl', [JSON.stringify(profile)]));
    const queries = loadQueries(file('q.jsonl', ['{"id":"Q-1","profile_id":"U-0001","text":"Which tea?","split":"test"}']), profiles);
    expect(queries[0]!.split).toBe('test');
  });

  it('name file, line and field for a missing title', () => {
    const f = file('c1.jsonl', [ad('Ad-0001', 'Mug'), ad('Ad-0002')]);
    const e = errorOf(() => loadCatalog(f));
    expect([e.file, e.line, e.field]).toEqual([f, 2, 'title']);
    expect(e.message).toBe(`${f}:2: field "title": is required`);
  });

  it('name the duplicate id and where it first appeared', () => {
    const f = file('c2.jsonl', [ad('Ad-0001', 'Mug'), ad('Ad-0002', 'Pot'), ad('Ad-0001', 'Cup')]);
    expect(errorOf(() => loadCatalog(f)).message).toBe(`${f}:3: field "id": duplicate id "Ad-0001" (first on line 1)`);
  });

  it('refuse ids not of the form Ad-…', () => {
    const f = file('c3.jsonl', [ad('ad_1', 'Mug')]);
    const e = errorOf(() => loadCatalog(f));
    expect([e.line, e.field]).toEqual([1, 'id']);
    expect(e.detail).toMatch(/Ad-0001/);
  });

  it('refuse negative, infinite and non-numeric bids (NaN cannot be written in JSON; "NaN" is a string)', () => {
    for (const [bid, why] of [
      ['-3', /negative/],
      ['1e999', /finite/],
      ['"NaN"', /number/],
      ['"12"', /number/],
      ['null', /number/],
    ] as const) {
      const f = file('a.jsonl', [auction(5), auction(bid)]);
      const e = errorOf(() => loadAuctions(f));
      expect([e.line, e.field], bid).toEqual([2, 'ads[0].bid']);
      expect(e.detail, bid).toMatch(why);
    }
  });

  it('report broken JSON with its line, and unknown profiles of queries', () => {
    const f = file('c4.jsonl', [ad('Ad-0001', 'Mug'), '{"id": "Ad-0002",']);
    expect(errorOf(() => loadCatalog(f)).line).toBe(2);
    const q = file('q2.jsonl', ['{"id":"Q-1","profile_id":"U-9","text":"t","split":"train"}']);
    expect(errorOf(() => loadQueries(q, [profile])).message).toBe(`${q}:1: field "profile_id": no profile with id "U-9"`);
    const s = file('q3.jsonl', ['{"id":"Q-1","profile_id":"U-0001","text":"t","split":"dev"}']);
    expect(errorOf(() => loadQueries(s)).field).toBe('split');
  });

  it('read the --ads JSON array of parse with element lines', () => {
    const ok = join(dir, 'ads.json');
    writeFileSync(ok, '[\n {"id":"Ad-0001","title":"Mug"},\n {"id":"Ad-0002","title":"Pot","bid":3}\n]\n');
    expect(loadAdRefs(ok)).toEqual([
      { id: 'Ad-0001', title: 'Mug' },
      { id: 'Ad-0002', title: 'Pot' },
    ]);
    const badTitle = join(dir, 'ads2.json');
    writeFileSync(badTitle, '[\n {"id":"Ad-0001","title":"Mug"},\n {"id":"Ad-0002"}\n]\n');
    expect(errorOf(() => loadAdRefs(badTitle)).message).toBe(`${badTitle}:3: field "[1].title": is required`);
    const notArray = join(dir, 'ads3.json');
    writeFileSync(notArray, '{"id":"Ad-0001"}');
    expect(errorOf(() => loadAdRefs(notArray)).detail).toMatch(/JSON array/);
    expect(errorOf(() => loadAdRefs(join(dir, 'missing.json'))).detail).toBe('no such file');
  });
});
