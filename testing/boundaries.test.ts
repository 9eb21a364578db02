import { rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Files that each cross one boundary of docs/architecture.md, planted for one lint run. */
const PLANTED: Record<string, string> = {
  "rewards/planted-boundary.ts": 'export { SANDFARM_VERSION } from "../orchestrator/version.js";\n',
  "orchestrator/farm/planted-boundary.ts": 'export type { EvalReport } from "../eval/report.js";\n',
  "orchestrator/policy/planted-boundary.ts":
    'export type { Sandbox } from "../sandbox/types.js";\n',
  "orchestrator/agent/planted-boundary.ts":
    'export { startVllmStub } from "../../testing/vllm-stub/index.js";\n',
};

describe("npm run lint holds the design's boundaries", () => {
  it("fails on a planted violation of each kind, and passes the real tree's files", async () => {
    for (const [path, text] of Object.entries(PLANTED)) writeFileSync(`${ROOT}${path}`, text);
    try {
      const eslint = new ESLint({ cwd: ROOT });
      const results = await eslint.lintFiles([
        ...Object.keys(PLANTED),
        "orchestrator/farm/farm.ts",
        "orchestrator/eval/run-eval.ts",
        "orchestrator/policy/doctor.ts",
      ]);
      const violations = Object.fromEntries(
        results.map((result) => [
          result.filePath.slice(ROOT.length),
          result.messages
            .filter((message) => message.ruleId === "import-x/no-restricted-paths")
            .map((message) => message.message),
        ]),
      );
      expect(violations["rewards/planted-boundary.ts"]).toEqual([
        expect.stringContaining("they never import the orchestrator"),
      ]);
      expect(violations["orchestrator/farm/planted-boundary.ts"]).toEqual([
        expect.stringContaining("farm and eval share launch/, never each other"),
      ]);
      expect(violations["orchestrator/policy/planted-boundary.ts"]).toEqual([
        expect.stringContaining("policy and sandbox never import each other"),
      ]);
      expect(violations["orchestrator/agent/planted-boundary.ts"]).toEqual([
        expect.stringContaining("product code never imports test support"),
      ]);
      expect(violations["orchestrator/farm/farm.ts"]).toEqual([]);
      expect(violations["orchestrator/eval/run-eval.ts"]).toEqual([]);
      expect(violations["orchestrator/policy/doctor.ts"]).toEqual([]);
    } finally {
      for (const path of Object.keys(PLANTED)) rmSync(`${ROOT}${path}`, { force: true });
    }
  }, 180_000);
});
