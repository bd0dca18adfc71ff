/** Versions recorded in every manifest, so a run says what produced it. */
import { readFileSync } from 'node:fs';

let memo: Record<string, string> | undefined;

export function versions(): Record<string, string> {
  if (memo) return memo;
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  memo = { 'llm-auction': pkg.version, node: process.version };
  return memo;
}
