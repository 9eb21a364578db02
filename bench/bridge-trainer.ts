/**
 * The trainer side of `npm run bench -- bridge`, run as its own process (a trainer is one):
 * - `grpc ADDRESS COUNT [noverify]`: pulls COUNT batches with the TypeScript client (SHA-256
 *   checked, as by default, unless `noverify`), acks each, waits until the farm recorded them;
 * - `json URL COUNT`: fetches COUNT batches as JSON over HTTP and parses them (the baseline);
 * - `raw ADDRESS`: reads a plain grpc-js stream of 1 MiB messages to its end (the transport's
 *   ceiling on this machine).
 * Prints one JSON line: bytes, rows, seconds, cpuSeconds.
 */
import { credentials } from "@grpc/grpc-js";
import { BridgeClient } from "../trainer-bridge/client.js";
import { TrainerBridgeClient } from "../trainer-bridge/generated/sandfarm/v1/bridge.js";
import { BULK_CHANNEL_OPTIONS } from "../trainer-bridge/wire.js";

const [mode, target, countText, verify] = process.argv.slice(2);
const count = Number(countText ?? 0);
const started = performance.now();
const cpu = process.cpuUsage();
let bytes = 0;
let rows = 0;

if (mode === "grpc") {
  const client = new BridgeClient({ address: target! });
  const stream = client.pull({ credits: 2, verify: verify !== "noverify" });
  let taken = 0;
  for await (const batch of stream) {
    bytes += batch.header.ipcBytes;
    rows += batch.header.rows;
    batch.ack();
    if (++taken === count) break;
  }
  await stream.finished;
  client.close();
} else if (mode === "json") {
  for (let index = 0; index < count; index++) {
    const response = await fetch(`${target}/batch/${index}`);
    const text = await response.text();
    bytes += Buffer.byteLength(text);
    rows += (JSON.parse(text) as unknown[]).length;
  }
} else if (mode === "raw") {
  const client = new TrainerBridgeClient(
    target!,
    credentials.createInsecure(),
    BULK_CHANNEL_OPTIONS,
  );
  const stream = client.pull();
  stream.on("data", (message: { kind?: { $case: string; value: { data: Buffer } } }) => {
    if (message.kind?.$case === "chunk") bytes += message.kind.value.data.length;
  });
  stream.write({
    kind: {
      $case: "hello",
      value: { rank: 0, worldSize: 1, credits: 1, trainerId: "raw", maxChunkBytes: 0 },
    },
  });
  await new Promise((resolve) => stream.on("end", resolve));
  client.close();
} else {
  throw new Error(`unknown mode ${mode}`);
}
const used = process.cpuUsage(cpu);
process.stdout.write(
  `${JSON.stringify({ bytes, rows, seconds: (performance.now() - started) / 1000, cpuSeconds: (used.user + used.system) / 1e6 })}\n`,
);
