/**
 * `npm run bench -- bridge [--quick]`: the trainer bridge's throughput, with batches of 64 rows
 * x 64K tokens (docs/architecture.md, "TrainingRow"; ~54.5 MB of Arrow IPC each).
 * - Arrow encode: IPC bytes produced per second by `encodeBatch` (zero-copy chunks), against
 *   apache-arrow's own `tableToIPC` of the same rows built with its builders, in the same run.
 * - Spool commit: encode + SHA-256 + write + fsync, bytes per second.
 * - Delivery: committed batches pulled over loopback gRPC by a trainer process (the TypeScript
 *   client, SHA-256 checked), each acked, until the farm has recorded every ack: IPC MB/s and
 *   rows/s. Beside it, the same machine's grpc-js ceiling: a bare stream of 1 MiB messages.
 * - The baseline: the same rows as JSON over HTTP (what most RL stacks ship), rows/s.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { Server, ServerCredentials, type ServerDuplexStream } from "@grpc/grpc-js";
import {
  Field,
  Float32,
  Int32,
  List,
  makeData,
  makeVector,
  Table,
  tableToIPC,
  Uint8,
  vectorFromArray,
} from "apache-arrow";
import { encodeBatch } from "../trainer-bridge/arrow.js";
import type { PullResponse } from "../trainer-bridge/generated/sandfarm/v1/bridge.js";
import { BridgeServer } from "../trainer-bridge/server.js";
import { Spool } from "../trainer-bridge/spool.js";
import type { TrainingRow } from "../trainer-bridge/training-row.js";
import { BRIDGE_SERVICE, BULK_CHANNEL_OPTIONS } from "../trainer-bridge/wire.js";
import { writeResults } from "./report.js";

const ROWS = 64;
const TOKENS = 65_536;
const TRAINER = fileURLToPath(new URL("./bridge-trainer.ts", import.meta.url));

/** 64 rows of 64K tokens with their own arrays; `batch` only renames them. */
function makeRows(): TrainingRow[] {
  return Array.from({ length: ROWS }, (_, index) => {
    const tokenIds = new Int32Array(TOKENS);
    const lossMask = new Uint8Array(TOKENS);
    const logprobs = new Float32Array(TOKENS);
    const versions = new Int32Array(TOKENS).fill(-1);
    for (let position = 0; position < TOKENS; position++) {
      tokenIds[position] = (index * 7919 + position * 31) % 151_000;
      if (position >= 2048 && position % 16 < 12) {
        lossMask[position] = 1;
        logprobs[position] = -((position % 50) + 1) / 25;
        versions[position] = 3;
      }
    }
    return {
      sampleId: `r${index}#0`,
      rolloutId: `r${index}`,
      groupId: `g${index >> 3}`,
      taskId: `t${index >> 3}`,
      domain: "math",
      mode: "sandbox",
      rowIndex: 0,
      rowsInRollout: 1,
      tokenIds,
      lossMask,
      logprobs,
      versions,
      promptLength: 2048,
      reward: index % 2,
      advantage: (index % 2) - 0.5,
      stopReason: "submitted",
      numTurns: 12,
      trainable: true,
    };
  });
}

function batch(rows: TrainingRow[], number: number): TrainingRow[] {
  return rows.map((row) => ({
    ...row,
    sampleId: `b${number}-${row.rolloutId}#0`,
    rolloutId: `b${number}-${row.rolloutId}`,
    groupId: `b${number}-${row.groupId}`,
  }));
}

/**
 * The careful way without sandfarm's zero-copy writer: each list column copied into one
 * contiguous array, then apache-arrow's `tableToIPC` into one buffer.
 */
