/** What only the local backend must prove: the host stays invisible, and leftovers are reaped. */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { useSandbox } from "../../testing/sandboxes.js";
import { parseSandboxConfig } from "./config.js";
import { LocalBackend, stateDir } from "./local-sandbox.js";

const sandbox = useSandbox({ backend: "local" });
const marker = `/root/.sandfarm-host-marker-${randomBytes(4).toString("hex")}`;
writeFileSync(marker, "host secret");
afterAll(() => rmSync(marker, { force: true }));

describe("the local backend", () => {
  it("runs over the image's root filesystem, never the host's", async () => {
    process.env.SANDFARM_TEST_TOKEN = "tok-local-secret-7";
    try {
      const result = await sandbox().exec(
        `ls -a /root; test -e ${marker} && echo MARKER; test -e /var/run/docker.sock && echo SOCKET; test -e /work && echo WORK; cat /etc/debian_version; env`,
      );
      expect(result.stdout).not.toContain("MARKER");
      expect(result.stdout).not.toContain("SOCKET");
      expect(result.stdout).not.toContain("WORK");
      expect(result.stdout).not.toContain("tok-local-secret-7");
      expect(result.stdout).toContain(
        readFileSync(`${new LocalBackend(parseSandboxConfig()).rootfs}/etc/debian_version`, "utf8"),
      );
    } finally {
      delete process.env.SANDFARM_TEST_TOKEN;
    }
  });

  it("resolves a planted symlink inside the sandbox, not on the host", async () => {
    await sandbox().exec(`ln -sf ${marker} /testbed/escape && ln -sfn / /testbed/hostroot`);
    await expect(sandbox().readFile("/testbed/escape")).rejects.toMatchObject({
      problem: "not_found",
    });
    await expect(sandbox().readFile(`/testbed/hostroot${marker}`)).rejects.toMatchObject({
      problem: "not_found",
    });
    await sandbox().writeFiles("/testbed/hostroot/root", [
      { path: "written-inside.txt", content: "x" },
    ]);
    expect(existsSync("/root/written-inside.txt")).toBe(false);
  });

  it("drops the capabilities Docker drops and sets no-new-privileges", async () => {
    const status = (await sandbox().exec("grep -E '^(CapEff|NoNewPrivs):' /proc/self/status"))
      .stdout;
    expect(status).toBe("CapEff:\t00000000000005fb\nNoNewPrivs:\t1\n");
  });

  it("reaps what a killed owner left: processes, mount, cgroups, files", async () => {
    const holder = fileURLToPath(
      new URL("../../testing/fixtures/local-holder.ts", import.meta.url),
    );
    const child = spawn(process.execPath, ["--import", "tsx", holder], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      const id = await new Promise<string>((resolve) =>
        child.stdout.on("data", (chunk: Buffer) => {
          const match = /ready (\w+)/.exec(chunk.toString());
          if (match) resolve(match[1]!);
        }),
      );
      child.kill("SIGKILL");
      await new Promise((resolve) => child.once("exit", resolve));
      expect(existsSync(`${stateDir()}/local/${id}`)).toBe(true);
      const removed = await new LocalBackend(parseSandboxConfig()).collectGarbage();
      expect(removed).toContainEqual({ id, reason: `owner pid ${child.pid} is gone` });
      expect(existsSync(`${stateDir()}/local/${id}`)).toBe(false);
      expect(readFileSync("/proc/mounts", "utf8")).not.toContain(id);
      expect(existsSync(`/sys/fs/cgroup/memory/sandfarm/${id}`)).toBe(false);
    } finally {
      child.kill("SIGKILL");
    }
  }, 60_000);

  it("mounts its overlay in its own mount namespace only, and close leaves nothing", async () => {
    const local = await new LocalBackend(parseSandboxConfig()).create();
    const dir = `${stateDir()}/local/${local.id}`;
    try {
      await local.exec("echo inside > /testbed/written.txt");
      // The write went to the sandbox's overlay upper directory...
      expect(readFileSync(`${dir}/upper/testbed/written.txt`, "utf8")).toBe("inside\n");
      // ...through a mount the host never sees.
      expect(readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(local.id);
      expect(readFileSync(`/proc/${local.hostPid}/mountinfo`, "utf8")).toContain(`${dir}/upper`);
    } finally {
      await local.close();
    }
    expect(existsSync(dir)).toBe(false);
    expect(existsSync(`/sys/fs/cgroup/memory/sandfarm/${local.id}`)).toBe(false);
  });

  it("refuses a network it cannot give", () => {
    expect(() => new LocalBackend(parseSandboxConfig({ network: "bridge" }))).toThrow(
      "sandbox.network 'bridge' is not available on the local backend: use none",
    );
  });
});
