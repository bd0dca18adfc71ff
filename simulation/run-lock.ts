/**
 * One writer per run directory. A run holds `DIR/.lock` while it writes; the file names the holder
 * (pid, host, start time, command). A second writer is refused with a usage error (exit 2) that
 * names the holder. A lock left by a process that died (kill -9, a crash, a power cut) on this host
 * is taken over: the takeover itself is serialized by proper-lockfile, so two newcomers can never
 * both remove the dead holder's lock and both believe they hold it.
 *
 * The lock file appears atomically and whole: it is written under a private name and hard-linked
 * into place (link fails if `.lock` exists), so a reader never sees half a holder.
 */
import { randomBytes } from 'node:crypto';
import { linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import lockfile from 'proper-lockfile';
import { InputError, UsageError } from '../lib/errors.ts';
import { makeDirs } from '../lib/fs.ts';

export interface LockHolder {
  pid: number;
  host: string;
  started: string;
  command: string;
}

/** Locks this process holds: dir -> [holder text, depth]. Re-entrant, so nested writers of one process share it. */
const held = new Map<string, { text: string; depth: number }>();
let exitHookInstalled = false;

/**
 * At exit with runs unfinished (something called process.exit mid-run): each manifest still saying
 * "running" is marked "stopped" (`--resume` continues such a run); bin/llm-auction.js says why on
 * stderr and makes the exit code 2.
 */
function abandonedRuns(dirs: string[]): void {
  for (const dir of dirs) {
    const manifest = join(dir, 'manifest.json');
    try {
      const m = JSON.parse(readFileSync(manifest, 'utf8')) as { status?: string };
      if (m && m.status === 'running') writeFileSync(manifest, `${JSON.stringify({ ...m, status: 'stopped' }, null, 2)}\n`);
    } catch {
      // no manifest (yet), or not ours to read: nothing to mark
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const h = JSON.parse(text) as Partial<LockHolder>;
    if (typeof h.pid === 'number' && Number.isInteger(h.pid) && h.pid > 0 && typeof h.host === 'string' && typeof h.started === 'string') {
      return { pid: h.pid, host: h.host, started: h.started, command: typeof h.command === 'string' ? h.command : '' };
    }
  } catch {
    // not a holder
  }
  return undefined;
}

function readOrUndefined(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'EISDIR') throw new InputError(file, undefined, undefined, 'is a directory, not a lock file: remove it if no run writes there');
    throw new InputError(file, undefined, undefined, `cannot read the lock (${code ?? (e as Error).message})`);
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Make DIR (and parents); a path that is a file, or lies under one, is bad input naming it. */
export function ensureRunDir(dir: string, flag = '--out'): void {
  makeDirs(dir, flag);
}

/**
 * Take the run directory's lock; returns the function that releases it. Throws a UsageError naming
 * the holder when another live process writes there.
 */
export function lockRunDir(dir: string, command = process.argv.slice(2).join(' ')): () => void {
  ensureRunDir(dir);
  const file = join(dir, '.lock');
  const mine = held.get(file);
  if (mine) {
    mine.depth++;
    return release(file);
  }
  const holder: LockHolder = { pid: process.pid, host: hostname(), started: new Date().toISOString(), command };
  const text = `${JSON.stringify(holder)}\n`;
  for (let attempt = 0; attempt < 20; attempt++) {
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    writeFileSync(tmp, text);
    let linked = false;
    try {
      linkSync(tmp, file);
      linked = true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new InputError(dir, undefined, undefined, `cannot lock the run directory (${(e as NodeJS.ErrnoException).code})`);
    } finally {
      unlinkSync(tmp);
    }
    if (linked) {
      held.set(file, { text, depth: 1 });
      if (!exitHookInstalled) {
        exitHookInstalled = true;
        process.on('exit', () => {
          // A lock still held at exit means the process left in the middle of a run (something
          // called process.exit, e.g. a module rule): that is a failure, never a silent exit 0.
          if (held.size > 0) abandonedRuns([...held.keys()].map((f) => dirname(f)));
          for (const [f, h] of held) if (readOrUndefined(f) === h.text) unlinkSync(f);
        });
      }
      return release(file);
    }
    const current = readOrUndefined(file);
    if (current === undefined) continue; // released meanwhile: try again
    const other = parseHolder(current);
    if (other === undefined) {
      // A holder writes its lock whole, so this is not a lock of ours: someone else's file.
      throw new UsageError(`${dir} is locked by ${file}, which does not name a holder; remove it if no run writes there`);
    }
    if (other.host !== hostname() || alive(other.pid)) {
      throw new UsageError(
        `${dir} is in use by another run: pid ${other.pid} on ${other.host}, started ${other.started}${other.command ? ` (${other.command})` : ''}; wait for it to finish, or choose another directory`,
      );
    }
    // The holder died on this host: take its lock over, one newcomer at a time.
    let releaseTakeover: (() => void) | undefined;
    try {
      releaseTakeover = lockfile.lockSync(file, { lockfilePath: `${file}.takeover`, stale: 10_000, realpath: false });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ELOCKED') throw e;
      sleepSync(50); // another newcomer is taking it over: look again
      continue;
    }
    try {
      if (readOrUndefined(file) === current) unlinkSync(file);
    } finally {
      releaseTakeover();
    }
  }
  throw new UsageError(`${dir}: could not take the run directory's lock ${file} (other runs keep taking it)`);
}

function release(file: string): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    const h = held.get(file);
    if (!h) return;
    if (--h.depth > 0) return;
    held.delete(file);
    try {
      if (readOrUndefined(file) === h.text) unlinkSync(file);
    } catch {
      // the directory went away: nothing left to release
    }
  };
}

/** The holder named in DIR/.lock, if any (for messages and tests). */
export function lockHolder(dir: string): LockHolder | undefined {
  const text = readOrUndefined(join(dir, '.lock'));
  return text === undefined ? undefined : parseHolder(text);
}
