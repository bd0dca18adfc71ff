/**
 * `--help` states every default: each option that takes a value and is not required either has a
 * commander default (shown as "(default: …)") or says its default in its own help text.
 * Exempt: the command's subject (-m), input and output paths, --json, and options that only apply
 * with another flag ("with --trainer external: …").
 */
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../cli/main.ts';

const EXEMPT = new Set(['--mechanism', '--json', '--out', '--run', '--from', '--format', '--catalog', '--profiles']);
const saysDefault = (text: string) => /default|\(paper: |when absent|omitted/i.test(text);

describe('--help', () => {
  it('every value option of every command states its default', () => {
    const missing: string[] = [];
    for (const cmd of buildProgram({ code: 0 }).commands) {
      for (const o of cmd.options) {
        const takesValue = o.required || o.optional; // <value> or [value]
        if (!takesValue || o.mandatory || EXEMPT.has(o.long ?? '')) continue;
        if (o.defaultValue !== undefined || saysDefault(o.description)) continue;
        if (/^with --/.test(o.description)) continue; // applies only with another flag, absent otherwise
        missing.push(`${cmd.name()} ${o.long}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('the control: an option without a default is found', () => {
    const program = buildProgram({ code: 0 });
    const bench = program.commands.find((c) => c.name() === 'bench')!;
    bench.option('--frobnicate <n>', 'an option nobody documented');
    const o = bench.options.find((x) => x.long === '--frobnicate')!;
    expect(o.defaultValue === undefined && !saysDefault(o.description)).toBe(true);
    const limit = bench.options.find((x) => x.long === '--limit')!;
    expect(saysDefault(limit.description)).toBe(true);
  });
});
