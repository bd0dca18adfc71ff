import { describe, expect, it } from 'vitest';
import { UsageError } from '../lib/errors.ts';
import { formatSpec, parseSpec, parseSpecList } from '../evaluation/kinds/index.ts';

describe('mechanism spec grammar', () => {
  it('parses every kind of the contract', () => {
    expect(parseSpec('embedded:pretrained')).toEqual({ kind: 'embedded', name: 'pretrained' });
    expect(parseSpec('run:runs/tiny')).toEqual({ kind: 'run', dir: 'runs/tiny' });
    expect(parseSpec('run:runs/tiny@2')).toEqual({ kind: 'run', dir: 'runs/tiny', epoch: 2 });
    expect(parseSpec('mosaic:embedded:pretrained')).toEqual({ kind: 'mosaic', inner: { kind: 'embedded', name: 'pretrained' }, n: 20 });
    expect(parseSpec('mosaic:embedded:pretrained?n=5')).toMatchObject({ kind: 'mosaic', n: 5 });
    expect(parseSpec('gsp:embedded:pretrained?k=2')).toMatchObject({ kind: 'gsp', k: 2 });
    expect(parseSpec('local:smollm2')).toEqual({ kind: 'local', model: 'smollm2' });
    expect(parseSpec('local:/models/x.gguf')).toEqual({ kind: 'local', model: '/models/x.gguf' });
    expect(parseSpec('openai:http://127.0.0.1:8000/v1?model=Qwen3-4B')).toEqual({
      kind: 'openai',
      baseURL: 'http://127.0.0.1:8000/v1',
      params: { model: 'Qwen3-4B' },
    });
    expect(parseSpec('module:./my-rule.ts')).toEqual({ kind: 'module', path: './my-rule.ts' });
  });

  it('gives a trailing ?… to the wrapper only when all its keys are the wrapper\'s', () => {
    const s = parseSpec('mosaic:openai:http://h:1/v1?model=m');
    expect(s).toEqual({ kind: 'mosaic', n: 20, inner: { kind: 'openai', baseURL: 'http://h:1/v1', params: { model: 'm' } } });
    const t = parseSpec('gsp:mosaic:openai:http://h:1/v1?model=m?n=4?k=2');
    expect(t).toMatchObject({ kind: 'gsp', k: 2, inner: { kind: 'mosaic', n: 4, inner: { kind: 'openai', params: { model: 'm' } } } });
  });

  it('round-trips through formatSpec', () => {
    for (const s of ['embedded:optimal', 'run:r@3', 'gsp:mosaic:embedded:pretrained?n=3?k=2', 'openai:http://x/v1?model=a%20b&temperature=0.5']) {
      expect(parseSpec(formatSpec(parseSpec(s)))).toEqual(parseSpec(s));
    }
  });

  it('splits a comma list only at the start of a new spec', () => {
    expect(parseSpecList('embedded:pretrained,mosaic:embedded:pretrained?n=20,gsp:embedded:pretrained').map((s) => s.kind)).toEqual([
      'embedded',
      'mosaic',
      'gsp',
    ]);
  });

  it('refuses bad specs with a usage error that names the spec', () => {
    for (const bad of ['', 'pretrained', 'foo:bar', 'mosaic:', 'mosaic:embedded:pretrained?n=0', 'openai:ftp://x', 'embedded:', 'module:', 'run:']) {
      expect(() => parseSpec(bad), bad).toThrow(UsageError);
    }
    expect(() => parseSpec('foo:bar')).toThrow(/bad mechanism spec "foo:bar": unknown kind/);
  });
});
