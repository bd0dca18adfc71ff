/**
 * Progress on stderr: a bar on a terminal; elsewhere (CI logs, pipes, files) one plain line every
 * few seconds, also while no update comes (a long stage), so a run never looks dead in a log.
 * LLM_AUCTION_PROGRESS_MS sets that interval (default 5000; 0 turns the lines off).
 */
import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number, total: number): void;
  stop(): void;
}

export interface ProgressOptions {
  /** Show the share done and the time left only (the counts are not meaningful units). */
  percentOnly?: boolean;
}

export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr, options: ProgressOptions = {}): Progress {
  if (!stream.isTTY || process.env.CI) return logLines(label, stream, options);
  const bar = new cliProgress.SingleBar(
    {
      format: options.percentOnly ? `${label} |{bar}| {percentage}% | ETA {eta_formatted}` : `${label} |{bar}| {value}/{total} {percentage}% | {rate}/s | ETA {eta_formatted}`,
      stream,
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  const t0 = Date.now();
  return {
    update(done, total) {
      if (!started) {
        bar.start(total, done, { rate: '0' });
        started = true;
      }
      const secs = (Date.now() - t0) / 1000;
      bar.setTotal(total);
      bar.update(done, { rate: secs > 0 ? (done / secs).toFixed(1) : '0' });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

function logLines(label: string, stream: NodeJS.WritableStream, options: ProgressOptions = {}): Progress {
  const raw = Number(process.env.LLM_AUCTION_PROGRESS_MS ?? 5000);
  const every = Number.isFinite(raw) && raw >= 0 ? raw : 5000;
  const t0 = Date.now();
  let last = t0;
  let latest: [number, number] | undefined;
  let printed = false;
  let lastText = '';
  const line = (done: number, total: number) => {
    const secs = (Date.now() - t0) / 1000;
    const rate = secs > 0 ? done / secs : 0;
    const share = total > 0 ? `${((100 * done) / total).toFixed(0)}%` : '';
    const eta = rate > 0 && total > done ? `, about ${Math.ceil((total - done) / rate)} s left` : '';
    const text = options.percentOnly ? `${label}: ${share} done, ${secs.toFixed(0)} s${eta}\n` : `${label}: ${done}/${total}${share ? ` (${share})` : ''}, ${secs.toFixed(0)} s${eta}\n`;
    if (text === lastText) return; // the closing line right after the same last update
    stream.write(text);
    lastText = text;
    printed = true;
    last = Date.now();
  };
  // A stage can run for many seconds without an update: the line still comes every interval.
  const heartbeat =
    every > 0
      ? setInterval(() => {
          if (latest && Date.now() - last >= every) line(latest[0], latest[1]);
        }, every)
      : undefined;
  heartbeat?.unref();
  return {
    update(done, total) {
      latest = [done, total];
      if (every === 0) return;
      if (Date.now() - last >= every) line(done, total);
    },
    stop() {
      if (heartbeat) clearInterval(heartbeat);
      // A run that showed progress says where it ended.
      if (printed && latest) line(latest[0], latest[1]);
    },
  };
}

/**
 * Overall progress of work in `stages` steps of unknown length (IRPO: runs x epochs x phases):
 * `at(done, within)` with `within` the share of the current stage done. Shows the share done and
 * the time left, extrapolated from the time so far.
 */
export function stagedProgress(label: string, stages: number, stream: NodeJS.WriteStream = process.stderr): { at(done: number, within?: number): void; stop(): void } {
  const UNITS = 1000;
  const bar = progressBar(label, stream, { percentOnly: true });
  return {
    at(done, within = 0) {
      // A stage before the first (a warm start's epoch 0) counts as none done, never as a negative share.
      bar.update(Math.round((UNITS * Math.max(0, Math.min(stages, done + Math.min(1, Math.max(0, within))))) / Math.max(1, stages)), UNITS);
    },
    stop: () => bar.stop(),
  };
}
