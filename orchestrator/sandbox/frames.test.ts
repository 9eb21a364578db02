import { describe, expect, it } from "vitest";
import { dockerStreamReader, helperFrameReader, parseStatus } from "./frames.js";

function helperFrame(tag: string, payload: string): Buffer {
  const body = Buffer.from(payload);
  const header = Buffer.alloc(5);
  header.write(tag, 0, "latin1");
  header.writeUInt32BE(body.length, 1);
  return Buffer.concat([header, body]);
}

describe("frame readers", () => {
  it("reassembles helper frames split at every byte boundary", () => {
    const bytes = Buffer.concat([
      helperFrame("o", "héllo"),
      helperFrame("e", ""),
      helperFrame("x", "exit=3"),
    ]);
    const seen: string[] = [];
    const reader = helperFrameReader((tag, payload) =>
      seen.push(`${String.fromCharCode(tag)}:${payload.toString()}`),
    );
    for (const byte of bytes) reader.push(Buffer.from([byte]));
    expect(seen).toEqual(["o:héllo", "e:", "x:exit=3"]);
    expect(reader.leftover).toBe(0);
  });
  it("demultiplexes Docker's 8-byte headers and keeps a partial frame pending", () => {
    const frame = Buffer.concat([
      Buffer.from([2, 0, 0, 0, 0, 0, 0, 3]),
      Buffer.from("err"),
      Buffer.from([1, 0, 0]),
    ]);
    const seen: [number, string][] = [];
    const reader = dockerStreamReader((type, payload) => seen.push([type, payload.toString()]));
    reader.push(frame);
    expect(seen).toEqual([[2, "err"]]);
    expect(reader.leftover).toBe(3);
  });
  it("parses the helper's status line", () => {
    const status = parseStatus(Buffer.from("exit=137 signal=9 timedOut=1 oomBefore=-1"));
    expect(Object.fromEntries(status)).toEqual({
      exit: 137,
      signal: 9,
      timedOut: 1,
      oomBefore: -1,
    });
  });
});
