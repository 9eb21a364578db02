/**
 * A minimal PNG decoder for checking screenshots: 8-bit RGB or RGBA, not interlaced, every
 * filter type, chunk CRCs verified. Pixels come back as RGBA whatever the source had.
 *
 * @example
 * const image = decodePng(readFileSync("shot.png"));
 * const [r, g, b] = pixelAt(image, 10, 20);
 */
import { crc32, inflateSync } from "node:zlib";

export interface DecodedPng {
  width: number;
  height: number;
  /** Row-major RGBA, 4 bytes per pixel. */
  pixels: Uint8Array;
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const CHANNELS: Record<number, number> = { 2: 3, 6: 4 };

function paeth(left: number, up: number, upLeft: number): number {
  const estimate = left + up - upLeft;
  const toLeft = Math.abs(estimate - left);
  const toUp = Math.abs(estimate - up);
  const toUpLeft = Math.abs(estimate - upLeft);
  if (toLeft <= toUp && toLeft <= toUpLeft) return left;
  return toUp <= toUpLeft ? up : upLeft;
}

export function decodePng(data: Uint8Array): DecodedPng {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (bytes.length < 8 || !bytes.subarray(0, 8).equals(SIGNATURE))
    throw new Error("png: not a PNG file (bad signature)");
  let width = 0;
  let height = 0;
  let channels = 0;
  const compressed: Buffer[] = [];
  let offset = 8;
  let ended = false;
  while (offset + 12 <= bytes.length && !ended) {
    const length = bytes.readUInt32BE(offset);
    const type = bytes.toString("latin1", offset + 4, offset + 8);
    const end = offset + 8 + length;
    if (end + 4 > bytes.length) throw new Error(`png: chunk ${type} runs past the end of the file`);
    const body = bytes.subarray(offset + 8, end);
    if (crc32(bytes.subarray(offset + 4, end)) !== bytes.readUInt32BE(end))
      throw new Error(`png: chunk ${type} has a bad CRC`);
    if (type === "IHDR") {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      const [bitDepth, colorType, , , interlace] = body.subarray(8, 13);
      channels = CHANNELS[colorType!] ?? 0;
      if (bitDepth !== 8 || channels === 0)
        throw new Error(
          `png: only 8-bit RGB or RGBA is supported, got bit depth ${bitDepth} color type ${colorType}`,
        );
      if (interlace !== 0) throw new Error("png: interlaced images are not supported");
    } else if (type === "IDAT") compressed.push(body);
    else if (type === "IEND") ended = true;
    offset = end + 4;
  }
  if (channels === 0) throw new Error("png: no IHDR chunk");
  if (!ended) throw new Error("png: no IEND chunk (truncated file?)");
  const raw = inflateSync(Buffer.concat(compressed));
  const stride = width * channels;
  if (raw.length !== height * (stride + 1))
    throw new Error(`png: image data is ${raw.length} bytes, expected ${height * (stride + 1)}`);

  const rows = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const source = y * (stride + 1) + 1;
    const row = y * stride;
    const previous = row - stride;
    for (let x = 0; x < stride; x++) {
      const value = raw[source + x]!;
      const left = x >= channels ? rows[row + x - channels]! : 0;
      const up = y > 0 ? rows[previous + x]! : 0;
      const upLeft = y > 0 && x >= channels ? rows[previous + x - channels]! : 0;
      let predicted: number;
      switch (filter) {
        case 0:
          predicted = 0;
          break;
        case 1:
          predicted = left;
          break;
        case 2:
          predicted = up;
          break;
        case 3:
          predicted = (left + up) >> 1;
          break;
        case 4:
          predicted = paeth(left, up, upLeft);
          break;
        default:
          throw new Error(`png: row ${y} has unknown filter type ${filter}`);
      }
      rows[row + x] = (value + predicted) & 0xff;
    }
  }
  if (channels === 4) return { width, height, pixels: rows };
  const pixels = new Uint8Array(width * height * 4);
  for (let index = 0, out = 0; index < rows.length; index += 3, out += 4) {
    pixels[out] = rows[index]!;
    pixels[out + 1] = rows[index + 1]!;
    pixels[out + 2] = rows[index + 2]!;
    pixels[out + 3] = 255;
  }
  return { width, height, pixels };
}

/** [r, g, b, a] of one pixel. */
export function pixelAt(image: DecodedPng, x: number, y: number): [number, number, number, number] {
  if (x < 0 || y < 0 || x >= image.width || y >= image.height)
    throw new RangeError(`pixel (${x}, ${y}) is outside ${image.width}x${image.height}`);
  const at = (y * image.width + x) * 4;
  const { pixels } = image;
  return [pixels[at]!, pixels[at + 1]!, pixels[at + 2]!, pixels[at + 3]!];
}

/** Pixels within `tolerance` (per channel) of the color "#rrggbb". */
export function countColor(image: DecodedPng, hex: string, tolerance = 0): number {
  const match = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!match) throw new Error(`countColor: ${hex} is not #rrggbb`);
  const [red, green, blue] = match.slice(1).map((part) => parseInt(part, 16)) as [
    number,
    number,
    number,
  ];
  let count = 0;
  const { pixels } = image;
  for (let at = 0; at < pixels.length; at += 4) {
    if (
      Math.abs(pixels[at]! - red) <= tolerance &&
      Math.abs(pixels[at + 1]! - green) <= tolerance &&
      Math.abs(pixels[at + 2]! - blue) <= tolerance
    )
      count++;
  }
  return count;
}
