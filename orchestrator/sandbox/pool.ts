/**
 * A warm pool of sandboxes for one backend config: started ahead of need (runner included), so
 * an episode's acquire is a liveness ping instead of a container start. One sandbox per episode:
 * a released sandbox is destroyed, never reused.
 *
 * @example
 * const pool = new SandboxPool(createBackend(parseSandboxConfig()), { warmSize: 8 });
 * await pool.start();
 * const sandbox = await pool.acquire();
 * try { await sandbox.exec("ls"); } finally { await pool.release(sandbox); }
 * await pool.close();
 */
import { z } from "zod";
import { ConfigError } from "../../common/errors.js";
import type { ManagedSandbox, SandboxBackend } from "./backend.js";
import { DEFAULT_STARTS_PER_SECOND } from "./config.js";

export const poolOptionsSchema = z
  .object({
    /** Sandboxes kept started and ready. @default 4 */
    warmSize: z.number().int().min(0).default(4),
    /** Container starts in flight at once (the engine slows down past a few). @default 4 */
    maxConcurrentStarts: z.number().int().min(1).default(4),
    /** Container creations per second at most, across warm-up and cold acquires. @default 20 (DEFAULT_STARTS_PER_SECOND.docker) */
    startsPerSecond: z.number().positive().default(DEFAULT_STARTS_PER_SECOND.docker),
    /** How long a warm sandbox may take to answer its liveness check. @default 2000 */
    livenessTimeoutMs: z.number().int().positive().default(2000),
    /** Reap containers a dead farm left behind when the pool starts. @default true */
    reapOrphansOnStart: z.boolean().default(true),
  })
  .strict();

export type PoolOptions = z.output<typeof poolOptionsSchema>;

export function parsePoolOptions(input: z.input<typeof poolOptionsSchema> = {}): PoolOptions {
  const result = poolOptionsSchema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map(
    (issue) => `pool.${issue.path.join(".")}: ${issue.message}`,
  );
  throw new ConfigError(`invalid pool options:\n  ${problems.join("\n  ")}`);
}

/** Limits starts: at most N in flight, and a minimum spacing between them. */
class StartLimiter {
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];
  private nextStartAt = 0;

  constructor(
    private readonly maxConcurrent: number,
    private readonly perSecond: number,
  ) {}

  async run<T>(start: () => Promise<T>): Promise<T> {
    if (this.inFlight >= this.maxConcurrent) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    this.inFlight++;
    try {
      const now = Date.now();
      const at = Math.max(now, this.nextStartAt);
      this.nextStartAt = at + 1000 / this.perSecond;
      if (at > now) await new Promise((resolve) => setTimeout(resolve, at - now));
      return await start();
    } finally {
      this.inFlight--;
      this.waiting.shift()?.();
    }
  }
}

export interface PoolStats {
  warm: number;
  starting: number;
  /** Handed out and not yet released. */
  inUse: number;
  created: number;
  destroyed: number;
  /** Warm sandboxes that failed their liveness check and were replaced. */
  failedLiveness: number;
  lastError?: string;
}

export class SandboxPool {
  private readonly options: PoolOptions;
  private readonly limiter: StartLimiter;
  private readonly warm: ManagedSandbox[] = [];
  private readonly inUse = new Set<ManagedSandbox>();
  private readonly removals = new Set<Promise<void>>();
  private starting = 0;
  private closed = false;
  /** No warm refills while paused (the fleet ejected this pool's engine). */
  private paused = false;
  /** Told after each container start: no error when it worked, and how long it took. */
  onStart?: (error: unknown, seconds: number) => void;
  private counts = { created: 0, destroyed: 0, failedLiveness: 0 };
  private lastError?: string;

  constructor(
    readonly backend: SandboxBackend,
    options: z.input<typeof poolOptionsSchema> = {},
  ) {
    this.options = parsePoolOptions(options);
    this.limiter = new StartLimiter(this.options.maxConcurrentStarts, this.options.startsPerSecond);
  }

  /** Reaps orphans (by default) and fills the warm set; resolves when it is full. */
  async start(): Promise<void> {
    if (this.options.reapOrphansOnStart) await this.backend.collectGarbage();
    const fills = Array.from(
      { length: this.options.warmSize - this.warm.length - this.starting },
      () => this.startWarm(),
    );
    await Promise.all(fills);
  }

