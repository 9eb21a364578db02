/**
 * The one place where an error becomes what the user sees: a message line and an exit status
 * (`EXIT_CODES`, listed in the README). A sandfarm error is the user's, the model's or the
 * infrastructure's: its message is the whole story, with no stack. Anything else is a bug in
 * sandfarm: one line that says so and how to see more; the stack only with `--verbose` or
 * `SANDFARM_DEBUG=1`.
 *
 * @example
 * try { await program.parseAsync(argv); } catch (error) { process.exitCode = reportFailure(error, { verbose }); }
 */
import { CommanderError } from "commander";
import { EXIT_CODES, SandfarmError } from "../../common/errors.js";

export interface FailureOptions {
  /** Print stacks and causes. */
  verbose: boolean;
  write?: (text: string) => void;
}

/** Whether `--verbose` or `SANDFARM_DEBUG=1` asks for stacks. */
export function wantsVerbose(argv: readonly string[], env: NodeJS.ProcessEnv): boolean {
  return argv.includes("--verbose") || (env.SANDFARM_DEBUG ?? "") === "1";
}

function causeChain(error: unknown): string {
  const lines: string[] = [];
  let cause = (error as { cause?: unknown }).cause;
  for (let depth = 0; cause !== undefined && depth < 8; depth++) {
    lines.push(
      `caused by: ${cause instanceof Error ? (cause.stack ?? cause.message) : JSON.stringify(cause)}`,
    );
    cause = (cause as { cause?: unknown }).cause;
  }
  return lines.length > 0 ? `${lines.join("\n")}\n` : "";
}

/** Writes what the user should read about `error` and returns the exit status. */
export function reportFailure(error: unknown, options: FailureOptions): number {
  const write = options.write ?? ((text: string) => process.stderr.write(text));
  // Commander printed its own message (a usage error) or help/version (exit 0).
  if (error instanceof CommanderError)
    return error.exitCode === 0 ? EXIT_CODES.ok : EXIT_CODES.user;
  if (error instanceof SandfarmError) {
    write(`sandfarm: ${error.name}: ${error.message}\n`);
    if (options.verbose) write(`${error.stack ?? ""}\n${causeChain(error)}`);
    return EXIT_CODES[error.fault];
  }
  const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  write(
    `sandfarm: bug: ${what.split("\n")[0]}\n` +
      (options.verbose
        ? `${error instanceof Error ? (error.stack ?? "") : ""}\n${causeChain(error)}`
        : "  this is sandfarm's fault, not yours: rerun with --verbose (or SANDFARM_DEBUG=1) for the stack, and report it\n"),
  );
  return EXIT_CODES.bug;
}
