/**
 * The Markdown renderings of an eval report and of a comparison: the tables a person reads in a
 * terminal, a pull request or a notebook. Scores are percentages with one decimal, gains signed
 * percentage points, tokens whole numbers per rollout.
 *
 * @example
 * process.stdout.write(scoreTable(report));
 * writeFileSync("report.md", renderReportMarkdown(report));
 */
import { CAPABILITIES } from "../agent/capabilities.js";
import type { Comparison } from "./compare.js";
import { percentText, signedPoints } from "./format.js";
import type { EvalReport, ExampleRollout, Mode, ModeSummary, RequestSummary } from "./report.js";

const MODE_NAMES: Record<Mode, string> = { sandbox: "sandbox", llm: "LLM" };

export const percent = (value: number | null | undefined): string => percentText(value) ?? "-";

export const points = (value: number | null | undefined): string => signedPoints(value, "-") ?? "-";

const whole = (value: number | null | undefined): string =>
  value === null || value === undefined ? "-" : Math.round(value).toLocaleString("en-US");

const ratioText = (value: number | null | undefined): string =>
  value === null || value === undefined ? "-" : `${value.toFixed(2)}x`;

/** Escapes what would break a table cell. */
const cell = (text: string): string => text.replace(/\|/g, "\\|").replace(/\n/g, " ");

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n") + "\n";
}

const scoreCell = (summary: ModeSummary | undefined): string =>
  summary && summary.n > 0 ? percent(summary.score) : "-";

/** Per domain: each mode's score and n, the gain, and pass@k of sandbox mode when repeats allow. */
export function scoreTable(report: EvalReport): string {
  const modes = report.modes;
  // Every k any domain or the whole run has (repeats can differ per domain).
  const ks = [
    ...new Set(
      [report.overall, ...Object.values(report.domains)].flatMap((entry) =>
        modes.flatMap((mode) => Object.keys(entry[mode]?.passAtK ?? {})),
      ),
    ),
  ]
    .filter((k) => k !== "1")
    .sort((a, b) => Number(a) - Number(b));
  const header = [
    "domain",
    ...modes.map((mode) => `${MODE_NAMES[mode]} score`),
    ...(modes.length === 2 ? ["gain"] : []),
    "n",
    ...modes.flatMap((mode) => ks.map((k) => `${MODE_NAMES[mode]} pass@${k}`)),
  ];
  const rows = Object.entries(report.domains).map(([domain, entry]) => [
    cell(domain),
    ...modes.map((mode) => scoreCell(entry[mode])),
    ...(modes.length === 2 ? [points(entry.gain)] : []),
    modes.map((mode) => String(entry[mode]?.n ?? 0)).join(" / "),
    ...modes.flatMap((mode) => ks.map((k) => percent(entry[mode]?.passAtK[k]))),
  ]);
  rows.push([
    "**overall**",
    ...modes.map((mode) => `**${scoreCell(report.overall[mode])}**`),
    ...(modes.length === 2 ? [`**${points(report.overall.gain)}**`] : []),
    modes.map((mode) => String(report.overall[mode]?.n ?? 0)).join(" / "),
    ...modes.flatMap((mode) => ks.map((k) => percent(report.overall[mode]?.passAtK[k]))),
  ]);
  return table(header, rows);
}

function capabilityTable(report: EvalReport): string {
  const rows = Object.entries(report.capability_usage).map(([domain, usage]) => [
    domain === "overall" ? "**overall**" : cell(domain),
    String(usage.turns),
    ...CAPABILITIES.map((capability) => percent(usage[capability])),
  ]);
  return table(["domain", "turns", "computation", "external resources", "file management"], rows);
}

function tokenTable(report: EvalReport): string {
  const modes = report.modes;
  const header = [
    "domain",
    ...modes.flatMap((mode) => [`${MODE_NAMES[mode]} prompt`, `${MODE_NAMES[mode]} completion`]),
    ...(modes.length === 2 ? ["sandbox / LLM (total)"] : []),
  ];
  const rows = Object.entries(report.tokens.byDomain).map(([domain, tokens]) => {
    return [
      cell(domain),
      ...modes.flatMap((mode) => [
        whole(tokens[mode]?.perRollout.prompt),
        whole(tokens[mode]?.perRollout.completion),
      ]),
      ...(modes.length === 2 ? [ratioText(tokens.ratio?.total)] : []),
    ];
  });
  rows.push([
    "**all**",
    ...modes.flatMap((mode) => [
      whole(report.tokens[mode]?.perRollout.prompt),
      whole(report.tokens[mode]?.perRollout.completion),
    ]),
    ...(modes.length === 2 ? [ratioText(report.tokens.ratio?.total)] : []),
  ]);
  return table(header, rows);
}

