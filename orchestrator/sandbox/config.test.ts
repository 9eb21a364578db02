import { describe, expect, it } from "vitest";
import { ConfigError } from "../../common/errors.js";
import { parseSandboxConfig, startsPerSecond } from "./config.js";
import { orphanReason, sandboxLabels } from "./labels.js";

describe("parseSandboxConfig", () => {
  it("applies every default in one place", () => {
    expect(parseSandboxConfig()).toEqual({
      backend: "docker",
      image: "sandfarm/sandbox:0.1.0",
      memoryMb: 2048,
      cpus: 1,
      pidsLimit: 512,
      network: "none",
      ttlS: 7200,
      commandTimeoutS: 120,
      captureCapBytes: 1048576,
      execMode: "runner",
      engines: [],
      health: {
        intervalMs: 1000,
        timeoutMs: 1000,
        failures: 2,
        createFailures: 3,
        readmitProbes: 2,
        maxProbeIntervalMs: 8000,
      },
      engineOutageS: 300,
      diskLimitMb: 10240,
      diskSampleMs: 1000,
      runId: "adhoc",
      env: {},
    });
  });
  it("refuses engines with the local backend, naming the fix", () => {
    expect(() =>
      parseSandboxConfig({
        backend: "local",
        engines: [{ name: "a", host: "unix:///var/run/docker.sock" }],
      }),
    ).toThrow(
      "sandbox.engines: the local backend runs sandboxes on this machine without an engine: remove sandbox.engines or use backend docker",
    );
    expect(() =>
      parseSandboxConfig({ engines: [{ name: "a", host: "tcp://10.0.0.1:2376" }] }),
    ).toThrow(/sandbox\.engines\.0\.tls: tcp:\/\/10\.0\.0\.1:2376 needs mutual TLS/);
  });
  it("limits sandbox starts by backend unless told: the docker engine, or the cores", () => {
    expect(startsPerSecond(parseSandboxConfig())).toBe(20);
    expect(startsPerSecond(parseSandboxConfig({ backend: "local" }))).toBe(200);
    expect(startsPerSecond(parseSandboxConfig({ backend: "local", startsPerSecond: 35 }))).toBe(35);
    expect(() => parseSandboxConfig({ startsPerSecond: 0 })).toThrow(
      "sandbox.startsPerSecond: Too small",
    );
  });

  it("names the key and the fix", () => {
    expect(() => parseSandboxConfig({ memoryMb: 10 })).toThrow(/sandbox\.memoryMb: .*64/);
    expect(() => parseSandboxConfig({ network: "host" })).toThrow(
      /sandbox\.network: .*use none, bridge/,
    );
    expect(() => parseSandboxConfig({ memroyMb: 512 } as never)).toThrow(ConfigError);
    expect(() => parseSandboxConfig({ memroyMb: 512 } as never)).toThrow(/memroyMb/);
  });
});

describe("orphanReason", () => {
  it("keeps a live owner's sandbox and reaps expired or ownerless ones", () => {
    const now = Date.now();
    expect(orphanReason(sandboxLabels("run", 60, now), now)).toBeUndefined();
    expect(orphanReason(sandboxLabels("run", 60, now), now + 61_000)).toBe("ttl expired");
    const deadOwner = { ...sandboxLabels("run", 60, now), "sandfarm.owner-pid": "999999999" };
    expect(orphanReason(deadOwner, now)).toBe("owner pid 999999999 is gone");
    const elsewhere = { ...deadOwner, "sandfarm.owner-host": "another-host" };
    expect(orphanReason(elsewhere, now)).toBeUndefined();
  });
});