function tableToIpcBaseline(rows: TrainingRow[]): Uint8Array {
  const offsets = new Int32Array(rows.length + 1);
  rows.forEach((row, index) => (offsets[index + 1] = offsets[index]! + row.tokenIds.length));
  const list = <T extends Int32Array | Uint8Array | Float32Array>(
    pick: (row: TrainingRow) => T,
    make: (length: number) => T,
  ) => {
    const values = make(offsets[rows.length]!);
    rows.forEach((row, index) => values.set(pick(row), offsets[index]));
    return values;
  };
  const child = (type: Int32 | Uint8 | Float32, data: Int32Array | Uint8Array | Float32Array) =>
    makeData({
      type: new List(new Field("item", type, false)),
      length: rows.length,
      valueOffsets: offsets,
      child: makeData({ type: type as Int32, length: data.length, data: data as Int32Array }),
    });
  const columns = {
    sample_id: vectorFromArray(rows.map((row) => row.sampleId)),
    token_ids: makeVector(
      child(
        new Int32(),
        list(
          (row) => row.tokenIds,
          (n) => new Int32Array(n),
        ),
      ),
    ),
    loss_mask: makeVector(
      child(
        new Uint8(),
        list(
          (row) => row.lossMask,
          (n) => new Uint8Array(n),
        ),
      ),
    ),
    logprobs: makeVector(
      child(
        new Float32(),
        list(
          (row) => row.logprobs,
          (n) => new Float32Array(n),
        ),
      ),
    ),
    versions: makeVector(
      child(
        new Int32(),
        list(
          (row) => row.versions,
          (n) => new Int32Array(n),
        ),
      ),
    ),
    reward: makeVector(Float32Array.from(rows.map((row) => row.reward))),
  };
  return tableToIPC(new Table(columns), "file");
}

async function trainer(
  args: string[],
): Promise<{ bytes: number; rows: number; seconds: number; cpuSeconds: number }> {
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", TRAINER, ...args], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const [line] = (await once(createInterface({ input: child.stdout! }), "line")) as [string];
  await once(child, "exit");
  return JSON.parse(line) as { bytes: number; rows: number; seconds: number; cpuSeconds: number };
}

const mb = (bytes: number, seconds: number) => Math.round(bytes / 1e6 / seconds);

