/**
 * What every sandbox backend offers, and the one place that picks a backend from the config.
 *
 * @example
 * const backend = createBackend(parseSandboxConfig({ backend: "local" }));
 * const sandbox = await backend.create();
 */
import type { SandboxConfig } from "./config.js";
import { DockerBackend } from "./docker-sandbox.js";
import { LocalBackend } from "./local-sandbox.js";
import type { Sandbox } from "./types.js";

/** A sandbox as backends hand it out: the `Sandbox` interface plus lifecycle probes. */
export interface ManagedSandbox extends Sandbox {
  /** Starts the runner ahead of the first command; false when commands use one exec each. */
  warmUp(): Promise<boolean>;
  /** True when the sandbox answers within `timeoutMs`. */
  isResponsive(timeoutMs?: number): Promise<boolean>;
  /** How commands reach it now. */
  readonly execPath: "runner" | "exec";
  /** Its engine was ejected from the fleet: fail what runs now and what comes (Docker only). */
  engineLost?(reason: string): void;
}

export interface SandboxBackend {
  readonly config: SandboxConfig;
  create(): Promise<ManagedSandbox>;
  /** Removes sandboxes a dead farm left behind; returns what it removed and why. */
  collectGarbage(): Promise<{ id: string; reason: string }[]>;
}

export function createBackend(config: SandboxConfig): SandboxBackend {
  return config.backend === "local" ? new LocalBackend(config) : new DockerBackend(config);
}
