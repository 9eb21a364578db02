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
      runId: "adhoc",
      env: {},
    });
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
