/**
 * Progress on stderr: a bar on a terminal; elsewhere (CI logs, pipes, files) one plain line every
 * few seconds, so a long run never looks dead in a log. LLM_AUCTION_PROGRESS_MS sets that interval
 * (default 5000; 0 turns the lines off).
 */
import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number, total: number): void;
  stop(): void;
}

export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY || process.env.CI) return logLines(label, stream);
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} |{bar}| {value}/{total} {percentage}% | {rate}/s | ETA {eta_formatted}`,
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

function logLines(label: string, stream: NodeJS.WritableStream): Progress {
  const raw = Number(process.env.LLM_AUCTION_PROGRESS_MS ?? 5000);
  const every = Number.isFinite(raw) && raw >= 0 ? raw : 5000;
  const t0 = Date.now();
  let last = t0;
  let latest: [number, number] | undefined;
  let printed = false;
  const line = (done: number, total: number) => {
    const secs = (Date.now() - t0) / 1000;
    const rate = secs > 0 ? done / secs : 0;
    const pct = total > 0 ? ` (${((100 * done) / total).toFixed(0)}%)` : '';
    const eta = rate > 0 && total > done ? `, about ${Math.ceil((total - done) / rate)} s left` : '';
    stream.write(`${label}: ${done}/${total}${pct}, ${secs.toFixed(0)} s${eta}\n`);
    printed = true;
  };
  return {
    update(done, total) {
      latest = [done, total];
      if (every === 0) return;
      const now = Date.now();
      if (now - last >= every) {
        last = now;
        line(done, total);
      }
    },
    stop() {
      // A run that showed progress says where it ended.
      if (printed && latest) line(latest[0], latest[1]);
    },
  };
}
