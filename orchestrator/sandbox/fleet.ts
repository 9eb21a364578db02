/**
 * The sandboxes of a run across a fleet of engines (built by `fleetFromConfig`): one warm pool
 * per engine, and placement of each new sandbox on the healthy engine with the lowest (in use +
 * starting + warm) / capacity. A sandbox stays on its engine for its whole episode. A full fleet
 * makes `acquire` wait for a release (the farm admits no more rollouts than the fleet's
 * capacity, so it waits only when a group is larger than what is left).
 *
 * Each Docker engine is watched (`EngineHealth`): one that stops answering is ejected (no new
 * placements, its warm pool dropped, its running sandboxes' commands ended as infrastructure
 * failures), probed with backoff, and readmitted after answering again, when the sandboxes it
 * held are reaped. A start that fails for the engine's reasons is placed again elsewhere. With
 * no engine healthy, `acquire` waits up to `sandbox.engineOutageS`, then fails.
 * The local backend, and a Docker config with no `sandbox.engines`, are fleets of one.
 *
 * @example
 * const fleet = fleetFromConfig(config, { warmSize: 16, maxConcurrentStarts: 8 });
 * await fleet.start();
 * const sandbox = await fleet.acquire();
 * try { await sandbox.exec("ls"); } finally { await fleet.release(sandbox); }
 * await fleet.close();
 */
import type Docker from "dockerode";
import { ConfigError, InfrastructureError } from "../../common/errors.js";
import type { ManagedSandbox } from "./backend.js";
import { EngineHealth, type HealthSettings } from "./engine-health.js";
import { type EngineSpec, describeEngineFailure, pingEngine } from "./engines.js";
import { imageOn, imageProblems } from "./images.js";
import type { PoolStats, SandboxPool } from "./pool.js";

/** One engine of the fleet, as placement sees it. */
export interface FleetEngine {
  readonly name: string;
  /** Where it answers (`unix:///...`, `tcp://...`, or `local`). */
  readonly host: string;
  readonly capacity: number;
  readonly pool: SandboxPool;
  /** The engine's Docker client; absent for the local backend. */
  readonly docker?: Docker;
  /** Its `sandbox.engines` entry; absent for the local backend. */
  readonly spec?: EngineSpec;
  /** Where the engine's events stream ending is heard (a Docker backend). */
  readonly events?: { onEventsLost: (() => void) | undefined };
}

/** One engine's line in `stats()` and `sandfarm fleet status`. */
export interface EngineStats {
  name: string;
  host: string;
  capacity: number;
  /** Sandboxes handed out (or being handed out) on it. */
  inUse: number;
  warm: number;
  starting: number;
  healthy: boolean;
  /** Times it was ejected so far. */
  ejections: number;
  /** Why it was last ejected. */
  lastEjection?: string;
}

export interface FleetStats extends PoolStats {
  capacity: number;
  /** Acquires waiting for a sandbox to be released, or for an engine to come back. */
  waitingForCapacity: number;
  engines: EngineStats[];
}

/** What the run's log hears from the fleet. */
export type FleetEvent =
  | { kind: "ejected"; engine: string; reason: string; lostSandboxes: number }
  | { kind: "readmitted"; engine: string; downS: number; reaped: number };

export interface FleetSettings {
  health: HealthSettings;
  /** Seconds to wait with no engine healthy before acquires fail. */
  outageS: number;
  onEvent?: (event: FleetEvent) => void;
  /** Each sandbox start on a Docker engine: how long it took, and its error if it failed. */
  onStart?: (engine: string, seconds: number, error: unknown) => void;
}

/** What `start()` checks the image against: the local engine's build of it. */
export interface ImageCheck {
  image: string;
  /** Docker's own engine (DOCKER_HOST or the default socket), where `image push` reads from. */
  local?: Docker;
}

