/**
 * Tells sandboxes when their container dies, from the engine's event stream: one subscription
 * for all of a backend's sandboxes, open only while any is watched. Needed because an exec
 * stream does not always end when its container dies (under gVisor's runsc it stays open), and
 * polling every sandbox's state would load the engine.
 */
import type Docker from "dockerode";
import { LABEL_MANAGED } from "./labels.js";

/** What the engine said about a container's death. */
export interface ContainerDeath {
  exitCode?: number;
  /** An OOM event came for the container before it died. */
  oom: boolean;
}

type DeathListener = (death: ContainerDeath) => void;

export class DeathWatch {
  private readonly listeners = new Map<string, DeathListener>();
  private readonly dead = new Map<string, ContainerDeath>();
  private readonly oomSeen = new Set<string>();
  private events?: NodeJS.ReadableStream & { destroy?: () => void };
  private opening?: Promise<void>;
  /** Unix seconds of the last event seen, to resume from after a dropped stream. */
  private lastEventAt?: number;

  /** Told when the engine's events stream ends while sandboxes are watched (engine health). */
  onLost?: () => void;

  constructor(private readonly docker: Docker) {}

  /** Calls `onDeath` once if the container dies; returns a function that stops watching. */
  async watch(containerId: string, onDeath: DeathListener): Promise<() => void> {
    this.listeners.set(containerId, onDeath);
    await this.ensureOpen();
    if (this.dead.has(containerId)) this.fire(containerId);
    return () => {
      this.listeners.delete(containerId);
      this.dead.delete(containerId);
      this.oomSeen.delete(containerId);
      if (this.listeners.size === 0) this.closeStream();
    };
  }

  private async ensureOpen(): Promise<void> {
    if (this.events) return;
    this.opening ??= this.open().finally(() => {
      this.opening = undefined;
    });
    await this.opening;
  }

  private async open(): Promise<void> {
    const events = (await this.docker.getEvents({
      ...(this.lastEventAt ? { since: this.lastEventAt } : {}),
      filters: {
        type: ["container"],
        event: ["oom", "die", "destroy"],
        label: [`${LABEL_MANAGED}=true`],
      },
    })) as NodeJS.ReadableStream & { destroy?: () => void; socket?: { unref?: () => void } };
    // The watch must never keep a finished process alive.
    events.socket?.unref?.();
    (events as unknown as { req?: { socket?: { unref?: () => void } } }).req?.socket?.unref?.();
    let pending = "";
    events.on("data", (chunk: Buffer) => {
      pending += chunk.toString("utf8");
      let newline = pending.indexOf("\n");
      while (newline !== -1) {
        const line = pending.slice(0, newline).trim();
        pending = pending.slice(newline + 1);
        if (line) this.onEvent(line);
        newline = pending.indexOf("\n");
      }
    });
    const lost = (): void => {
      if (this.events !== events) return;
      this.events = undefined;
      if (this.listeners.size > 0) this.onLost?.();
      // Still watching: pick up again from the last event seen, so no death is missed.
      if (this.listeners.size > 0)
        setTimeout(() => void this.ensureOpen().catch(() => undefined), 100);
    };
    events.on("end", lost);
    events.on("close", lost);
    events.on("error", lost);
    this.events = events;
  }

  private onEvent(line: string): void {
    let event: {
      id?: string;
      status?: string;
      time?: number;
      Actor?: { Attributes?: Record<string, string> };
    };
    try {
      event = JSON.parse(line) as typeof event;
    } catch {
      return;
    }
    if (typeof event.time === "number") this.lastEventAt = event.time;
    const id = event.id;
    if (!id) return;
    if (event.status === "oom") {
      this.oomSeen.add(id);
      return;
    }
    if (this.dead.has(id)) return;
    const exitCode = Number(event.Actor?.Attributes?.exitCode);
    this.dead.set(id, {
      ...(Number.isFinite(exitCode) ? { exitCode } : {}),
      oom: this.oomSeen.has(id),
    });
    this.fire(id);
  }

  private fire(containerId: string): void {
    const listener = this.listeners.get(containerId);
    const death = this.dead.get(containerId);
    if (!listener || !death) return;
    this.listeners.delete(containerId);
    listener(death);
  }

  private closeStream(): void {
    const events = this.events;
    this.events = undefined;
    events?.destroy?.();
  }
}
