import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type ClientDuplexStream,
  credentials,
  makeGenericClientConstructor,
  Metadata,
  status as GrpcStatus,
} from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { plainRows, trainingGroup, trainingRow } from "../testing/training-rows.js";
import { BridgeCallError, BridgeClient, type ReceivedBatch } from "./client.js";
import { type BridgeServerOptions, BridgeServer } from "./server.js";
import { Spool } from "./spool.js";
import { matching } from "../testing/matchers.js";

const TOKEN = "test-token-0123456789abcdef";
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startFarm(options: Partial<BridgeServerOptions> = {}, runId = "run") {
  const dir = await mkdtemp(join(tmpdir(), "sandfarm-bridge-"));
  const spool = await Spool.open(dir, { runId });
  const server = new BridgeServer({ spool, ...options });
  const port = await server.listen("127.0.0.1:0");
  cleanups.push(async () => {
    await server.close();
    await spool.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { spool, server, address: `127.0.0.1:${port}`, dir };
}

function client(
  address: string,
  options: Partial<ConstructorParameters<typeof BridgeClient>[0]> = {},
) {
  const made = new BridgeClient({ address, ...options });
  cleanups.push(() => made.close());
  return made;
}

/** Takes `count` batches from a stream, acking those `ack` picks. */
async function take(
  stream: AsyncIterable<ReceivedBatch>,
  count: number,
  ack: (batch: ReceivedBatch) => boolean = () => true,
): Promise<ReceivedBatch[]> {
  const taken: ReceivedBatch[] = [];
  if (count === 0) return taken;
  for await (const batch of stream) {
    taken.push(batch);
    if (ack(batch)) batch.ack();
    if (taken.length === count) break;
  }
  return taken;
}

describe("the trainer bridge", () => {
  it("delivers committed batches to a client with exactly the rows the farm committed", async () => {
    const farm = await startFarm();
    const sent = [
      trainingGroup(1, { tokens: 300, version: 1 }),
      trainingGroup(2, { tokens: 70_000, version: 2 }),
      trainingGroup(3, { tokens: 5 }),
    ];
    for (const [index, rows] of sent.entries()) await farm.server.commit(rows, { step: index });
    const stream = client(farm.address).pull({ credits: 1, maxChunkBytes: 64 * 1024 });
    const got = await take(stream, 3);
    expect(stream.welcome).toMatchObject({ runId: "run", schemaVersion: "1", policyVersion: 0 });
    expect(got.map((batch) => batch.header.batchId)).toEqual(["run-0", "run-1", "run-2"]);
    got.forEach((batch, index) => {
      expect(plainRows(batch.rows())).toEqual(plainRows(sent[index]!));
      expect(batch.header).toMatchObject({
        sequence: index,
        rows: 4,
        groups: 1,
        attempt: 1,
        metrics: { step: index },
      });
    });
    // 4 rows of 70,000 tokens in 64 KiB chunks: many chunks, reassembled exactly.
    expect(got[1]!.header.chunks).toBeGreaterThan(10);
    expect(got[1]!.header).toMatchObject({
      minPolicyVersion: 2,
      maxPolicyVersion: 2,
      tokens: 280_000,
    });
    await farm.server.drained();
    expect(farm.spool.pending()).toEqual([]);
    const status = await client(farm.address).status();
    expect(status).toMatchObject({
      ackedBatches: 3,
      queuedBatches: 0,
      deliveredBatches: 3,
      redeliveredBatches: 0,
    });
  });

  it("redelivers what a killed client never acked, and never what it acked", async () => {
    const farm = await startFarm();
    for (let group = 0; group < 4; group++) await farm.server.commit(trainingGroup(group));
    const first = client(farm.address).pull({ credits: 2 });
    // Ack run-0, take run-1 without acking, then die.
    const taken = await take(first, 2, (batch) => batch.header.batchId === "run-0");
    expect(taken.map((batch) => batch.header.batchId)).toEqual(["run-0", "run-1"]);
    // The loop's break closed the stream cleanly; the ack of run-0 went out before it.
    await expect.poll(() => farm.spool.isAcked("run-0")).toBe(true);
    const second = client(farm.address).pull({ credits: 1 });
    const rest = await take(second, 3);
    // run-1 was taken and not acked; run-2 and run-3 had been prefetched (credits) and come
    // back too. run-0 was acked and never comes back.
    expect(rest.map((batch) => batch.header.batchId)).toEqual(["run-1", "run-2", "run-3"]);
    expect(rest[0]!.header.attempt).toBe(2);
    await farm.server.drained();
    const status = await client(farm.address).status();
    expect(status.redeliveredBatches).toBe(rest.filter((batch) => batch.header.attempt > 1).length);
    expect(status.ackedBatches).toBe(4);
  });

  it("takes back batches in flight when a client drops without a goodbye", async () => {
    const farm = await startFarm();
    for (let group = 0; group < 2; group++) await farm.server.commit(trainingGroup(group));
    const dying = client(farm.address).pull({ credits: 2 });
    const first = await dying.next();
    expect(first!.header).toMatchObject({ batchId: "run-0", attempt: 1 });
    // Like a crashed trainer: the stream is cut, no ack, no half-close.
    dying.abandon();
    const rest = await take(client(farm.address).pull({ credits: 1 }), 2);
    expect(rest.map((batch) => batch.header.batchId)).toEqual(["run-0", "run-1"]);
    expect(rest[0]!.header.attempt).toBe(2);
    // run-1 may or may not have gone out (prefetch) before the cut.
    expect([1, 2]).toContain(rest[1]!.header.attempt);
    await farm.server.drained();
    expect(farm.spool.pending()).toEqual([]);
  });

  it("takes back a batch whose sending was cut off by the client leaving", async () => {
    const farm = await startFarm();
    // Large batches in small chunks, so the second is still going out when the client leaves.
    for (let group = 0; group < 3; group++)
      await farm.server.commit(trainingGroup(group, { tokens: 400_000 }));
    const leaving = client(farm.address).pull({ credits: 2, maxChunkBytes: 16 * 1024 });
    const first = await leaving.next();
    first!.ack();
    leaving.close();
    await leaving.finished;
    const rest = await take(client(farm.address).pull({ credits: 1 }), 2);
    expect(rest.map((batch) => batch.header.batchId)).toEqual(["run-1", "run-2"]);
    await farm.server.drained();
  });

  it("tells the client when the farm goes away, and refuses an ack that can no longer arrive", async () => {
    const farm = await startFarm();
    await farm.server.commit(trainingGroup(1));
    await farm.server.commit(trainingGroup(2));
    const stream = client(farm.address).pull({ credits: 1 });
    const batch = await stream.next();
    const drained = expect(farm.server.drained()).rejects.toThrow(
      /the bridge closed with batches pending/,
    );
    await farm.server.close();
    await drained;
    await expect(stream.finished).rejects.toMatchObject({
      code: GrpcStatus.UNAVAILABLE,
      message: matching(/the farm is shutting down/),
    });
    expect(() => batch!.ack()).toThrow(/cannot ack run-0: its stream is closed/);
    expect(farm.spool.pending()).toHaveLength(2);
  });

  it("redelivers a batch whose ack does not come within ackTimeoutMs, to another rank", async () => {
    const farm = await startFarm({ ackTimeoutMs: 300 });
    await farm.server.commit(trainingGroup(1));
    const slow = client(farm.address).pull({ credits: 1 });
    const held = await slow.next();
    expect(held!.header.attempt).toBe(1);
    const other = client(farm.address).pull({ credits: 1, trainerId: "other" });
    const again = await other.next();
    expect(again!.header).toMatchObject({ batchId: "run-0", attempt: 2 });
    again!.ack();
    await farm.server.drained();
    // The late ack of the first delivery is harmless.
    held!.ack();
    expect((await client(farm.address).status()).ackedBatches).toBe(1);
    slow.close();
  });

  it("work-queue delivery gives each batch to one rank; sharded gives rank r the sequences r mod w", async () => {
    const queue = await startFarm({}, "wq");
    for (let group = 0; group < 6; group++) await queue.server.commit(trainingGroup(group));
    const a = client(queue.address).pull({ credits: 1, rank: 0, worldSize: 2 });
    const b = client(queue.address).pull({ credits: 1, rank: 1, worldSize: 2 });
    const seen: string[] = [];
    const drain = async (stream: typeof a) => {
      for await (const batch of stream) {
        seen.push(batch.header.batchId);
        batch.ack();
        if (seen.length === 6) break;
      }
    };
    const streams = [drain(a), drain(b)];
    await queue.server.drained();
    a.close();
    b.close();
    await Promise.all(streams);
    expect(seen.sort()).toEqual(["wq-0", "wq-1", "wq-2", "wq-3", "wq-4", "wq-5"]);

    const sharded = await startFarm({ delivery: "sharded" }, "sh");
    for (let group = 0; group < 6; group++) await sharded.server.commit(trainingGroup(group));
    const rank1 = client(sharded.address).pull({ credits: 3, rank: 1, worldSize: 2 });
    expect((await take(rank1, 3)).map((batch) => batch.header.batchId)).toEqual([
      "sh-1",
      "sh-3",
      "sh-5",
    ]);
    const rank0 = client(sharded.address).pull({ credits: 3, rank: 0, worldSize: 2 });
    const zero = [await rank0.next(), await rank0.next(), await rank0.next()];
    expect(zero.map((batch) => batch!.header.batchId)).toEqual(["sh-0", "sh-2", "sh-4"]);
    // Every batch holds whole groups.
    for (const batch of zero) expect(new Set(batch!.rows().map((row) => row.groupId)).size).toBe(1);
    // While rank 0 of 2 is connected, a rank claiming another world size is refused.
    const wrongWorld = client(sharded.address).pull({ rank: 0, worldSize: 3 });
    await expect(wrongWorld.next()).rejects.toThrow(/world_size 3 disagrees with rank/);
    rank0.close();
    const badRank = client(sharded.address).pull({ rank: 2, worldSize: 2 });
    await expect(badRank.next()).rejects.toThrow(/rank 2 is not below world_size 2/);
  });

  it("refuses calls without the bearer token with UNAUTHENTICATED", async () => {
    const farm = await startFarm({ token: TOKEN });
    await farm.server.commit(trainingGroup(1));
    const anonymous = client(farm.address);
    await expect(anonymous.status()).rejects.toMatchObject({ code: GrpcStatus.UNAUTHENTICATED });
    await expect(anonymous.pull().next()).rejects.toMatchObject({
      code: GrpcStatus.UNAUTHENTICATED,
      message: matching(/needs `authorization: Bearer <token>`/),
    });
    const wrong = client(farm.address, { token: "not-the-token-0123456789" });
    await expect(wrong.pull().next()).rejects.toThrow(BridgeCallError);
    await expect(wrong.beginPolicyUpdate(1)).rejects.toMatchObject({
      code: GrpcStatus.UNAUTHENTICATED,
    });
    // Nothing was delivered to them; the right token gets the batch.
    const [batch] = await take(client(farm.address, { token: TOKEN }).pull(), 1);
    expect(batch!.header.attempt).toBe(1);
    expect(() => new BridgeServer({ spool: farm.spool, token: "short" })).toThrow(
      /at least 16 characters/,
    );
  });

  it("answers the standard health check without a token (for probes)", async () => {
    const farm = await startFarm({ token: TOKEN });
    const identity = (bytes: Buffer) => bytes;
    const Health = makeGenericClientConstructor(
      {
        check: {
          path: "/grpc.health.v1.Health/Check",
          requestStream: false,
          responseStream: false,
          requestSerialize: identity,
          requestDeserialize: identity,
          responseSerialize: identity,
          responseDeserialize: identity,
        },
      },
      "grpc.health.v1.Health",
    );
    const health = new Health(farm.address, credentials.createInsecure()) as unknown as {
      check(request: Buffer, callback: (error: Error | null, reply: Buffer) => void): void;
      close(): void;
    };
    cleanups.push(() => health.close());
    // HealthCheckRequest{service: ""} is empty; the reply is HealthCheckResponse{status: SERVING (1)}.
    const reply = await new Promise<Buffer>((resolve, reject) =>
      health.check(Buffer.alloc(0), (error, bytes) => (error ? reject(error) : resolve(bytes))),
    );
    expect([...reply]).toEqual([0x08, 0x01]);
  });

  it("speaks TLS, and with a client CA refuses clients without a certificate", async () => {
    const certs = await mkdtemp(join(tmpdir(), "sandfarm-tls-"));
    cleanups.push(() => rm(certs, { recursive: true, force: true }));
    const openssl = (...args: string[]) =>
      execFileSync("openssl", args, { cwd: certs, stdio: "pipe" });
    openssl(
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "2",
      "-subj",
      "/CN=sandfarm-test-ca",
      "-keyout",
      "ca.key",
      "-out",
      "ca.pem",
    );
    for (const name of ["server", "client"]) {
      openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        `/CN=${name === "server" ? "localhost" : "trainer"}`,
        "-keyout",
        `${name}.key`,
        "-out",
        `${name}.csr`,
      );
      await import("node:fs/promises").then((fs) =>
        fs.writeFile(join(certs, "ext.cnf"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n"),
      );
      openssl(
        "x509",
        "-req",
        "-in",
        `${name}.csr`,
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
        "-out",
        `${name}.pem`,
      );
    }
    const pem = (name: string) => readFile(join(certs, name));
    const farm = await startFarm({
      tls: {
        cert: await pem("server.pem"),
        key: await pem("server.key"),
        clientCa: await pem("ca.pem"),
      },
    });
    await farm.server.commit(trainingGroup(1));
    const trusted = client(farm.address, {
      tls: {
        ca: await pem("ca.pem"),
        cert: await pem("client.pem"),
        key: await pem("client.key"),
        serverName: "localhost",
      },
    });
    const [batch] = await take(trusted.pull(), 1);
    expect(batch!.header.batchId).toBe("run-0");
    const noCertificate = client(farm.address, {
      tls: { ca: await pem("ca.pem"), serverName: "localhost" },
    });
    await expect(noCertificate.status()).rejects.toMatchObject({ code: GrpcStatus.UNAVAILABLE });
    const plaintext = client(farm.address);
    await expect(plaintext.status()).rejects.toMatchObject({ code: GrpcStatus.UNAVAILABLE });
  });

  it("reports backpressure above the high watermark until the queue falls below the low one", async () => {
    // 4 rows of 64 tokens per group: 256 tokens per batch.
    const farm = await startFarm({ watermarks: { highTokens: 600, lowTokens: 300 } });
    const states: boolean[] = [];
    for (let group = 0; group < 4; group++) {
      await farm.server.commit(trainingGroup(group));
      states.push(farm.server.backpressure);
    }
    expect(states).toEqual([false, false, true, true]);
    const stream = client(farm.address).pull({ credits: 1 });
    const after: boolean[] = [];
    for (let index = 0; index < 4; index++) {
      const batch = await stream.next();
      batch!.ack();
      await expect.poll(() => farm.spool.isAcked(batch!.header.batchId)).toBe(true);
      after.push(farm.server.backpressure);
    }
    // 768 tokens queued (on), 512 (on: above the low mark), 256 (off), 0 (off).
    expect(after).toEqual([true, true, false, false]);
    expect(farm.server.queued()).toEqual({ batches: 0, rows: 0, tokens: 0 });
  });

  it("closes a stream that does not start with Hello, or sends none in time", async () => {
    const farm = await startFarm({ helloTimeoutMs: 200 });
    const raw = (
      client(farm.address) as unknown as {
        client: { pull(metadata: Metadata): ClientDuplexStream<unknown, unknown> };
      }
    ).client;
    const silent = raw.pull(new Metadata());
    const silentError = new Promise((resolve) => silent.on("error", resolve));
    await expect(silentError).resolves.toMatchObject({
      code: GrpcStatus.INVALID_ARGUMENT,
      details: "no Hello within 200 ms",
    });
    const rude = raw.pull(new Metadata());
    const rudeError = new Promise((resolve) => rude.on("error", resolve));
    rude.write({ kind: { $case: "ack", value: { batchId: "run-0", metrics: {} } } });
    await expect(rudeError).resolves.toMatchObject({
      code: GrpcStatus.INVALID_ARGUMENT,
      details: "the first message of a Pull stream must be Hello",
    });
  });

  it(
    "delivers a 512 MiB batch in chunks under the default message limit",
    { timeout: 180_000 },
    async () => {
      const farm = await startFarm();
      // 8 rows of 16.8M tokens: 13 bytes per token (ids, mask, logprobs, versions) = 512 MiB + metadata.
      const tokens = Math.ceil((512 * 1024 * 1024) / 13 / 8);
      const rows = Array.from({ length: 8 }, (_, index) => {
        const row = trainingRow(`huge-${index}`, "g-huge", index, { tokens: 1, promptLength: 0 });
        row.tokenIds = new Int32Array(tokens).fill(index + 1);
        row.lossMask = new Uint8Array(tokens);
        row.logprobs = new Float32Array(tokens);
        row.versions = new Int32Array(tokens).fill(-1);
        row.tokenIds[tokens - 1] = 99;
        return row;
      });
      const committed = await farm.server.commit(rows);
      expect(committed.byteLength).toBeGreaterThan(512 * 1024 * 1024);
      const [batch] = await take(client(farm.address).pull({ credits: 1 }), 1);
      expect(batch!.header.chunks).toBeGreaterThanOrEqual(512);
      expect(batch!.chunks.every((chunk) => chunk.byteLength <= 1024 * 1024)).toBe(true);
      expect(batch!.bytes.byteLength).toBe(committed.byteLength);
      const back = batch!.rows();
      expect(back).toHaveLength(8);
      expect(back[7]!.tokenIds.length).toBe(tokens);
      expect(back[7]!.tokenIds[0]).toBe(8);
      expect(back[7]!.tokenIds[tokens - 1]).toBe(99);
      await farm.server.drained();
    },
  );
});
