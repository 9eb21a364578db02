import { spawn } from "node:child_process";
import Docker from "dockerode";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { testBackend } from "../../testing/sandboxes.js";
import { LABEL_OWNER_PID, sandboxLabels } from "./labels.js";
import { SandboxPool, parsePoolOptions } from "./pool.js";

const docker = new Docker();

async function exists(_pool: SandboxPool, id: string): Promise<boolean> {
  return docker
    .getContainer(id)
    .inspect()
    .then(
      () => true,
      () => false,
    );
}

describe("SandboxPool", () => {
  it("rejects bad options naming the key", () => {
    expect(() => parsePoolOptions({ warmSize: -1 })).toThrow(/pool\.warmSize/);
    expect(() => parsePoolOptions({ warmsize: 2 } as never)).toThrow(/warmsize/);
  });

  it("hands out warm, live sandboxes and destroys them on release", async () => {
    const pool = new SandboxPool(testBackend({ runId: "pool-basic" }), {
      warmSize: 2,
      reapOrphansOnStart: false,
    });
    try {
      await pool.start();
      expect(pool.stats()).toMatchObject({ warm: 2, inUse: 0, created: 2 });
      const sandbox = await pool.acquire();
      expect(sandbox.execPath).toBe("runner");
      expect((await sandbox.exec("echo warm")).stdout).toBe("warm\n");
      expect(pool.stats().inUse).toBe(1);
      await pool.release(sandbox);
      expect(await exists(pool, sandbox.id)).toBe(false);
      expect(pool.stats().inUse).toBe(0);
    } finally {
      await pool.close();
    }
  });

  it("serves 64 concurrent acquires with distinct working sandboxes", async () => {
    const pool = new SandboxPool(testBackend({ runId: "pool-64", memoryMb: 128 }), {
      warmSize: 4,
      reapOrphansOnStart: false,
    });
    try {
      await pool.start();
      const sandboxes = await Promise.all(Array.from({ length: 64 }, () => pool.acquire()));
      expect(new Set(sandboxes.map((sandbox) => sandbox.id)).size).toBe(64);
      const outputs = await Promise.all(
        sandboxes.map((sandbox, index) => sandbox.exec(`echo ${index}`)),
      );
      expect(outputs.map((output) => output.stdout)).toEqual(
        sandboxes.map((_, index) => `${index}\n`),
      );
      await Promise.all(sandboxes.map((sandbox) => pool.release(sandbox)));
      const left = await Promise.all(sandboxes.map((sandbox) => exists(pool, sandbox.id)));
      expect(left.filter(Boolean)).toEqual([]);
    } finally {
      await pool.close();
    }
  }, 180_000);

  it("replaces a warm sandbox that fails its liveness check", async () => {
    const pool = new SandboxPool(testBackend({ runId: "pool-liveness" }), {
      warmSize: 1,
      reapOrphansOnStart: false,
    });
    try {
      await pool.start();
      const [dead] = [...(pool as unknown as { warm: { id: string }[] }).warm];
      await docker.getContainer(dead!.id).kill();
      const sandbox = await pool.acquire();
      expect(sandbox.id).not.toBe(dead!.id);
      expect((await sandbox.exec("echo alive")).stdout).toBe("alive\n");
      expect(pool.stats().failedLiveness).toBe(1);
    } finally {
      await pool.close();
    }
  });

  it("reaps planted orphans when it starts", async () => {
    const backend = testBackend({ runId: "pool-orphans" });
    const planted = await Promise.all(
      [
        { ...sandboxLabels("pool-orphans", 600), [LABEL_OWNER_PID]: "999999998" },
        { ...sandboxLabels("pool-orphans", 600), "sandfarm.expires-at": "1" },
      ].map(async (labels) => {
        const container = await backend.docker.createContainer({
          Image: backend.config.image,
          Cmd: ["sleep", "600"],
          Labels: labels,
          HostConfig: { NetworkMode: "none" },
        });
        await container.start();
        return container.id;
      }),
    );
    const pool = new SandboxPool(backend, { warmSize: 1 });
    try {
      await pool.start();
      expect(await Promise.all(planted.map((id) => exists(pool, id)))).toEqual([false, false]);
    } finally {
      await pool.close();
    }
  });

  it("leaves no container behind when its process gets SIGTERM", async () => {
    const holder = fileURLToPath(new URL("../../testing/fixtures/pool-holder.ts", import.meta.url));
    const child = spawn(process.execPath, ["--import", "tsx", holder], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const exited = new Promise<number | null>((resolve) =>
      child.on("exit", (code) => resolve(code)),
    );
    await new Promise<void>((resolve) =>
      child.stdout.on("data", (chunk: Buffer) => chunk.toString().includes("ready") && resolve()),
    );
    try {
      const backend = testBackend();
      const owned = async (): Promise<number> =>
        (
          await backend.docker.listContainers({
            all: true,
            filters: { label: [`${LABEL_OWNER_PID}=${child.pid}`] },
          })
        ).length;
      expect(await owned()).toBe(4);
      child.kill("SIGTERM");
      expect(await exited).toBe(143);
      expect(await owned()).toBe(0);
    } finally {
      child.kill("SIGKILL");
    }
  }, 120_000);
});
