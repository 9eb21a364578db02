/**
 * Whatever a model types hurts only its own sandbox: each hostile command here runs in a real
 * container while a control sandbox, created first, must keep answering.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SandboxLostError } from "./errors.js";
import {
  SANDBOX_VARIANTS,
  killFromOutside,
  pidsInUse,
  removeFromOutside,
  testSandboxBackend,
  useSandbox,
} from "../../testing/sandboxes.js";
import type { ManagedSandbox } from "./backend.js";

describe.each(SANDBOX_VARIANTS)("%s", (_variant, variant) => {
  const control = useSandbox({ ...variant });
  const shared = useSandbox({ ...variant });

  async function expectControlAlive(): Promise<void> {
    const result = await control().exec("echo alive", { timeoutS: 30 });
    expect(result.stdout).toBe("alive\n");
  }

  /** A sandbox of its own for a test that breaks it, closed in every outcome. */
  async function withOwnSandbox(
    overrides: Parameters<typeof testSandboxBackend>[0],
    body: (sandbox: ManagedSandbox) => Promise<void>,
  ): Promise<void> {
    const sandbox = await testSandboxBackend({ ...overrides, ...variant }).create();
    try {
      await body(sandbox);
    } finally {
      await sandbox.close();
    }
  }

  describe("hostile commands", () => {
    it("kills a command at its timeout, whole process group included", async () => {
      const result = await shared().exec("sleep 1000 & sleep 1000", { timeoutS: 2 });
      expect(result).toMatchObject({ timedOut: true, exitCode: 124 });
      // Killed processes linger as zombies until their new parent reaps them, which under load
      // (CI, the churn test beside it) can take a moment; a surviving `sleep 1000` never goes.
      await expect
        .poll(async () => (await shared().exec("pgrep -c -x sleep || true")).stdout.trim(), {
          timeout: 10_000,
          interval: 250,
        })
        .toBe("0");
    });

    it("returns when the shell exits although a background child lives on", async () => {
      const result = await shared().exec("sleep 1000 & echo started", { timeoutS: 60 });
      expect(result).toMatchObject({ exitCode: 0, stdout: "started\n", timedOut: false });
      const alive = await shared().exec("pgrep -c -x sleep");
      expect(alive.stdout.trim()).toBe("1");
      await shared().exec("pkill -x sleep; true");
    });

    it("caps `yes` at the capture limit and keeps draining until the timeout", async () => {
      const result = await shared().exec("yes", { timeoutS: 3 });
      expect(result.truncated).toBe(true);
      expect(result.timedOut).toBe(true);
      expect(result.stdout).toHaveLength(1024 * 1024);
      expect(result.stdout.startsWith("y\ny\n")).toBe(true);
    });

    it("survives 1 MB of /dev/urandom on stdout", async () => {
      const result = await shared().exec("head -c 1000000 /dev/urandom");
      expect(result.exitCode).toBe(0);
      expect(result.truncated).toBe(false);
      expect(result.stdout.length).toBeGreaterThan(500_000);
    });

    it("has no network egress under network none", async () => {
      const interfaces = await shared().exec(
        "awk -F: 'NR > 2 { gsub(/ /, \"\", $1); print $1 }' /proc/net/dev",
      );
      expect(interfaces.stdout).toBe("lo\n");
      // 192.0.2.1 is TEST-NET-1 (documentation range): with no interface no packet can leave.
      const connect = await shared().exec(
        "python3 -c \"import socket; socket.create_connection(('192.0.2.1', 80), timeout=3)\"",
      );
      expect(connect.exitCode).toBe(1);
      // runc has no interface to route through; gVisor's netstack has no route.
      expect(connect.stderr).toMatch(/Network is unreachable|No route to host/);
    });

    it("fails a pip install of a package that is not there cleanly", async () => {
      const result = await shared().exec("pip install sandfarm-no-such-package-xyz", {
        timeoutS: 120,
      });
      expect(result.exitCode).toBe(1);
      expect(result.timedOut).toBe(false);
      expect(result.stderr).toContain(
        "No matching distribution found for sandfarm-no-such-package-xyz",
      );
    });

    it("keeps the capabilities apt-get, dpkg and chown need", async () => {
      const build = [
        "mkdir -p /tmp/pkg/DEBIAN /tmp/pkg/usr/share/sandfarm-probe",
        "printf 'Package: sandfarm-probe\\nVersion: 1.0\\nArchitecture: all\\nMaintainer: t <t@example.com>\\nDescription: probe\\n' > /tmp/pkg/DEBIAN/control",
        "echo hi > /tmp/pkg/usr/share/sandfarm-probe/x",
        "dpkg-deb --build /tmp/pkg /tmp/probe.deb >/dev/null",
        "apt-get install -y /tmp/probe.deb >/dev/null 2>&1",
        "dpkg -s sandfarm-probe | grep '^Status'",
        // Python's stat, not coreutils': gVisor (2022) rejects the statx call coreutils makes.
        "touch owned && chown nobody:nogroup owned && python3 -c \"import os; s = os.stat('owned'); print(s.st_uid, s.st_gid)\"",
      ].join(" && ");
      const result = await shared().exec(build, { timeoutS: 120 });
      expect(result.stdout).toBe("Status: install ok installed\n65534 65534\n");
      expect(result.exitCode).toBe(0);
    });

    it("never shows the farm's secrets inside", async () => {
      process.env.OPENAI_API_KEY = "sk-sandfarm-test-secret-4242";
      process.env.SANDFARM_TEST_TOKEN = "tok-sandfarm-test-secret-4242";
      try {
        await withOwnSandbox({}, async (sandbox) => {
          const result = await sandbox.exec(
            "env; cat /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n'; grep -rs sandfarm-test-secret /etc /root /testbed; true",
          );
          expect(result.stdout).not.toContain("sandfarm-test-secret");
          expect(result.stdout).not.toContain("OPENAI_API_KEY");
        });
      } finally {
        delete process.env.OPENAI_API_KEY;
        delete process.env.SANDFARM_TEST_TOKEN;
      }
    });

    it("attributes a memory hog to the model", async () => {
      await withOwnSandbox({ memoryMb: 256 }, async (sandbox) => {
        const hog = sandbox.exec("python3 -c 'b = bytearray(1024 ** 3); print(len(b))'", {
          timeoutS: 60,
        });
        if (variant.runtime === "runsc") {
          // gVisor's memory limit applies to its kernel too: the whole sandbox goes.
          const error = await hog.then(
            () => undefined,
            (caught: unknown) => caught,
          );
          expect(error).toBeInstanceOf(SandboxLostError);
          expect((error as SandboxLostError).causedByModel).toBe(true);
          expect((error as SandboxLostError).message).toMatch(/memory limit \(256 MiB\)/);
          return;
        }
        expect(await hog).toMatchObject({ oomKilled: true, exitCode: 137, stdout: "" });
        const next = await sandbox.exec("echo still here");
        expect(next).toMatchObject({ stdout: "still here\n", oomKilled: false });
      });
    });

    it("holds the pid limit against a fork bomb and the farm stays responsive", async () => {
      await withOwnSandbox({ pidsLimit: 64 }, async (sandbox) => {
        await sandbox
          .exec("bomb() { bomb | bomb & }; bomb", { timeoutS: 5 })
          .catch((error: unknown) => {
            expect(error).toBeInstanceOf(SandboxLostError);
          });
        // The bomb may have taken its own sandbox down (gVisor); if it stands, the limit held.
        expect((await pidsInUse(sandbox)) ?? 0).toBeLessThanOrEqual(64);
        await expectControlAlive();
        // The bomb runs on in the background: the sandbox is the model's loss, never a hang.
        // A command may also fail to start while the bomb's leftovers hold every pid (seen
        // under load with one docker exec per command): an error result, returned at once.
        const after = await sandbox.exec("echo after", { timeoutS: 10 }).then(
          (result) => (result.exitCode !== 0 && result.stdout === "" ? "no pid" : result.stdout),
          (error: unknown) => {
            expect(error).toBeInstanceOf(SandboxLostError);
            expect((error as SandboxLostError).causedByModel).toBe(true);
            return "lost";
          },
        );
        expect(["after\n", "lost", "no pid"]).toContain(after);
      });
    });

    it("survives kill -9 -1, or ends as the model's loss on the local backend", async () => {
      await withOwnSandbox({}, async (sandbox) => {
        if (variant.backend === "local") {
          // The runner is the local sandbox's main process: killing it ends the sandbox, and
          // the loss is the model's (docs/architecture.md, "Stop reasons").
          const error = await sandbox.exec("kill -9 -1; sleep 5").then(
            () => undefined,
            (caught: unknown) => caught,
          );
          expect(error).toBeInstanceOf(SandboxLostError);
          expect((error as SandboxLostError).causedByModel).toBe(true);
          return;
        }
        const killed = await sandbox.exec("kill -9 -1; sleep 5; echo unreachable");
        expect(killed.runnerKilled).toBe(true);
        expect(killed.stdout).not.toContain("unreachable");
        const next = await sandbox.exec("ps -o args= -p 1; echo ok");
        expect(next.stdout).toBe("sandfarm-keeper\nok\n");
      });
    });

    it("reports a container killed from outside mid-command as an infrastructure loss", async () => {
      await withOwnSandbox({}, async (sandbox) => {
        // The handler is attached at once: the command may fail while the kill is still being
        // sent, and a rejection with no handler yet counts as unhandled.
        const running = sandbox.exec("sleep 60", { timeoutS: 90 }).then(
          () => undefined,
          (caught: unknown) => caught,
        );
        await new Promise((resolve) => setTimeout(resolve, 1000));
        await killFromOutside(sandbox);
        const error = await running;
        expect(error).toBeInstanceOf(SandboxLostError);
        expect((error as SandboxLostError).causedByModel).toBe(false);
        await expect(sandbox.exec("true")).rejects.toBeInstanceOf(SandboxLostError);
      });
    });

    afterAll(async () => {
      await expectControlAlive();
    });
  });

  describe("self-destruct", () => {
    it("removes a sandbox whose TTL ran out, with sandfarm out of the loop", async () => {
      const sandbox = await testSandboxBackend({ ttlS: 10, ...variant }).create();
      try {
        expect((await sandbox.exec("echo up")).stdout).toBe("up\n");
        let gone = false;
        for (let waited = 0; waited < 60 && !gone; waited++) {
          await new Promise((resolve) => setTimeout(resolve, 500));
          gone = !(await sandbox.isResponsive(1000));
        }
        expect(gone).toBe(true);
        await expect(sandbox.exec("true")).rejects.toThrow(/reached its TTL \(10 s\)/);
      } finally {
        await sandbox.close();
      }
    });
  });

  describe("attribution after removal", () => {
    let sandbox: ManagedSandbox;
    beforeAll(async () => {
      sandbox = await testSandboxBackend({ ...variant }).create();
    });
    afterAll(async () => {
      await sandbox.close();
    });

    it("reports a container removed from outside between commands as an infrastructure loss", async () => {
      await removeFromOutside(sandbox);
      const error = await sandbox.exec("true").then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(SandboxLostError);
      expect((error as SandboxLostError).message).toMatch(/(removed|killed) from outside sandfarm/);
      expect((error as SandboxLostError).causedByModel).toBe(false);
    });
  });
});
