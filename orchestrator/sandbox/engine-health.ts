/**
 * One engine's health, as the fleet watches it: a ping every `intervalMs` that must answer within
 * `timeoutMs`, and the outcome of each sandbox start. `failures` failed pings in a row, or
 * `createFailures` failed starts in a row, eject the engine; an ejected engine is probed with
 * exponential backoff (from `intervalMs` up to `maxProbeIntervalMs`) and readmitted after
 * `readmitProbes` answers in a row. Detection never waits for a command's timeout: a dead
 * engine refuses the next ping at once, a partitioned one misses `failures` pings.
 *
 * @example
 * const health = new EngineHealth((signal) => docker.ping({ abortSignal: signal }), settings, {
 *   eject: (reason) => fleet.eject(member, reason),
 *   readmit: () => fleet.readmit(member),
 * });
 * health.start();
 */
import type { SandboxConfig } from "./config.js";

export type HealthSettings = SandboxConfig["health"];

export interface HealthHooks {
  /** The engine stopped answering; `reason` says how. */
  eject(reason: string): void;
  /** The engine answers again: called before it counts as healthy (reap, refill). */
  readmit(): Promise<void>;
  /** Words for a failed ping or start (the engine's name, TLS or connection problem). */
  describe(error: unknown): string;
}

export class EngineHealth {
  private healthy = true;
  private pingFailures = 0;
  private startFailures = 0;
  private goodProbes = 0;
  private probeDelayMs: number;
  private timer?: NodeJS.Timeout;
  private stopped = true;
  private ticking = false;

  constructor(
    private readonly ping: (signal: AbortSignal) => Promise<unknown>,
    private readonly settings: HealthSettings,
    private readonly hooks: HealthHooks,
    /** False for an engine that did not answer at start: it is probed until it does. */
    initiallyHealthy = true,
  ) {
    this.probeDelayMs = settings.intervalMs;
    this.healthy = initiallyHealthy;
  }

  get isHealthy(): boolean {
    return this.healthy;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(this.settings.intervalMs);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** A sandbox start on the engine worked (no error) or failed. */
  recordStart(error: unknown): void {
    if (!this.healthy) return;
    if (error === undefined) {
      this.startFailures = 0;
      return;
    }
    if (++this.startFailures >= this.settings.createFailures)
      this.eject(
        `${this.startFailures} sandbox starts in a row failed; the last: ${this.hooks.describe(error)}`,
      );
  }

  /**
   * Pings now, up to `failures` times back to back, and ejects the engine if none answers: a
   * caller that just saw a sandbox fail asks before blaming anything else.
   */
  async checkNow(why?: string): Promise<void> {
    if (!this.healthy || this.stopped) return;
    let failure: string | undefined;
    for (let attempt = 0; attempt < this.settings.failures; attempt++) {
      failure = await this.pingOnce();
      if (failure === undefined || !this.healthy) return;
    }
    this.eject(
      `${why ? `${why}, and ` : ""}${this.settings.failures} pings in a row failed; the last: ${failure}`,
    );
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), delayMs);
    // Watching an engine never keeps a finished process alive.
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    if (this.ticking || this.stopped) return;
    this.ticking = true;
    try {
      const failure = await this.pingOnce();
      if (this.healthy) {
        if (failure === undefined) this.pingFailures = 0;
        else if (++this.pingFailures >= this.settings.failures)
          this.eject(
            `${this.pingFailures} pings in a row failed (every ${this.settings.intervalMs} ms, ${this.settings.timeoutMs} ms each); the last: ${failure}`,
          );
        this.schedule(this.healthy ? this.settings.intervalMs : this.probeDelayMs);
        return;
      }
      if (failure !== undefined) {
        this.goodProbes = 0;
        this.probeDelayMs = Math.min(this.probeDelayMs * 2, this.settings.maxProbeIntervalMs);
        this.schedule(this.probeDelayMs);
        return;
      }
      if (++this.goodProbes < this.settings.readmitProbes) {
        this.schedule(this.settings.intervalMs);
        return;
      }
      try {
        await this.hooks.readmit();
        this.healthy = true;
        this.pingFailures = 0;
        this.startFailures = 0;
        this.goodProbes = 0;
        this.probeDelayMs = this.settings.intervalMs;
      } catch {
        // It answered pings but not the readmission's work: keep probing.
        this.goodProbes = 0;
      }
      this.schedule(this.settings.intervalMs);
    } finally {
      this.ticking = false;
    }
  }

  /** Undefined when the engine answered in time, else what went wrong. */
  private async pingOnce(): Promise<string | undefined> {
    const signal = AbortSignal.timeout(this.settings.timeoutMs);
    try {
      await this.ping(signal);
      return undefined;
    } catch (error) {
      return signal.aborted
        ? `no answer within ${this.settings.timeoutMs} ms`
        : this.hooks.describe(error);
    }
  }

  private eject(reason: string): void {
    if (!this.healthy) return;
    this.healthy = false;
    this.goodProbes = 0;
    this.probeDelayMs = this.settings.intervalMs;
    this.hooks.eject(reason);
    this.schedule(this.probeDelayMs);
  }
}
