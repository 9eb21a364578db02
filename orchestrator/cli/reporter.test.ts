import { afterEach, describe, expect, it, vi } from "vitest";
import { createReporter } from "./reporter.js";

function fakeStream(isTTY: boolean) {
  const writes: string[] = [];
  return {
    writes,
    stream: { isTTY, write: (text: string) => writes.push(text) > 0 },
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("createReporter", () => {
  it("prints lines above the status line on a TTY, erasing and redrawing it", () => {
    const { writes, stream } = fakeStream(true);
    const reporter = createReporter(stream);
    reporter.line("sandfarm train: starting");
    reporter.status("step 0 | v0");
    reporter.line("sandfarm train: step 0: reward 0.500");
    reporter.clear();
    reporter.line("sandfarm train: finished");
    expect(writes.join("")).toBe(
      "sandfarm train: starting\n" +
        "\r\x1b[2Kstep 0 | v0" +
        "\r\x1b[2Ksandfarm train: step 0: reward 0.500\nstep 0 | v0" +
        "\r\x1b[2K" +
        "sandfarm train: finished\n",
    );
  });

  it("redraws from the ticker until cleared, and can leave the last status as a line", () => {
    vi.useFakeTimers();
    const { writes, stream } = fakeStream(true);
    const reporter = createReporter(stream);
    let step = 0;
    reporter.tick(() => `step ${++step}`);
    vi.advanceTimersByTime(1000);
    reporter.keep();
    vi.advanceTimersByTime(1000);
    expect(writes.join("")).toBe("\r\x1b[2Kstep 1\r\x1b[2Kstep 2\n");
  });

  it("shows no status line off a TTY", () => {
    vi.useFakeTimers();
    const { writes, stream } = fakeStream(false);
    const reporter = createReporter(stream);
    reporter.tick(() => "never");
    reporter.status("never");
    vi.advanceTimersByTime(1000);
    reporter.line("sandfarm eval: 1/2 rollouts");
    reporter.keep();
    reporter.clear();
    expect(writes).toEqual(["sandfarm eval: 1/2 rollouts\n"]);
  });
});
