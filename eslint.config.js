// Lint rules that catch the bugs that lose rollouts (floating and misused promises, import
// cycles, value imports used only as types), and the design's boundaries: the parts and the
// arrows allowed between them (docs/architecture.md, "Parts and arrows") in executable form.
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import { importX } from "eslint-plugin-import-x";
import { createTypeScriptImportResolver } from "eslint-import-resolver-typescript";

const ORCHESTRATOR_PARTS = [
  "agent",
  "cli",
  "config",
  "eval",
  "farm",
  "launch",
  "log",
  "policy",
  "report",
  "sandbox",
  "tools",
  "util",
];
const part = (name) => `./orchestrator/${name}`;
const partsExcept = (...allowed) =>
  ORCHESTRATOR_PARTS.filter((name) => !allowed.includes(name)).map(part);

/** Each zone: files under `target` may not import from `from`. */
const BOUNDARIES = [
  {
    target: "./common",
    from: ["./orchestrator", "./rewards", "./datasets", "./trainer-bridge", "./testing", "./bench"],
    message: "common/ is the root every folder imports; it imports none of them.",
  },
  {
    target: ["./rewards", "./datasets", "./trainer-bridge"],
    from: ["./orchestrator", "./testing", "./bench"],
    message: "rewards, datasets and trainer-bridge are leaves: they never import the orchestrator.",
  },
  {
    target: "./rewards",
    from: "./datasets",
    message: "rewards takes its own input type (rewards/types.ts), not a dataset's Task.",
  },
  {
    target: "./trainer-bridge",
    from: ["./rewards", "./datasets"],
    message: "trainer-bridge knows TrainingRow and batches only.",
  },
  {
    target: "./orchestrator",
    from: ["./testing", "./bench"],
    message: "product code never imports test support or benchmarks.",
  },
  {
    target: part("farm"),
    from: part("eval"),
    message: "farm and eval share launch/, never each other.",
  },
  {
    target: part("eval"),
    from: part("farm"),
    message: "farm and eval share launch/, never each other.",
  },
  {
    target: part("policy"),
    from: part("sandbox"),
    message: "policy and sandbox never import each other.",
  },
  {
    target: part("sandbox"),
    from: part("policy"),
    message: "policy and sandbox never import each other.",
  },
  {
    target: partsExcept("cli"),
    from: part("cli"),
    message: "only the CLI imports the CLI.",
  },
  {
    target: partsExcept("cli", "farm", "eval"),
    from: [part("farm"), part("eval")],
    message: "farm and eval are used by the CLI alone.",
  },
  {
    target: partsExcept("cli", "farm", "eval", "launch"),
    from: part("launch"),
    message: "launch/ is what commands build from a config; lower parts do not reach up to it.",
  },
  {
    target: [
      part("sandbox"),
      part("tools"),
      part("policy"),
      part("config"),
      part("report"),
      part("util"),
    ],
    from: part("agent"),
    message: "the agent runs episodes over policy, tools and sandbox; they do not know it.",
  },
  {
    target: part("sandbox"),
    from: part("tools"),
    message: "tools use the sandbox, not the reverse.",
  },
  {
    target: part("config"),
    from: [part("policy"), part("tools")],
    message: "config/ holds schemas and defaults that policy and tools read; it reads neither.",
  },
  {
    target: [part("util"), part("report"), part("log")],
    from: partsExcept("util", "report", "log").concat(
      "./rewards",
      "./datasets",
      "./trainer-bridge",
    ),
    message: "util/, report/ and log/ are generic kits: they import no part of sandfarm.",
  },
];

export default tseslint.config(
  {
    ignores: [
      "dist/**",
      "node_modules/**",
      "bench/results/**",
      "trainer-bridge/generated/**",
      "eslint.config.js",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  importX.flatConfigs.typescript,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    settings: {
      "import-x/resolver-next": [createTypeScriptImportResolver({ project: "./tsconfig.json" })],
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", ignoreRestSiblings: true },
      ],
      "import-x/no-cycle": ["error", { ignoreExternal: true }],
    },
  },
  {
    // Tests and test support may reach across parts to set up what they check.
    files: ["**/*.ts"],
    ignores: ["**/*.test.ts", "testing/**", "bench/**", "**/fixtures/**"],
    rules: { "import-x/no-restricted-paths": ["error", { zones: BOUNDARIES }] },
  },
);
