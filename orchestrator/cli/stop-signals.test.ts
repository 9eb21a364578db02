import { describe, expect, it } from "vitest";
import { onStopSignals } from "./stop-signals.js";

const listeners = () => [process.listenerCount("SIGINT"), process.listenerCount("SIGTERM")];

describe("onStopSignals", () => {
  it("winds down on the first Ctrl-C, stops on the second, and removes what is left", () => {
    const before = listeners();
    const calls: string[] = [];
    const release = onStopSignals({
      interrupt: () => void calls.push("drain"),
      interruptAgain: () => calls.push("cancel"),
      terminate: () => calls.push("terminate"),
    });
    process.emit("SIGINT");
    process.emit("SIGINT");
    release();
    expect(calls).toEqual(["drain", "cancel"]);
    expect(listeners()).toEqual(before);
  });

  it("leaves the second Ctrl-C to Node when the first says there is nothing more to stop", () => {
    const before = listeners();
    const release = onStopSignals({
      interrupt: () => false,
      interruptAgain: () => {
        throw new Error("not armed");
      },
      terminate: () => {},
    });
    process.emit("SIGINT");
    expect(listeners()).toEqual([before[0], before[1]! + 1]);
    release();
    expect(listeners()).toEqual(before);
  });

  it("stops on SIGTERM", () => {
    const calls: string[] = [];
    const release = onStopSignals({ interrupt: () => {}, terminate: () => calls.push("cancel") });
    process.emit("SIGTERM");
    release();
    expect(calls).toEqual(["cancel"]);
  });
});