function turnsTable(report: EvalReport): string {
  const rows = report.modes.map((mode) => {
    const summary = report.overall[mode];
    const stops = Object.entries(report.stop_reasons[mode] ?? {})
      .map(([reason, count]) => `${reason} ${count}`)
      .join(", ");
    return [
      MODE_NAMES[mode],
      String(report.rollouts[mode] ?? 0),
      String(summary?.failed ?? 0),
      summary ? summary.turns.mean.toFixed(1) : "-",
      summary ? String(summary.turns.max) : "-",
      stops || "-",
    ];
  });
  return table(["mode", "rollouts", "failed", "mean turns", "max turns", "stop reasons"], rows);
}

/** The first line of a tool input, short enough for a list item. */
function firstLine(text: string): string {
  const [line = ""] = text.split("\n");
  const short = line.length > 120 ? `${line.slice(0, 120)}…` : line;
  return text.includes("\n") ? `${short} …` : short;
}

function sampleRollout(domain: string, example: ExampleRollout): string {
  const turns = example.turns.map((turn, index) => {
    const tags = turn.capabilities.length > 0 ? ` (${turn.capabilities.join(", ")})` : "";
    const input = turn.input ? `: \`${firstLine(turn.input).replace(/`/g, "'")}\`` : "";
    return `${index + 1}. ${cell(turn.tool ?? "no tool call")}${input}${tags}`;
  });
  return `**${cell(domain)}**: \`${cell(example.taskId).replace(/`/g, "'")}\`, reward ${example.reward}, ${example.stopReason}\n\n${turns.join("\n")}\n`;
}

export function renderReportMarkdown(report: EvalReport): string {
  const parts: string[] = [`# sandfarm eval: ${report.runId}\n`];
  for (const note of report.notes) parts.push(`> **Note.** ${note}\n`);
  const facts = [
    `- Policy: ${report.policy ? `\`${report.policy.model}\` at ${report.policy.urls.join(", ")}` : "-"}`,
    `- Modes: ${report.modes.map((mode) => MODE_NAMES[mode]).join(", ")}; created ${report.createdAt}`,
    ...(report.sandfarm
      ? [`- sandfarm ${report.sandfarm.version} (git ${report.sandfarm.git.slice(0, 12)})`]
      : []),
    ...(report.sandbox
      ? [
          `- Sandbox: ${Object.entries(report.sandbox)
            .map(([key, value]) => `${key} \`${key === "id" ? value.slice(0, 19) : value}\``)
            .join(", ")}`,
        ]
      : []),
    ...(report.engines
      ? [
          `- Sandbox engines: ${report.engines.engines
            .map(
              (engine) =>
                `${engine.name} (${engine.healthy ? "healthy" : "ejected"}, ${engine.ejections} ejection(s), capacity ${engine.capacity})`,
            )
            .join(", ")}; ${report.engines.rerun} rollout(s) run again after an engine loss`,
        ]
      : []),
    ...report.taskFiles.map(
      (entry) =>
        `- Tasks: \`${entry.file}\` (${entry.tasks} tasks, sha256 ${entry.sha256.slice(0, 12)})`,
    ),
    ...(report.scoring
      ? [
          `- Scoring: ${
            report.scoring.judge
              ? `LLM judge \`${report.scoring.judge}\` for ${
                  Object.entries(report.scoring.routes)
                    .filter(([, scorer]) => scorer === "judge")
                    .map(([domain]) => domain)
                    .join(", ") || "none"
                }`
              : "no LLM judge (open-ended answers: math equivalence, else ROUGE-L)"
          }`,
        ]
      : []),
    ...generationFacts(report),
  ];
  parts.push(`${facts.join("\n")}\n`);
  if (report.skippedRows && report.skippedRows.length > 0)
    parts.push(
      `## Skipped task rows (${report.skippedRows.length}, onBadRow: skip)\n\n` +
        `${report.skippedRows.map((row) => `- ${row}`).join("\n")}\n`,
    );
  parts.push(`## Scores by domain (%)\n\n${scoreTable(report)}`);
  if (Object.keys(report.capability_usage).length > 0)
    parts.push(`## Capability usage (sandbox mode, % of turns)\n\n${capabilityTable(report)}`);
  parts.push(`## Tokens per rollout\n\n${tokenTable(report)}`);
  parts.push(`## Turns and stop reasons\n\n${turnsTable(report)}`);
  if (report.requests && Object.keys(report.requests).length > 0)
    parts.push(`## Requests to the policy server\n\n${requestTable(report)}`);
  const examples = Object.entries(report.examples ?? {});
  if (examples.length > 0)
    parts.push(
      `## Sample rollouts (sandbox mode)\n\nPer domain, its best-rewarded rollout's tool calls (report.json and report.html have their outputs).\n\n${examples
        .map(([domain, example]) => sampleRollout(domain, example))
        .join("\n")}`,
    );
  parts.push(
    [
      "## Definitions\n",
      "- **score**: mean reward of the scored rollouts, in %. Rollouts lost to infrastructure failures are counted as failed and not scored.",
      "- **gain**: sandbox score minus LLM score, in percentage points.",
      "- **pass@k**: the unbiased estimator over each task's repeats (a success is reward 1), averaged over the tasks with at least k scored repeats (how many: `passAtKTasks` in report.json).",
      "- **overall**: over all rollouts; the macro mean of domain scores is in report.json (`overall.<mode>.macroScore`).",
      "- **capability usage**: share of sandbox-mode turns whose tool call used the capability (a turn may use several).",
      "- **tokens**: the server's usage summed over every call of a rollout (prompt counts the conversation again on each call, before prefix caching), per rollout.",
      "",
    ].join("\n"),
  );
  return parts.join("\n");
}