  /** A live sandbox for one episode: a warm one that answers, or a fresh one. */
  async acquire(): Promise<ManagedSandbox> {
    if (this.closed) throw new ConfigError("the sandbox pool is closed");
    while (this.warm.length > 0) {
      const candidate = this.warm.shift()!;
      // Ping first: starting the replacement costs the event loop work the hand-out need not wait for.
      const responsive = await candidate.isResponsive(this.options.livenessTimeoutMs);
      this.refill();
      if (responsive) {
        this.inUse.add(candidate);
        return candidate;
      }
      this.counts.failedLiveness++;
      void this.destroy(candidate);
    }
    this.refill();
    const sandbox = await this.limiter.run(() => this.create());
    if (this.closed) {
      void this.destroy(sandbox);
      throw new ConfigError("the sandbox pool is closed");
    }
    this.inUse.add(sandbox);
    return sandbox;
  }

  /** Ends an episode's sandbox. The removal runs on; `close()` waits for it. */
  release(sandbox: ManagedSandbox): Promise<void> {
    this.inUse.delete(sandbox);
    return this.destroy(sandbox);
  }

  /** Destroys every sandbox the pool started, warm or in use, and waits for the removals. */
  async close(): Promise<void> {
    this.closed = true;
    for (const sandbox of this.warm.splice(0)) void this.destroy(sandbox);
    for (const sandbox of this.inUse) void this.destroy(sandbox);
    this.inUse.clear();
    while (this.removals.size > 0 || this.starting > 0) {
      await Promise.allSettled([...this.removals]);
      if (this.starting > 0) await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  stats(): PoolStats {
    return {
      warm: this.warm.length,
      starting: this.starting,
      inUse: this.inUse.size,
      ...this.counts,
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  /**
   * Stops refilling and hands back the warm sandboxes without closing them: their engine is
   * gone, so the caller decides what becomes of them.
   */
  pause(): ManagedSandbox[] {
    this.paused = true;
    return this.warm.splice(0);
  }

  /** Refills again (the engine is back). */
  resume(): void {
    this.paused = false;
    this.refill();
  }

  private async create(): Promise<ManagedSandbox> {
    const started = performance.now();
    try {
      const sandbox = await this.backend.create();
      this.counts.created++;
      this.onStart?.(undefined, (performance.now() - started) / 1000);
      return sandbox;
    } catch (error) {
      this.onStart?.(error, (performance.now() - started) / 1000);
      throw error;
    }
  }

  private refill(): void {
    if (this.paused) return;
    const missing = this.options.warmSize - this.warm.length - this.starting;
    for (let index = 0; index < missing && !this.closed; index++) void this.startWarm();
  }

  private async startWarm(): Promise<void> {
    this.starting++;
    try {
      const sandbox = await this.limiter.run(async () => {
        const created = await this.create();
        await created.warmUp();
        return created;
      });
      if (this.closed) void this.destroy(sandbox);
      else if (this.paused) void this.destroy(sandbox);
      else this.warm.push(sandbox);
    } catch (error) {
      // A failed warm start is not fatal: acquire falls back to a cold start and reports it.
      this.lastError = error instanceof Error ? error.message : String(error);
    } finally {
      this.starting--;
    }
  }

  private destroy(sandbox: ManagedSandbox): Promise<void> {
    const removal = sandbox
      .close()
      .then(
        () => {
          this.counts.destroyed++;
        },
        (error: unknown) => {
          this.lastError = error instanceof Error ? error.message : String(error);
        },
      )
      .finally(() => this.removals.delete(removal));
    this.removals.add(removal);
    return removal;
  }
}

/**
 * Destroys the pools' sandboxes on SIGINT or SIGTERM, then exits 130 or 143: a farm stopped by a
 * signal leaves no container behind. Returns a function that removes the handlers.
 */
export function closePoolsOnSignal(...pools: SandboxPool[]): () => void {
  const handler = (signal: NodeJS.Signals): void => {
    const code = signal === "SIGINT" ? 130 : 143;
    void Promise.allSettled(pools.map((pool) => pool.close())).finally(() => process.exit(code));
  };
  process.once("SIGINT", handler);
  process.once("SIGTERM", handler);
  return () => {
    process.off("SIGINT", handler);
    process.off("SIGTERM", handler);
  };
}
