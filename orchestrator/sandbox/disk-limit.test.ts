/**
 * A sandbox cannot fill its host's disk: past `sandbox.diskLimitMb` (64 MB here) its writable
 * layer is caught, the sandbox stopped and the command ended as `DiskLimitError` (the episode's
 * `disk_limit`), wherever it wrote; other sandboxes on the engine keep working, and the engine's
 * filesystem never loses more than a bounded amount.
 */
import { statfsSync } from "node:fs";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testBackend } from "../../testing/sandboxes.js";
import type { ManagedSandbox } from "./backend.js";
import { DiskLimitError } from "./errors.js";

const LIMIT_MB = 64;
/** A little above the limit, so a failure costs the host little. */
const WRITE_MB = 96;

let bystander: ManagedSandbox;
let dataRoot: string;
let freeBefore: number;

const freeBytes = () => {
  const stats = statfsSync(dataRoot);
  return stats.bavail * stats.bsize;
};

beforeAll(async () => {
  dataRoot = ((await new Docker().info()) as { DockerRootDir: string }).DockerRootDir;
  freeBefore = freeBytes();
  bystander = await testBackend({ diskLimitMb: LIMIT_MB }).create();
}, 60_000);

afterAll(async () => {
  await bystander?.close();
});

describe("sandbox.diskLimitMb", () => {
  it.each([
    ["/testbed", "/testbed/fill"],
    ["/tmp", "/tmp/fill"],
    ["/", "/fill"],
  ])(
    "ends a sandbox that writes past it in %s as a disk limit, and leaves others working",
    async (_where, file) => {
      const backend = testBackend({ diskLimitMb: LIMIT_MB, diskSampleMs: 200 });
      const sandbox = await backend.create();
      let lowest = freeBytes();
      const sampler = setInterval(() => (lowest = Math.min(lowest, freeBytes())), 50);
      try {
        const started = Date.now();
        const error = await sandbox
          .exec(`dd if=/dev/zero of=${file} bs=1M count=${WRITE_MB} && sync && sleep 30`, {
            timeoutS: 60,
          })
          .then(
            () => undefined,
            (caught: unknown) => caught,
          );
        expect(error).toBeInstanceOf(DiskLimitError);
        expect((error as DiskLimitError).message).toMatch(
          new RegExp(
            `^sandbox [0-9a-f]+ wrote (6[5-9]|[7-9]\\d) MB, past its disk limit of ${LIMIT_MB} MB \\(sandbox\\.diskLimitMb\\)$`,
          ),
        );
        // Caught while the command ran (its `sleep 30` never finished), not at its timeout.
        expect(Date.now() - started).toBeLessThan(30_000);
        // The sandbox is stopped and says why to every later call.
        await expect(sandbox.exec("echo again")).rejects.toBeInstanceOf(DiskLimitError);
        const state = await new Docker()
          .getContainer(sandbox.id)
          .inspect()
          .then((info) => info.State.Running)
          .catch(() => false);
        expect(state).toBe(false);
        // Another sandbox on the same engine keeps working.
        expect((await bystander.exec("echo fine")).stdout).toBe("fine\n");
      } finally {
        clearInterval(sampler);
        await sandbox.close();
      }
      // The engine's filesystem lost at most what the sandbox wrote before it was stopped.
      expect(freeBefore - lowest).toBeLessThan((WRITE_MB + 64) * 1024 * 1024);
    },
    90_000,
  );

  it("counts only what the sandbox writes: a small write passes, and 0 turns the limit off", async () => {
    const sandbox = await testBackend({ diskLimitMb: LIMIT_MB, diskSampleMs: 200 }).create();
    const unlimited = await testBackend({ diskLimitMb: 0 }).create();
    try {
      const small = await sandbox.exec(
        `dd if=/dev/zero of=/testbed/small bs=1M count=8 2>&1 | tail -1`,
      );
      expect(small.exitCode, JSON.stringify(small)).toBe(0);
      expect((await sandbox.exec("echo still")).stdout).toBe("still\n");
      const large = await unlimited.exec(
        `dd if=/dev/zero of=/tmp/fill bs=1M count=${WRITE_MB} 2>/dev/null; stat -c %s /tmp/fill; rm /tmp/fill`,
      );
      expect(large.stdout, JSON.stringify(large)).toBe(`${WRITE_MB * 1024 * 1024}\n`);
    } finally {
      await sandbox.close();
      await unlimited.close();
    }
  }, 60_000);
});