export function renderCompareMarkdown(comparison: Comparison): string {
  const runs = comparison.runs;
  const name = (index: number) =>
    `${runs[index]!.runId}${runs[index]!.model ? ` (${runs[index]!.model})` : ""}`;
  const parts = [`# sandfarm compare\n`];
  parts.push(
    runs
      .map(
        (run, index) =>
          `- run ${index + 1}: \`${cell(run.dir)}\` ${cell(name(index))}` +
          run.notes.map((note) => `\n  - note: ${cell(note)}`).join(""),
      )
      .join("\n") + "\n",
  );
  const header = [
    "domain",
    "mode",
    ...runs.map((_, index) => `run ${index + 1}`),
    ...runs.slice(1).map((_, index) => `run ${index + 2} - run 1`),
  ];
  const rows = comparison.rows.map((row) => [
    row.domain === "overall" ? "**overall**" : cell(row.domain),
    MODE_NAMES[row.mode],
    ...row.scores.map((score) => percent(score)),
    ...row.deltas.slice(1).map((delta) => points(delta)),
  ]);
  parts.push(`## Scores (%) and differences from run 1 (points)\n\n${table(header, rows)}`);
  if (comparison.gains.some((row) => row.gains.some((gain) => gain !== null)))
    parts.push(
      `## Sandbox gain over LLM mode (points)\n\n${table(
        ["domain", ...runs.map((_, index) => `run ${index + 1}`)],
        comparison.gains.map((row) => [
          row.domain === "overall" ? "**overall**" : cell(row.domain),
          ...row.gains.map((gain) => points(gain)),
        ]),
      )}`,
    );
  for (const warning of comparison.differentTasks)
    parts.push(`> **Not the same tasks:** ${warning}; compare per-domain figures with care.\n`);
  if (comparison.partial.length > 0)
    parts.push(
      `Not every run evaluated: ${comparison.partial.join(", ")} (a \`-\` is a gap, not a zero).\n`,
    );
  return parts.join("\n");
}

/** Model calls against the requests they took: 1 chat request per call is the target. */
function requestTable(report: EvalReport): string {
  const rows = report.modes
    .map((mode) => [mode, report.requests?.[mode]] as const)
    .filter((entry): entry is [Mode, RequestSummary] => entry[1] !== undefined)
    .map(
      ([mode, summary]) =>
        `| ${MODE_NAMES[mode]} | ${summary.calls} | ${summary.chat} | ${summary.chatPerCall.toFixed(2)} | ` +
        `${summary.overflowRetries} | ${summary.tokenize} |`,
    );
  return (
    "| mode | model calls | chat requests | per call | overflow retries | /tokenize requests |\n" +
    "| --- | --- | --- | --- | --- | --- |\n" +
    `${rows.join("\n")}\n`
  );
}

/** What the calls were sent (sampling per mode, template switches) and the fitted limits. */
function generationFacts(report: EvalReport): string[] {
  const generation = report.generation;
  if (!generation) return [];
  const sampling = Object.entries(generation.sampling)
    .map(([mode, keys]) => {
      const set = Object.keys(keys ?? {}).length > 0 ? `\`${JSON.stringify(keys)}\`` : "none set";
      return `${MODE_NAMES[mode as Mode]} ${set}`;
    })
    .join("; ");
  const lines = [`- Sampling: ${sampling} (unset keys not sent: the model's generation config)`];
  if (generation.chatTemplateKwargs)
    lines.push(`- Chat template: \`${JSON.stringify(generation.chatTemplateKwargs)}\``);
  const endpoint = generation.endpoint;
  if (endpoint)
    lines.push(
      `- Context: ${endpoint.contextTokens} tokens (${endpoint.contextSource === "server" ? "served" : endpoint.contextSource}); ` +
        `maxTotalTokens ${endpoint.maxTotalTokens}, maxTokensPerCall ${endpoint.maxTokensPerCall}`,
    );
  return lines;
}