/** The engine at `host` failed at something the fleet asked of it. */
export class EngineError extends InfrastructureError {
  constructor(
    readonly engine: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

interface Member {
  engine: FleetEngine;
  /** Acquires in flight plus sandboxes handed out. */
  placed: number;
  healthy: boolean;
  health?: EngineHealth;
  ejections: number;
  lastEjection?: string;
  ejectedAt?: number;
  /** Containers left on it when it was ejected: reaped when it comes back. */
  stranded: Set<string>;
}

export class SandboxFleet {
  private readonly members: Member[];
  private readonly owners = new Map<ManagedSandbox, Member>();
  private readonly waiters: (() => void)[] = [];
  private readonly listeners = new Set<() => void>();
  private closed = false;
  private ejectionCount = 0;
  /** Since when no engine has been healthy. */
  private outageSince?: number;
  private outageTimer?: NodeJS.Timeout;

  constructor(
    engines: readonly FleetEngine[],
    private readonly settings: FleetSettings,
    private readonly imageCheck?: ImageCheck,
  ) {
    if (engines.length === 0) throw new ConfigError("a sandbox fleet needs at least one engine");
    this.members = engines.map((engine) => ({
      engine,
      placed: 0,
      healthy: true,
      ejections: 0,
      stranded: new Set<string>(),
    }));
  }

  /** The engines, in config order. */
  get engines(): readonly FleetEngine[] {
    return this.members.map((member) => member.engine);
  }

  /** Sandboxes the healthy engines hold at once. */
  get capacity(): number {
    return this.members
      .filter((member) => member.healthy)
      .reduce((sum, member) => sum + member.engine.capacity, 0);
  }

  /** Engine ejections so far (a group that failed across one is not the run's fault). */
  get ejections(): number {
    return this.ejectionCount;
  }

  /**
   * Why the run should stop: every engine has been out for longer than `sandbox.engineOutageS`;
   * undefined while some engine is healthy or the bound has not passed.
   */
  outage(): string | undefined {
    if (this.outageSince === undefined) return undefined;
    const downS = (Date.now() - this.outageSince) / 1000;
    if (downS < this.settings.outageS) return undefined;
    const reasons = this.members
      .map((member) => `${member.engine.name}: ${member.lastEjection ?? "ejected"}`)
      .join("; ");
    return `no sandbox engine has been healthy for ${Math.round(downS)} s (sandbox.engineOutageS ${this.settings.outageS}): ${reasons}`;
  }

  /**
   * Checks every healthy engine at once and ejects those that do not answer: after a sandbox
   * failed, so a dead engine is known before the failure is blamed on anything else.
   */
  async checkEngines(): Promise<void> {
    await Promise.all(this.members.map((member) => member.health?.checkNow() ?? Promise.resolve()));
  }

  /** Calls `listener` when capacity changes (an engine ejected or back) or an outage passes its bound. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Checks every engine answers (an unreachable one is ejected while another serves; none
   * answering is an error naming each) and holds the image (by id, against the local engine's
   * build), reaps leftovers, fills the warm pools and starts watching the engines.
   */
  async start(): Promise<void> {
    const unreachable = (
      await Promise.all(
        this.members.map(async (member) => {
          const { docker, spec, name } = member.engine;
          if (!docker || !spec) return undefined;
          try {
            await pingEngine(docker, AbortSignal.timeout(10_000));
            return undefined;
          } catch (error) {
            return {
              member,
              error: new EngineError(name, describeEngineFailure(spec, error), { cause: error }),
            };
          }
        }),
      )
    ).filter((failure) => failure !== undefined);
    if (unreachable.length === this.members.length) {
      if (unreachable.length === 1) throw unreachable[0]!.error;
      throw new EngineError(
        unreachable[0]!.member.engine.name,
        `no sandbox engine answers:\n  ${unreachable.map(({ error }) => error.message).join("\n  ")}`,
      );
    }
    for (const { member, error } of unreachable) this.eject(member, error.message);
    await this.verifyImages();
    const serving = this.members.filter((member) => member.healthy);
    const results = await Promise.allSettled(serving.map((member) => member.engine.pool.start()));
    const failure = results.findIndex((result) => result.status === "rejected");
    if (failure !== -1) {
      const error = (results[failure] as PromiseRejectedResult).reason as unknown;
      if (error instanceof ConfigError) throw error;
      const { engine } = serving[failure]!;
      throw new EngineError(
        engine.name,
        `engine '${engine.name}' (${engine.host}) could not start sandboxes: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
    for (const member of this.members) this.watch(member);
  }

  /**
   * A live sandbox for one episode, on the least loaded healthy engine with room. A start that
   * fails for the engine's reasons is placed again (on another engine once the failing one is
   * ejected); with no engine healthy it waits for one, up to `sandbox.engineOutageS`.
   */
  async acquire(): Promise<ManagedSandbox> {
    let failures = 0;
    for (;;) {
      if (this.closed) throw new ConfigError("the sandbox fleet is closed");
      const member = this.place();
      if (!member) {
        await this.waitForRoom();
        continue;
      }
      member.placed++;
      let sandbox: ManagedSandbox;
      try {
        sandbox = await member.engine.pool.acquire();
      } catch (error) {
        this.unplace(member);
        // A Docker engine's failure: try again, elsewhere once it is ejected.
        const limit = this.members.length * this.settings.health.createFailures;
        if (member.engine.docker && error instanceof InfrastructureError && ++failures < limit)
          continue;
        throw error;
      }
      if (!member.healthy) {
        // Ejected while this sandbox started: it would be lost at once.
        sandbox.engineLost?.(member.lastEjection ?? "ejected");
        member.stranded.add(sandbox.id);
        this.unplace(member);
        void member.engine.pool.release(sandbox);
        continue;
      }
      this.owners.set(sandbox, member);
      return sandbox;
    }
  }

  /** Ends an episode's sandbox on its engine. */
  release(sandbox: ManagedSandbox): Promise<void> {
    const member = this.owners.get(sandbox);
    if (!member) return sandbox.close();
    this.owners.delete(sandbox);
    this.unplace(member);
    return member.engine.pool.release(sandbox);
  }

  /** The name of the engine a handed-out sandbox runs on. */
  engineOf(sandbox: ManagedSandbox): string | undefined {
    return this.owners.get(sandbox)?.engine.name;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.outageTimer);
    for (const member of this.members) member.health?.stop();
    for (const wake of this.waiters.splice(0)) wake();
    await Promise.all(this.members.map((member) => member.engine.pool.close()));
  }

  stats(): FleetStats {
    const engines = this.members.map((member) => ({ member, pool: member.engine.pool.stats() }));
    const sum = (pick: (stats: PoolStats) => number) =>
      engines.reduce((total, { pool }) => total + pick(pool), 0);
    const lastError = engines.map(({ pool }) => pool.lastError).find(Boolean);
    return {
      warm: sum((stats) => stats.warm),
      starting: sum((stats) => stats.starting),
      inUse: sum((stats) => stats.inUse),
      created: sum((stats) => stats.created),
      destroyed: sum((stats) => stats.destroyed),
      failedLiveness: sum((stats) => stats.failedLiveness),
      ...(lastError ? { lastError } : {}),
      capacity: this.capacity,
      waitingForCapacity: this.waiters.length,
      engines: engines.map(({ member, pool }) => ({
        name: member.engine.name,
        host: member.engine.host,
        capacity: member.engine.capacity,
        inUse: member.placed,
        warm: pool.warm,
        starting: pool.starting,
        healthy: member.healthy,
        ejections: member.ejections,
        ...(member.lastEjection ? { lastEjection: member.lastEjection } : {}),
      })),
    };
  }

  /** Each engine's line of `stats()`. */
  engineStats(): EngineStats[] {
    return this.stats().engines;
  }

  /** Starts the engine's health watch (Docker engines only). */
  private watch(member: Member): void {
    const { docker, spec } = member.engine;
    if (!docker || !spec || this.closed) return;
    member.health = new EngineHealth(
      (signal) => pingEngine(docker, signal),
      this.settings.health,
      {
        eject: (reason) => this.eject(member, reason),
        readmit: () => this.readmit(member),
        describe: (error) =>
          describeEngineFailure(spec, error).replace(/^engine '[^']*' \([^)]*\):? ?/, ""),
      },
      // Ejected before watching began (unreachable at start): probe it back.
      member.healthy,
    );
    // The events stream ending (engine gone) is checked at once, not at the next ping.
    if (member.engine.events)
      member.engine.events.onEventsLost = () =>
        void member.health?.checkNow("its events stream ended");
    member.engine.pool.onStart = (error, seconds) => {
      member.health?.recordStart(error);
      this.settings.onStart?.(member.engine.name, seconds, error);
    };
    member.health.start();
  }

  /** Takes an engine out of placement: its warm pool goes, its running sandboxes fail now. */
  private eject(member: Member, reason: string): void {
    if (!member.healthy) return;
    member.healthy = false;
    member.ejections++;
    member.lastEjection = reason;
    member.ejectedAt = Date.now();
    this.ejectionCount++;
    let lost = 0;
    for (const sandbox of member.engine.pool.pause()) {
      sandbox.engineLost?.(reason);
      member.stranded.add(sandbox.id);
      void sandbox.close().catch(() => undefined);
    }
    for (const [sandbox, owner] of this.owners) {
      if (owner !== member) continue;
      sandbox.engineLost?.(reason);
      member.stranded.add(sandbox.id);
      lost++;
    }
    this.settings.onEvent?.({
      kind: "ejected",
      engine: member.engine.name,
      reason,
      lostSandboxes: lost,
    });
    if (this.capacity === 0 && this.outageSince === undefined) {
      this.outageSince = Date.now();
      this.outageTimer = setTimeout(() => this.changed(), this.settings.outageS * 1000 + 10);
      this.outageTimer.unref();
    }
    this.changed();
  }

  /** Back in placement: what it held when ejected is removed first, its warm pool refills. */
  private async readmit(member: Member): Promise<void> {
    const docker = member.engine.docker!;
    let reaped = 0;
    for (const id of [...member.stranded]) {
      try {
        await docker.getContainer(id).remove({ force: true });
        reaped++;
      } catch (error) {
        const code = (error as { statusCode?: number }).statusCode;
        if (code !== 404 && code !== 409) throw error;
      }
      member.stranded.delete(id);
    }
    member.healthy = true;
    member.engine.pool.resume();
    this.outageSince = undefined;
    clearTimeout(this.outageTimer);
    this.settings.onEvent?.({
      kind: "readmitted",
      engine: member.engine.name,
      downS: Math.round((Date.now() - (member.ejectedAt ?? Date.now())) / 100) / 10,
      reaped,
    });
    this.changed();
  }

  private changed(): void {
    for (const wake of this.waiters.splice(0)) wake();
    for (const listener of this.listeners) listener();
  }

  /** Waits for a release or an engine's return; fails once an outage passes its bound. */
  private async waitForRoom(): Promise<void> {
    const outage = this.outage();
    if (outage) throw new InfrastructureError(outage);
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** Refuses engines whose image is missing or another build, naming the push that fixes it. */
  private async verifyImages(): Promise<void> {
    if (!this.imageCheck) return;
    const { image, local } = this.imageCheck;
    const engines = this.members.flatMap(({ engine, healthy }) =>
      engine.docker && healthy
        ? [{ name: engine.name, host: engine.host, docker: engine.docker }]
        : [],
    );
    const idOn = async (docker: Docker) =>
      (await imageOn(docker, image).catch(() => undefined))?.id;
    let expected = local ? await idOn(local) : undefined;
    for (const engine of engines) expected ??= await idOn(engine.docker);
    // No engine has it at all: the first sandbox start says how to build it.
    if (!expected) return;
    const problems = await imageProblems(engines, image, expected).catch((error: unknown) => [
      `an engine did not answer the image check: ${(error as Error).message}`,
    ]);
    if (problems.length > 0) throw new ConfigError(problems.join("\n  "));
  }

  /** The healthy engine with room and the lowest (in use + starting + warm) / capacity. */
  private place(): Member | undefined {
    let best: Member | undefined;
    let bestLoad = Infinity;
    for (const member of this.members) {
      if (!member.healthy || member.placed >= member.engine.capacity) continue;
      const { warm, starting } = member.engine.pool.stats();
      const load = (member.placed + starting + warm) / member.engine.capacity;
      if (load < bestLoad) {
        best = member;
        bestLoad = load;
      }
    }
    return best;
  }

  private unplace(member: Member): void {
    member.placed--;
    this.waiters.shift()?.();
  }
}
