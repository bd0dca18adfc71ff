/**
 * File-system helpers that turn every failure into bad input naming the path (exit 2), never a
 * stack trace or a hang. (`mkdirSync(…, { recursive: true })` spins forever under /proc on Node
 * 20, so directories are made one level at a time.)
 */
import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { InputError } from './errors.ts';

function why(code: string | undefined, fallback: string): string {
  switch (code) {
    case 'EEXIST':
    case 'ENOTDIR':
      return 'a file stands where a directory is needed';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'read-only file system';
    case 'ENOENT':
      return 'cannot be created there';
    case 'ENOSPC':
      return 'no space left on the device';
    default:
      return `cannot create it (${code ?? fallback})`;
  }
}

/** Make `dir` and its missing parents; `flag` names the option the path came from. */
export function makeDirs(dir: string, flag: string): void {
  const abs = resolve(dir);
  const missing: string[] = [];
  let p = abs;
  for (;;) {
    let st;
    try {
      st = statSync(p);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new InputError(dir, undefined, undefined, `${flag}: ${why(code, (e as Error).message)}`);
      missing.push(p);
      const up = dirname(p);
      if (up === p) break;
      p = up;
      continue;
    }
    if (!st.isDirectory()) throw new InputError(dir, undefined, undefined, `${flag}: ${p === abs ? 'is a file, not a directory' : `${p} is a file, not a directory`}`);
    break;
  }
  for (const m of missing.reverse()) {
    try {
      mkdirSync(m);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') {
        try {
          if (statSync(m).isDirectory()) continue;
        } catch {
          // fall through to the error
        }
      }
      throw new InputError(dir, undefined, undefined, `${flag}: ${why(code, (e as Error).message)}`);
    }
  }
}
