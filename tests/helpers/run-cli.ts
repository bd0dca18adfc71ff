/**
 * The CLI's main() in this process, with stdout and stderr captured: many bad-input cases cost
 * one process instead of one each. A case that runs longer than `timeoutMs` is reported as a hang.
 */
import { main } from '../../cli/main.ts';

export interface CliResult {
  code: number;
  out: string;
  err: string;
  hung: boolean;
}

export async function runCli(args: string[], timeoutMs = 30_000): Promise<CliResult> {
  let out = '';
  let err = '';
  const stdoutWrite = process.stdout.write;
  const stderrWrite = process.stderr.write;
  const capture = (sink: (s: string) => void) =>
    ((chunk: unknown, ...rest: unknown[]) => {
      sink(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      cb?.();
      return true;
    }) as typeof process.stdout.write;
  process.stdout.write = capture((s) => (out += s));
  process.stderr.write = capture((s) => (err += s));
  let timer: NodeJS.Timeout | undefined;
  try {
    const hang = new Promise<'hang'>((resolve) => (timer = setTimeout(() => resolve('hang'), timeoutMs)));
    const code = await Promise.race([main(args), hang]);
    if (code === 'hang') return { code: -1, out, err, hung: true };
    return { code, out, err, hung: false };
  } finally {
    clearTimeout(timer);
    process.stdout.write = stdoutWrite;
    process.stderr.write = stderrWrite;
  }
}
