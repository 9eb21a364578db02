import { describe, expect, it } from "vitest";
import { capChars, cleanTerminalText, clipStreams, cutLines } from "./observation.js";

describe("cleanTerminalText", () => {
  it("removes colour, cursor and title escapes", () => {
    expect(cleanTerminalText("\x1b[1;31mred\x1b[0m \x1b[2Kok \x1b]0;title\x07done")).toBe(
      "red ok done",
    );
  });
  it("turns CRLF into LF and keeps only what a progress bar finally shows", () => {
    expect(cleanTerminalText("a\r\nb\r\n")).toBe("a\nb\n");
    expect(cleanTerminalText(" 10%\r 50%\r100%\ndone\n")).toBe("100%\ndone\n");
    expect(cleanTerminalText("last\r\n")).toBe("last\n");
    expect(cleanTerminalText("tail\r")).toBe("tail");
  });
});

describe("cutLines", () => {
  const numbered = (count: number): string =>
    Array.from({ length: count }, (_, index) => `line ${index + 1}`).join("\n") + "\n";
  it("leaves 80 lines alone", () => {
    expect(cutLines(numbered(80), 40, 40)).toBe(numbered(80));
  });
  it("keeps the first 40 and last 40 of 81 lines with a marker", () => {
    const lines = cutLines(numbered(81), 40, 40).split("\n");
    expect(lines[39]).toBe("line 40");
    expect(lines[40]).toBe("[... 1 lines omitted ...]");
    expect(lines[41]).toBe("line 42");
    expect(lines.at(-2)).toBe("line 81");
    expect(lines).toHaveLength(82);
  });
});

describe("capChars", () => {
  it("cuts one huge line in the middle", () => {
    const text = "a".repeat(50) + "b".repeat(50);
    expect(capChars(text, 10)).toBe("aaaaa\n[... 90 characters omitted ...]\nbbbbb");
    expect(capChars("short", 10)).toBe("short");
  });
});

describe("clipStreams", () => {
  it("never lets a 1 MB single line reach the model whole", () => {
    const { stdout } = clipStreams("x".repeat(1_000_000), "");
    expect(stdout.length).toBeLessThan(16_100);
    expect(stdout).toContain("[... 984000 characters omitted ...]");
  });
  it("gives an empty stream's budget to the other", () => {
    const { stdout, stderr } = clipStreams("y".repeat(15_000), "");
    expect(stdout).toBe("y".repeat(15_000));
    expect(stderr).toBe("");
  });
  it("splits the budget when both streams are large", () => {
    const { stdout, stderr } = clipStreams("o".repeat(20_000), "e".repeat(20_000));
    expect(stdout).toContain("[... 12000 characters omitted ...]");
    expect(stderr).toContain("[... 12000 characters omitted ...]");
  });
});