export async function runBridgeBenchmark(quick: boolean): Promise<void> {
  const rows = makeRows();
  const encodes = quick ? 10 : 40;
  const deliveries = quick ? 6 : 20;
  const jsonBatches = quick ? 1 : 3;

  // Arrow encode, against apache-arrow's own path. One untimed run of each warms them up.
  encodeBatch(batch(rows, -1));
  tableToIpcBaseline(batch(rows, -1));
  let produced = 0;
  let started = performance.now();
  for (let index = 0; index < encodes; index++)
    produced += encodeBatch(batch(rows, index)).byteLength;
  const encodeMbS = mb(produced, (performance.now() - started) / 1000);
  let baselineBytes = 0;
  const baselineRuns = quick ? 4 : 10;
  started = performance.now();
  for (let index = 0; index < baselineRuns; index++)
    baselineBytes += tableToIpcBaseline(batch(rows, index)).byteLength;
  const baselineEncodeMbS = mb(baselineBytes, (performance.now() - started) / 1000);

  // Spool commits, then delivery to a trainer process.
  const dir = await mkdtemp(join(tmpdir(), "sandfarm-bench-bridge-"));
  const spool = await Spool.open(dir, { runId: "bench" });
  const server = new BridgeServer({ spool });
  const port = await server.listen("127.0.0.1:0");
  let committedBytes = 0;
  started = performance.now();
  for (let index = 0; index < 2 * deliveries; index++)
    committedBytes += (await server.commit(batch(rows, index))).byteLength;
  const commitMbS = mb(committedBytes, (performance.now() - started) / 1000);
  const serverCpu = process.cpuUsage();
  const pulled = await trainer(["grpc", `127.0.0.1:${port}`, String(deliveries)]);
  const farmCpu = process.cpuUsage(serverCpu);
  const unverified = await trainer(["grpc", `127.0.0.1:${port}`, String(deliveries), "noverify"]);
  await server.drained();
  const lost = spool.pending().length;
  await server.close();
  await spool.close();
  await rm(dir, { recursive: true, force: true });

  // The transport's ceiling: grpc-js alone, the same amount in 1 MiB messages.
  const raw = new Server(BULK_CHANNEL_OPTIONS);
  const piece = Buffer.alloc(1024 * 1024, 7);
  raw.addService(BRIDGE_SERVICE, {
    pull: (call: ServerDuplexStream<unknown, PullResponse>) => {
      call.once("data", () => {
        void (async () => {
          for (let sent = 0; sent < committedBytes; sent += piece.length) {
            const message: PullResponse = {
              kind: { $case: "chunk", value: { batchId: "raw", index: 0, data: piece } },
            };
            if (!call.write(message)) await once(call, "drain");
          }
          call.end();
        })();
      });
    },
  });
  const rawPort = await new Promise<number>((resolve, reject) =>
    raw.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  const ceiling = await trainer(["raw", `127.0.0.1:${rawPort}`]);
  raw.forceShutdown();

  // The baseline: JSON over HTTP, rows serialised per request.
  const http = createServer((request, response) => {
    const number = Number(request.url?.split("/").pop() ?? 0);
    const body = JSON.stringify(
      batch(rows, number).map((row) => ({
        ...row,
        tokenIds: Array.from(row.tokenIds),
        lossMask: Array.from(row.lossMask),
        logprobs: Array.from(row.logprobs),
        versions: Array.from(row.versions),
      })),
    );
    response.writeHead(200, { "content-type": "application/json" }).end(body);
  });
  http.listen(0, "127.0.0.1");
  await once(http, "listening");
  const json = await trainer([
    "json",
    `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    String(jsonBatches),
  ]);
  http.close();

  const deliveryMbS = mb(pulled.bytes, pulled.seconds);
  const rowsPerS = Math.round(pulled.rows / pulled.seconds);
  const jsonRowsPerS = Math.round((json.rows / json.seconds) * 10) / 10;
  const ceilingMbS = mb(ceiling.bytes, ceiling.seconds);
  writeResults(
    "bridge",
    [
      [
        `Arrow encode MB/s (${ROWS} rows x ${TOKENS} tokens, ${encodes} batches)`,
        String(encodeMbS),
      ],
      ["  baseline: contiguous copy + apache-arrow tableToIPC", String(baselineEncodeMbS)],
      ["spool commit MB/s (encode, SHA-256, write, fsync)", String(commitMbS)],
      [`gRPC delivery MB/s (${deliveries} batches, trainer process, acked)`, String(deliveryMbS)],
      ["gRPC delivery rows/s", String(rowsPerS)],
      [
        "  farm CPU s / trainer CPU s",
        `${(farmCpu.user / 1e6 + farmCpu.system / 1e6).toFixed(2)} / ${pulled.cpuSeconds.toFixed(2)}`,
      ],
      [
        "  the same without the client's SHA-256 check, MB/s",
        String(mb(unverified.bytes, unverified.seconds)),
      ],
      ["  grpc-js alone here, 1 MiB messages, MB/s", String(ceilingMbS)],
      [`JSON over HTTP rows/s (${jsonBatches} batches)`, String(jsonRowsPerS)],
      ["gRPC rows/s over JSON rows/s", `${Math.round(rowsPerS / jsonRowsPerS)}x`],
      ["batches not acknowledged at the end", String(lost)],
    ],
    {
      arrow_encode_mb_s: encodeMbS,
      arrow_encode_baseline_mb_s: baselineEncodeMbS,
      spool_commit_mb_s: commitMbS,
      grpc_delivery_mb_s: deliveryMbS,
      grpc_rows_per_s: rowsPerS,
      grpc_delivery_unverified_mb_s: mb(unverified.bytes, unverified.seconds),
      grpc_js_ceiling_mb_s: ceilingMbS,
      json_http_rows_per_s: jsonRowsPerS,
      lost_batches: lost,
    },
  );
}
