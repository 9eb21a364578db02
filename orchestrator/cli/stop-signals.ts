/**
 * How a long-running command hears it should stop: the first Ctrl-C (SIGINT) asks it to wind
 * down, a second one to stop at once, SIGTERM to stop at once. Each handler runs at most once.
 * A command without a second-Ctrl-C handler leaves that one to Node, which ends the process on
 * the spot: the way out when winding down hangs. A command stopped this way exits with
 * `EXIT_CODES.interrupted` (130).
 *
 * @example
 * const release = onStopSignals({
 *   interrupt: () => farm.drain(),
 *   interruptAgain: () => farm.cancel(),
 *   terminate: () => farm.cancel(),
 * });
 * try { await farm.run(); } finally { release(); }
 */

export interface StopHandlers {
  /**
   * The first Ctrl-C. Returning `false` leaves the next one to Node, as when there is nothing
   * left for `interruptAgain` to stop.
   */
  interrupt: () => boolean | void;
  /** The second Ctrl-C. */
  interruptAgain?: () => void;
  /** SIGTERM, as a service manager or `kill` sends it. */
  terminate: () => void;
}

/** Installs the handlers; the function returned removes whichever have not run. */
export function onStopSignals(handlers: StopHandlers): () => void {
  const { interruptAgain, terminate } = handlers;
  const onInterrupt = () => {
    if (handlers.interrupt() !== false && interruptAgain) process.once("SIGINT", interruptAgain);
  };
  process.once("SIGINT", onInterrupt);
  process.once("SIGTERM", terminate);
  return () => {
    process.removeListener("SIGINT", onInterrupt);
    if (interruptAgain) process.removeListener("SIGINT", interruptAgain);
    process.removeListener("SIGTERM", terminate);
  };
}
