import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sandfarm } from "../../testing/cli.js";
import { type RunningVllmStub, startVllmStub } from "../../testing/vllm-stub/index.js";

const bash = (command: string) => ({
  name: "execute_bash",
  arguments: JSON.stringify({ command }),
});
let stub: RunningVllmStub;

beforeAll(async () => {
  stub = await startVllmStub({
    scripts: {
      report: [
        {
          toolCalls: [
            bash(
              "mkdir -p /testbed/output/plots && wc -l < /testbed/documents/data/values.csv > /testbed/output/plots/count.txt",
            ),
          ],
        },
        { toolCalls: [bash("printf 'three rows' > /testbed/answer.txt")] },
        { toolCalls: [{ name: "submit", arguments: "{}" }] },
      ],
      plain: [{ content: "Thinking done.\nAnswer: forty-two" }],
    },
  });
});
afterAll(() => stub.close());

describe("sandfarm run", () => {
  it("runs one task: documents in, answer last on stdout, trajectory and outputs written", async () => {
    const input = mkdtempSync(join(tmpdir(), "sandfarm-run-in-"));
    const output = mkdtempSync(join(tmpdir(), "sandfarm-run-out-"));
    writeFileSync(join(input, "notes.txt"), "see the data folder\n");
    mkdirSync(join(input, "data"));
    writeFileSync(join(input, "data", "values.csv"), "a\nb\nc\n");
    const run = await sandfarm(
      "run",
      "--query",
      "[script:report] How many rows does values.csv have?",
      "--input-dir",
      input,
      "--policy-url",
      stub.baseURL,
      "--model",
      "stub-model",
      "--output-dir",
      output,
    );
    expect(run.code).toBe(0);
    expect(run.stdout.trimEnd().split("\n").at(-1)).toBe("three rows");
    expect(run.stderr).toContain("sandfarm run: submitted after 3 call(s), 3 turn(s)");
    expect(readFileSync(join(output, "output", "plots", "count.txt"), "utf8")).toBe("3\n");
    const trajectory = JSON.parse(readFileSync(join(output, "trajectory.json"), "utf8")) as Record<
      string,
      unknown
    >;
    expect(trajectory).toMatchObject({
      schemaVersion: 1,
      mode: "sandbox",
      stopReason: "submitted",
      answer: "three rows",
    });
    expect(JSON.stringify(trajectory.messages)).toContain("/testbed/documents/data/values.csv");
  });

  it("runs in plain LLM mode, and names a missing policy", async () => {
    const output = mkdtempSync(join(tmpdir(), "sandfarm-run-out-"));
    const plain = await sandfarm(
      "run",
      "--query",
      "[script:plain] 6*7?",
      "--mode",
      "llm",
      "--policy-url",
      stub.baseURL,
      "--model",
      "stub-model",
      "--output-dir",
      output,
    );
    expect(plain.code).toBe(0);
    expect(plain.stdout.trimEnd().split("\n").at(-1)).toBe("Answer: forty-two");
    const missing = await sandfarm("run", "--query", "hi");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(
      "give the policy: --policy-url http://HOST:PORT/v1 and --model NAME",
    );
  });
});
