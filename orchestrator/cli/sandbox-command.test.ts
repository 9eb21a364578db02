import { spawn } from "node:child_process";
import Docker from "dockerode";
import { afterAll, describe, expect, it } from "vitest";
import { CLI_ENTRY as main, sandfarm } from "../../testing/cli.js";
import { DEFAULT_SANDBOX_IMAGE } from "../sandbox/config.js";
import { LABEL_MANAGED, LABEL_OWNER_PID, sandboxLabels } from "../sandbox/labels.js";

const docker = new Docker();

async function containersOwnedBy(pid: number): Promise<number> {
  const list = await docker.listContainers({
    all: true,
    filters: { label: [`${LABEL_OWNER_PID}=${pid}`] },
  });
  return list.length;
}

describe("sandfarm sandbox exec", () => {
  it("prints the raw result as JSON and leaves no container behind", async () => {
    const run = await sandfarm(
      "sandbox",
      "exec",
      "--timeout",
      "20",
      "--memory",
      "256",
      "--",
      "echo hi; echo no >&2; exit 3",
    );
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(Object.keys(result)).toEqual([
      "exitCode",
      "stdout",
      "stderr",
      "timedOut",
      "truncated",
      "oomKilled",
      "runnerKilled",
      "durationMs",
    ]);
    expect(result).toMatchObject({ exitCode: 3, stdout: "hi\n", stderr: "no\n", timedOut: false });
    expect(await containersOwnedBy(run.pid)).toBe(0);
  });

  it("removes its sandbox when interrupted with SIGINT", async () => {
    const child = spawn(process.execPath, [
      "--import",
      "tsx",
      main,
      "sandbox",
      "exec",
      "--",
      "sleep 60",
    ]);
    const pid = child.pid ?? -1;
    const exited = new Promise<number | null>((resolve) =>
      child.on("exit", (code) => resolve(code)),
    );
    try {
      for (let waited = 0; waited < 60 && (await containersOwnedBy(pid)) === 0; waited++) {
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      expect(await containersOwnedBy(pid)).toBe(1);
      child.kill("SIGINT");
      expect(await exited).toBe(130);
      expect(await containersOwnedBy(pid)).toBe(0);
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("reports a timeout", async () => {
    const run = await sandfarm("sandbox", "exec", "--timeout", "1", "--", "sleep", "30");
    expect(JSON.parse(run.stdout)).toMatchObject({ exitCode: 124, timedOut: true });
  });

  it("rejects a bad flag value with the reason", async () => {
    const run = await sandfarm("sandbox", "exec", "--memory", "lots", "--", "true");
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain("must be a positive number");
  });

  it("names the bad config key and the fix", async () => {
    const run = await sandfarm("sandbox", "exec", "--network", "host", "--", "true");
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      "sandbox.network: network 'host' would give the sandbox the host's network",
    );
  });
});

describe("sandbox config errors from the engine", () => {
  it("names an unregistered runtime and the fix", async () => {
    const run = await sandfarm("sandbox", "exec", "--runtime", "no-such-runtime", "--", "true");
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      "sandbox.runtime 'no-such-runtime' is not registered with the engine",
    );
  });

  it("names a missing network and the fix", async () => {
    const run = await sandfarm("sandbox", "exec", "--network", "no-such-network", "--", "true");
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("sandbox.network 'no-such-network' does not exist");
  });
});

describe("sandfarm sandbox doctor", () => {
  it("checks the local backend when asked", async () => {
    const run = await sandfarm("sandbox", "doctor", "--backend", "local", "--json");
    const checks = JSON.parse(run.stdout) as { name: string; ok: boolean }[];
    expect(checks.map((check) => check.name)).toEqual([
      "local backend",
      "sandbox",
      "capabilities",
      "no-new-privileges",
      "pid limit",
      "memory limit",
      "cpu limit",
      "network",
      "runtime runc",
      "runtime runsc",
    ]);
    expect(checks.filter((check) => !check.ok)).toEqual([]);
    expect(run.code).toBe(0);
  });

  it("runs a command on the local backend", async () => {
    const run = await sandfarm(
      "sandbox",
      "exec",
      "--backend",
      "local",
      "--",
      "cat /etc/debian_version; ls /var/run/docker.sock",
    );
    const result = JSON.parse(run.stdout) as { exitCode: number; stdout: string; stderr: string };
    expect(result.stdout).toMatch(/^12\.\d+\n$/);
    expect(result.stderr).toContain("No such file or directory");
  });

  it("passes every check on this machine", async () => {
    const run = await sandfarm("sandbox", "doctor", "--json");
    const checks = JSON.parse(run.stdout) as { name: string; ok: boolean }[];
    expect(checks.map((check) => check.name)).toEqual([
      "engine",
      "runtime",
      "image",
      "sandbox",
      "capabilities",
      "no-new-privileges",
      "pid limit",
      "memory limit",
      "cpu limit",
      "network",
      "runtime runsc",
      "backend local",
    ]);
    expect(checks.filter((check) => !check.ok)).toEqual([]);
    expect(run.code).toBe(0);
  });

  it("fails with the fix when the image is missing", async () => {
    const run = await sandfarm("sandbox", "doctor", "--image", "sandfarm/no-such-image:0");
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/FAIL image +sandfarm\/no-such-image:0 is not in the engine/);
    expect(run.stdout).toContain("fix: run 'bash deploy/image/build.sh'");
  });
});

describe("sandfarm sandbox gc", () => {
  const planted: string[] = [];
  afterAll(async () => {
    await Promise.all(
      planted.map((id) =>
        docker
          .getContainer(id)
          .remove({ force: true })
          .catch(() => undefined),
      ),
    );
  });

  async function plant(labels: Record<string, string>): Promise<string> {
    const container = await docker.createContainer({
      Image: DEFAULT_SANDBOX_IMAGE,
      Cmd: ["sleep", "600"],
      Labels: labels,
      HostConfig: { NetworkMode: "none" },
    });
    await container.start();
    planted.push(container.id);
    return container.id;
  }

  it("removes expired and ownerless sandboxes and keeps a live owner's", async () => {
    const expired = await plant({ ...sandboxLabels("gc-test", 60), "sandfarm.expires-at": "1" });
    const ownerless = await plant({
      ...sandboxLabels("gc-test", 600),
      [LABEL_OWNER_PID]: "999999999",
    });
    const live = await plant(sandboxLabels("gc-test", 600));
    const run = await sandfarm("sandbox", "gc");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`removed ${expired.slice(0, 12)} (ttl expired)`);
    expect(run.stdout).toMatch(/^\d+ sandbox\(es\) removed$/m);
    expect(run.stdout).toContain(`removed ${ownerless.slice(0, 12)} (owner pid 999999999 is gone)`);
    expect(run.stdout).not.toContain(live.slice(0, 12));
    const left = await docker.listContainers({
      all: true,
      filters: { label: [`${LABEL_MANAGED}=true`, "sandfarm.run-id=gc-test"] },
    });
    expect(left.map((container) => container.Id)).toEqual([live]);
  });
});
