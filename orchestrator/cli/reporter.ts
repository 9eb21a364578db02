/**
 * What a long-running command shows on stderr while it works: whole lines (events), and on a TTY
 * one status line redrawn in place below them. A line never lands inside the status line: the
 * status is erased, the line printed, the status drawn again under it. Off a TTY (a pipe, a log
 * file, CI) there is no status line, only the lines.
 *
 * @example
 * const reporter = createReporter();
 * reporter.tick(() => `step ${farm.progress().step}`);
 * reporter.line("sandfarm train: step 1: reward 0.500");
 * reporter.clear();
 */

/** Moves to the start of the line and erases it. */
const ERASE_LINE = "\r\x1b[2K";

export interface Reporter {
  /** Whether there is a status line at all. */
  readonly tty: boolean;
  /** Prints one line (no trailing newline), above the status line. */
  line(text: string): void;
  /** Replaces the status line (on a TTY; elsewhere nothing). */
  status(text: string): void;
  /** Redraws the status line from `render()` every `intervalMs`, until `clear` or `keep`. */
  tick(render: () => string, intervalMs?: number): void;
  /** Stops the redraws and erases the status line. */
  clear(): void;
  /** Stops the redraws and leaves the last status on screen as an ordinary line. */
  keep(): void;
}

export function createReporter(
  stream: Pick<NodeJS.WriteStream, "write" | "isTTY"> = process.stderr,
): Reporter {
  const tty = stream.isTTY === true;
  let shown = "";
  let ticker: NodeJS.Timeout | undefined;
  const stopTicking = () => {
    clearInterval(ticker);
    ticker = undefined;
  };
  const status = (text: string) => {
    if (!tty) return;
    shown = text;
    stream.write(`${ERASE_LINE}${text}`);
  };
  return {
    tty,
    line(text) {
      if (shown) stream.write(ERASE_LINE);
      stream.write(`${text}\n`);
      if (shown) stream.write(shown);
    },
    status,
    tick(render, intervalMs = 500) {
      if (!tty) return;
      stopTicking();
      // Unreferenced: a display must never be what keeps the process alive.
      ticker = setInterval(() => status(render()), intervalMs).unref();
    },
    clear() {
      stopTicking();
      if (shown) stream.write(ERASE_LINE);
      shown = "";
    },
    keep() {
      stopTicking();
      if (shown) stream.write("\n");
      shown = "";
    },
  };
}
