/** `llm-auction parse --ads ADS.json [FILE|-]`: classify the ad insertions of one response. */
import { readFileSync } from 'node:fs';
import { InputError } from '../../lib/errors.ts';
import { decodeText, readText } from '../../lib/jsonl.ts';
import { loadAdRefs } from '../../mechanism/loaders.ts';
import { parseResponse } from '../../mechanism/parser.ts';
import { writeJsonResult } from '../output.ts';

export interface ParseOptions {
  ads: string;
  file?: string;
  json?: string;
}

function readResponse(file: string | undefined): string {
  if (file === undefined || file === '-') {
    let buf: Buffer;
    try {
      buf = readFileSync(0);
    } catch (e) {
      throw new InputError('standard input', undefined, undefined, `cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    return decodeText(buf, 'standard input');
  }
  return readText(file);
}

export async function runParse(opts: ParseOptions): Promise<number> {
  const ads = loadAdRefs(opts.ads);
  const text = readResponse(opts.file);
  const parsed = parseResponse(text, ads);
  const result = {
    exposures: parsed.exposures.map((e) => ({ id: e.id, title: e.title, start: e.start, end: e.end })),
    errors: parsed.errors.map((e) => ({ kind: e.kind, text: e.text, start: e.start, end: e.end })),
  };
  if (opts.json === '-') {
    writeJsonResult('-', result);
    return 0;
  }
  const lines = [`${parsed.exposures.length} valid exposure(s), ${parsed.errors.length} format error(s)`];
  for (const e of parsed.exposures) lines.push(`  exposure  ${e.id}  ${JSON.stringify(e.title)}  chars ${e.start}-${e.end}`);
  for (const e of parsed.errors) lines.push(`  error     ${e.kind.padEnd(14)}  ${JSON.stringify(e.text)}  chars ${e.start}-${e.end}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  writeJsonResult(opts.json, result);
  return 0;
}
