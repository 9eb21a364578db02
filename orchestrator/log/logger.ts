/**
 * A run's log: each event goes twice, from one entry. `RUN_DIR/sandfarm.log` gets it as a pino
 * JSON line (`level`, `time`, `pid`, `hostname`, `name`, `event`, the entry's fields, `msg`),
 * appended, so a resumed run continues the same file; the person watching gets
 * `sandfarm COMMAND: MESSAGE` through `show` (the reporter, which keeps it off the status line).
 * File writes are synchronous, so every line is in the file once `write` returns: the CLI ends
 * by setting `process.exitCode`, and nothing buffered may be lost when the process goes.
 *
 * @example
 * const log = openRunLog({ runDir, command: "train", show: (line) => reporter.line(line) });
 * log.write({ event: "waiting", message: "waiting: no sandbox", fields: { reason: "no sandbox" } });
 * log.close();
 */
import { join } from "node:path";
import { pino } from "pino";

/** The log file's name in a run directory. */
export const RUN_LOG_FILE = "sandfarm.log";

export interface LogEntry {
  /** What happened, e.g. "step"; the JSON line's `event`. */
  event: string;
  /** The human line without its `sandfarm COMMAND: ` prefix; the JSON line's `msg`. */
  message: string;
  /** The event's data, as properties of the JSON line. */
  fields?: Record<string, unknown>;
  /** @default "info" */
  level?: "info" | "warn" | "error";
}

export interface RunLogOptions {
  /** The run directory, which must exist; the log is `RUN_DIR/sandfarm.log`. */
  runDir: string;
  /** The subcommand, e.g. "train": the prefix of the human line and the JSON's `name`. */
  command: string;
  /** Shows one human line (no trailing newline). */
  show: (line: string) => void;
}

export interface RunLog {
  /** The log file's path. */
  readonly file: string;
  /** Logs `entry` to the file and, unless `show` is false, to the person. */
  write(entry: LogEntry, options?: { show?: boolean }): void;
  /** Closes the file; later entries are only shown. */
  close(): void;
}

export function openRunLog(options: RunLogOptions): RunLog {
  const file = join(options.runDir, RUN_LOG_FILE);
  const destination = pino.destination({ dest: file, sync: true, append: true });
  let open = true;
  // A full disk must not end a run that could still finish; the person hears of it once.
  destination.on("error", (error: Error) => {
    if (!open) return;
    open = false;
    options.show(
      `sandfarm ${options.command}: ${file}: ${error.message}; events are no longer logged there`,
    );
  });
  const logger = pino({ name: `sandfarm ${options.command}` }, destination);
  return {
    file,
    write(entry, { show = true } = {}) {
      if (open)
        logger[entry.level ?? "info"]({ ...entry.fields, event: entry.event }, entry.message);
      if (show) options.show(`sandfarm ${options.command}: ${entry.message}`);
    },
    close() {
      if (!open) return;
      open = false;
      destination.end();
    },
  };
}
