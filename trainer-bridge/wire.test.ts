import { describe, expect, it } from "vitest";
import { PullResponse } from "./generated/sandfarm/v1/bridge.js";
import { decodePullResponse, encodeChunkResponse, wireChunks } from "./wire.js";

describe("the Pull stream's bulk (de)serializers", () => {
  const chunks = [
    { batchId: "run-0", index: 0, data: Buffer.from([1, 2, 3]) },
    { batchId: "run-12", index: 300, data: Buffer.alloc(200_000, 7) },
    { batchId: "", index: 5, data: Buffer.alloc(0) },
    { batchId: "räksmörgås-1", index: 2 ** 31, data: Buffer.from("x") },
  ];

  it("encodes a chunk byte for byte as the generated encoder does", () => {
    for (const chunk of chunks) {
      const generated = Buffer.from(
        PullResponse.encode({ kind: { $case: "chunk", value: chunk } }).finish(),
      );
      expect(encodeChunkResponse(chunk).equals(generated)).toBe(true);
    }
  });

  it("decodes chunks to views and everything else as the generated decoder does", () => {
    for (const chunk of chunks) {
      const wire = encodeChunkResponse(chunk);
      const decoded = decodePullResponse(wire);
      expect(decoded).toEqual(PullResponse.decode(wire));
      if (chunk.data.length > 0 && decoded.kind?.$case === "chunk")
        expect(decoded.kind.value.data.buffer).toBe(wire.buffer);
    }
    const header = Buffer.from(
      PullResponse.encode({
        kind: {
          $case: "header",
          value: {
            batchId: "run-1",
            sequence: 1,
            minPolicyVersion: -1,
            maxPolicyVersion: 2,
            rows: 3,
            groups: 1,
            tokens: 40,
            trainedTokens: 20,
            ipcBytes: 999,
            chunks: 2,
            sha256: "ab",
            attempt: 1,
            metrics: { reward_mean: 0.5 },
          },
        },
      }).finish(),
    );
    expect(decodePullResponse(header)).toEqual(PullResponse.decode(header));
  });

  it("slices an IPC file into chunks under the limit whose concatenation is the file", () => {
    const pieces = [
      Buffer.alloc(8, 1),
      Buffer.alloc(300_000, 2),
      Buffer.alloc(10, 3),
      Buffer.alloc(20, 4),
      Buffer.alloc(70_000, 5),
      Buffer.alloc(5, 6),
    ];
    const out = wireChunks(pieces, 100_000);
    expect(Buffer.concat(out).equals(Buffer.concat(pieces))).toBe(true);
    expect(Math.max(...out.map((chunk) => chunk.byteLength))).toBeLessThanOrEqual(100_000);
    // The large pieces go out as views of themselves; small neighbours are gathered.
    expect(out.map((chunk) => chunk.byteLength)).toEqual([
      8, 100_000, 100_000, 100_000, 30, 70_000, 5,
    ]);
    expect(out[1]!.buffer).toBe(pieces[1]!.buffer);
  });
});
