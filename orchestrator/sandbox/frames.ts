/**
 * Parsers for the two framings an exec's bytes pass through: Docker's multiplexed attach stream
 * (8-byte headers: stream type, 3 zero bytes, big-endian u32 length) and, inside its stdout, the
 * exec helper's own frames (tag byte, big-endian u32 length, payload).
 */

type FrameHandler = (tag: number, payload: Buffer) => void;

/** Incremental parser of `header + payload` frames; feed it chunks as they arrive. */
class FrameReader {
  private pending: Buffer = Buffer.alloc(0);

  constructor(
    private readonly headerBytes: number,
    private readonly onFrame: FrameHandler,
  ) {}

  push(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    let offset = 0;
    while (this.pending.length - offset >= this.headerBytes) {
      const length = this.pending.readUInt32BE(offset + this.headerBytes - 4);
      const end = offset + this.headerBytes + length;
      if (this.pending.length < end) break;
      this.onFrame(this.pending[offset]!, this.pending.subarray(offset + this.headerBytes, end));
      offset = end;
    }
    this.pending = offset === this.pending.length ? Buffer.alloc(0) : this.pending.subarray(offset);
  }

  /** Bytes received that did not complete a frame (a writer killed mid-frame). */
  get leftover(): number {
    return this.pending.length;
  }
}

/** Docker's attach multiplexing: stream type 1 = stdout, 2 = stderr. */
export function dockerStreamReader(onFrame: FrameHandler): FrameReader {
  return new FrameReader(8, onFrame);
}

/** The exec helper's framing: `o`, `e`, `x` tags (see exec-helper.ts). */
export function helperFrameReader(onFrame: FrameHandler): FrameReader {
  return new FrameReader(5, onFrame);
}

export const TAG_STDOUT = "o".charCodeAt(0);
export const TAG_STDERR = "e".charCodeAt(0);
export const TAG_STATUS = "x".charCodeAt(0);

/** Parses the helper's `key=value key=value` status line into numbers. */
export function parseStatus(payload: Buffer): Map<string, number> {
  const fields = new Map<string, number>();
  for (const pair of payload.toString("latin1").trim().split(/\s+/)) {
    const eq = pair.indexOf("=");
    if (eq > 0) fields.set(pair.slice(0, eq), Number(pair.slice(eq + 1)));
  }
  return fields;
}
