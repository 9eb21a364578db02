import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { BridgeClient } from "./client.js";

const FARM = fileURLToPath(new URL("../testing/bridge-farm.ts", import.meta.url));
const children: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function startFarmProcess(
  dir: string,
): Promise<{ child: ChildProcess; port: number; pending: string[] }> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", FARM, "--dir", dir, "--run-id", "crash", "--batches", "4"],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  children.push(child);
  const [line] = (await once(createInterface({ input: child.stdout }), "line")) as [string];
  return { child, ...(JSON.parse(line) as { port: number; pending: string[] }) };
}

describe("a farm killed with unacknowledged batches", () => {
  it("serves them again after a restart, and never the acknowledged ones", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sandfarm-crash-"));
    dirs.push(dir);
    const first = await startFarmProcess(dir);
    expect(first.pending).toEqual(["crash-0", "crash-1", "crash-2", "crash-3"]);
    const client = new BridgeClient({ address: `127.0.0.1:${first.port}` });
    const stream = client.pull({ credits: 1 });
    const acked = await stream.next();
    acked!.ack();
    const unacked = await stream.next();
    expect([acked!.header.batchId, unacked!.header.batchId]).toEqual(["crash-0", "crash-1"]);
    // Once the status counts the ack, it is in the journal: kill the farm outright.
    await expect.poll(async () => (await client.status()).ackedBatches).toBe(1);
    first.child.kill("SIGKILL");
    await once(first.child, "exit");
    client.close();

    const second = await startFarmProcess(dir);
    expect(second.pending).toEqual(["crash-1", "crash-2", "crash-3"]);
    const again = new BridgeClient({ address: `127.0.0.1:${second.port}` });
    const seen: string[] = [];
    for await (const batch of again.pull({ credits: 2 })) {
      seen.push(batch.header.batchId);
      // Byte for byte what the first farm committed: same id, same rows.
      expect(batch.rows()[0]!.groupId).toBe(`g${batch.header.sequence}`);
      batch.ack();
      if (seen.length === 3) break;
    }
    expect(seen).toEqual(["crash-1", "crash-2", "crash-3"]);
    await expect.poll(async () => (await again.status()).queuedBatches).toBe(0);
    again.close();
  });
});
