import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterEach, describe, expect, it } from "vitest";
import { CLI_ENTRY, sandfarm } from "../../testing/cli.js";
import { trainingGroup } from "../../testing/training-rows.js";
import { BridgeClient } from "../../trainer-bridge/client.js";
import { Spool } from "../../trainer-bridge/spool.js";

const TOKEN = "cli-token-0123456789abcdef";
const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function spoolWith(batches: number): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "sandfarm-serve-"));
  dirs.push(dir);
  const spool = await Spool.open(dir, { runId: "r1" });
  for (let group = 0; group < batches; group++) await spool.commit(trainingGroup(group));
  await spool.close();
  return dir;
}

describe("sandfarm bridge serve", () => {
  it("serves a spool's pending batches with the token from the environment until SIGTERM", async () => {
    const dir = await spoolWith(2);
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        CLI_ENTRY,
        "bridge",
        "serve",
        "--spool",
        dir,
        "--run-id",
        "r1",
        "--address",
        "127.0.0.1:0",
      ],
      {
        env: { ...process.env, SANDFARM_BRIDGE_TOKEN: TOKEN },
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    const [line] = (await once(createInterface({ input: child.stdout }), "line")) as [string];
    const started = JSON.parse(line) as {
      listening: string;
      pendingBatches: number;
      pendingRows: number;
      token: boolean;
    };
    expect(started).toMatchObject({ pendingBatches: 2, pendingRows: 8, token: true, tls: false });
    const client = new BridgeClient({ address: started.listening, token: TOKEN });
    const stream = client.pull();
    const first = await stream.next();
    first!.ack();
    stream.close();
    await stream.finished;
    client.close();
    child.kill("SIGTERM");
    const [code] = (await once(child, "exit")) as [number];
    expect(code).toBe(0);
    const spool = await Spool.open(dir, { runId: "r1" });
    expect(spool.pending().map((batch) => batch.batchId)).toEqual(["r1-1"]);
    await spool.close();
  });

  it("names the flag or variable that is wrong", async () => {
    const dir = await spoolWith(1);
    const halfTls = await sandfarm(
      "bridge",
      "serve",
      "--spool",
      dir,
      "--run-id",
      "r1",
      "--tls-cert",
      "/nonexistent.pem",
    );
    expect(halfTls.code).toBe(2);
    expect(halfTls.stderr).toMatch(/--tls-cert and --tls-key go together/);
    const badRunId = await sandfarm("bridge", "serve", "--spool", dir, "--run-id", "a/b");
    expect(badRunId.stderr).toMatch(/runId 'a\/b' must use only letters, digits/);
    const noModel = await sandfarm(
      "bridge",
      "serve",
      "--spool",
      dir,
      "--run-id",
      "r1",
      "--policy-url",
      "http://127.0.0.1:9/v1",
    );
    expect(noModel.stderr).toMatch(/--policy-url needs --model/);
  });
});
