import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crc32, deflateSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CAPABILITIES } from "../agent/capabilities.js";
import { renderedDom, screenshotPage } from "../../testing/chromium.js";
import { fixtureRecord, fixtureRecords, fixtureReport } from "../../testing/eval-fixtures.js";
import { countColor, decodePng, pixelAt } from "../../testing/png.js";
import { type Comparison, compareReports } from "./compare.js";
import { RUN_COLORS, renderCompareHtml } from "./compare-html.js";
import { MODE_COLORS, renderReportHtml } from "./report-html.js";
import { type EvalReport, type Mode, computeReport } from "./report.js";

/** One element of the rendered DOM: its tag, decoded attributes and inner markup. */
interface Element {
  tag: string;
  attributes: Record<string, string>;
  inner: string;
}

const ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  "#39": "'",
  nbsp: "\u00a0",
};

function decode(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39|nbsp);/g, (_, name: string) => ENTITIES[name]!);
}

/** Elements of one tag in Chromium's serialization (attributes double-quoted, always closed). */
function elements(markup: string, tag: string): Element[] {
  const found: Element[] = [];
  for (const match of markup.matchAll(new RegExp(`<${tag}\\b([^>]*)>([\\s\\S]*?)</${tag}>`, "g"))) {
    const attributes: Record<string, string> = {};
    for (const [, name, value] of match[1]!.matchAll(/([\w:-]+)="([^"]*)"/g))
      attributes[name!] = decode(value!);
    found.push({ tag, attributes, inner: match[2]! });
  }
  return found;
}

/** The figures by chart name, each with its SVG's attributes and its own markup. */
function figures(dom: string): Map<string, { svg: Record<string, string>; markup: string }> {
  const byChart = new Map<string, { svg: Record<string, string>; markup: string }>();
  for (const figure of elements(dom, "figure")) {
    const svg = elements(figure.inner, "svg")[0];
    expect(svg, `figure ${figure.attributes["data-chart"]} has an svg`).toBeDefined();
    byChart.set(figure.attributes["data-chart"]!, {
      svg: svg!.attributes,
      markup: figure.inner,
    });
  }
  return byChart;
}

/** Bars of a chart: rects carrying data-value, keyed by what they show. */
function bars(markup: string, chart: string, key: (attributes: Record<string, string>) => string) {
  const byKey = new Map<string, Record<string, string>>();
  for (const rect of elements(markup, "rect")) {
    if (rect.attributes["data-value"] === undefined) continue;
    expect(rect.attributes["data-chart"]).toBe(chart);
    const name = key(rect.attributes);
    expect(byKey.has(name), `one bar for ${name}`).toBe(false);
    byKey.set(name, rect.attributes);
  }
  return byKey;
}

const num = (text: string | undefined) => Number(text);

/** Where the scale puts a value, as a fraction of its length (the renderer's rule, restated). */
function onScale(svg: Record<string, string>, value: number): number {
  const max = num(svg["data-scale-max"]);
  if (svg["data-scale"] === "linear") return value / max;
  const min = num(svg["data-scale-min"]);
  return value <= min
    ? 0
    : (Math.log10(value) - Math.log10(min)) / (Math.log10(max) - Math.log10(min));
}

function domainsWithOverall(report: EvalReport): string[] {
  return [...Object.keys(report.domains), "overall"];
}

function summaryOf(report: EvalReport, domain: string, mode: Mode) {
  return domain === "overall" ? report.overall[mode] : report.domains[domain]?.[mode];
}

const MODES: Mode[] = ["sandbox", "llm"];

/** Gains and deltas as the page writes them: signed percentage points, one decimal. */
function pointsText(value: number): string {
  const text = Math.abs(value * 100).toFixed(1);
  return value > 0 ? `+${text}` : value < 0 ? `\u2212${text}` : "0.0";
}

/** Nothing a browser would fetch: text from the report is escaped, so every "<" opens a tag. */
function assertOffline(html: string): void {
  for (const [tag] of html.matchAll(/<[a-z][^>]*>/gi)) {
    expect(tag).not.toMatch(/^<(?:script|link|img|iframe|object|embed|base|image|use)\b/i);
    expect(tag).not.toMatch(/\s(?:src|href|xlink:href|action|srcset|poster)\s*=/i);
    expect(tag).not.toMatch(/url\s*\(|https?:/i);
  }
  const styles = elements(html, "style").map((style) => style.inner);
  expect(styles).toHaveLength(1);
  expect(styles[0]).not.toMatch(/@import|url\s*\(|https?:/i);
  expect(html).toContain("default-src 'none'");
}

function assertGeometryIsFinite(html: string): void {
  expect(html).not.toMatch(/NaN|Infinity|undefined/);
  for (const [, name, value] of html.matchAll(/\s(x|y|x1|x2|y1|y2|width|height)="([^"]*)"/g)) {
    expect(Number.isFinite(Number(value)), `${name}="${value}"`).toBe(true);
    if (name === "width" || name === "height") expect(Number(value)).toBeGreaterThanOrEqual(0);
  }
  for (const [, box] of html.matchAll(/viewBox="([^"]*)"/g))
    expect(box!.split(" ").every((part) => Number.isFinite(Number(part)))).toBe(true);
}

function assertSeriesPainted(
  png: Buffer,
  size: { width: number; height: number },
  colors: string[],
) {
  const image = decodePng(png);
  expect([image.width, image.height]).toEqual([size.width, size.height]);
  for (const color of colors)
    expect(countColor(image, color, 2), `pixels of ${color}`).toBeGreaterThan(1500);
}

const SCRIPT = "<script>alert(1)</script>";

/**
 * The fixture run with sample rollouts worth reading: chem-1 (the chemistry example) gets a
 * hostile question, a bash call printing a script tag, a failed editor call with a hostile tool
 * name and a 300-character unbroken line, and a turn without a tool call; math-1 an unbroken
 * 400-character output.
 */
function reportWithSamples(): EvalReport {
  const records = fixtureRecords();
  for (const record of records) {
    if (record.mode !== "sandbox" || record.repeat !== 0) continue;
    if (record.task.id === "chem-1") {
      record.task.question = "Which is bigger: <b>a</b> & b?\nAnswer with a number.";
      const [bash, editor, none] = record.episode.turns;
      bash!.toolCall!.arguments = JSON.stringify({
        command: `pip install rdkit && python3 -c "print('${SCRIPT} & ok')"`,
      });
      bash!.observation = `Collecting rdkit\nSuccessfully installed rdkit\n${SCRIPT} & ok`;
      editor!.toolCall = {
        id: "call-1",
        name: 'str_replace<b>"editor',
        arguments: JSON.stringify({
          path: "/testbed/mol.py",
          old: "x < 2 && y",
          new: "x".repeat(300),
        }),
      };
      editor!.observation = "Traceback (most recent call last):\nKeyError: 'path' & <module>";
      editor!.isError = true;
      delete none!.toolCall;
      none!.observation = "";
      none!.isError = true;
    }
    if (record.task.id === "math-1") record.episode.turns[1]!.observation = "0123456789".repeat(40);
  }
  return fixtureReport({}, records);
}

describe("eval report HTML, rendered by Chromium", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "sandfarm-report-html-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("draws every score, capability and token bar with the report's number, to scale", async () => {
    const report = fixtureReport();
    const html = renderReportHtml(report);
    assertOffline(html);
    assertGeometryIsFinite(html);
    const path = join(dir, "report.html");
    writeFileSync(path, html);
    const dom = await renderedDom(path);
    const charts = figures(dom);
    expect([...charts.keys()]).toEqual(["score", "capability", "tokens"]);
    for (const figure of elements(dom, "figure"))
      expect(elements(figure.inner, "figcaption")).toHaveLength(1);

    // Scores: a bar per domain x mode with scored rollouts, none where there are none.
    const score = charts.get("score")!;
    const scoreBars = bars(score.markup, "score", (a) => `${a["data-domain"]}/${a["data-mode"]}`);
    const expectedScores = new Map<string, number>();
    for (const domain of domainsWithOverall(report))
      for (const mode of MODES) {
        const summary = summaryOf(report, domain, mode);
        if (summary && summary.n > 0) expectedScores.set(`${domain}/${mode}`, summary.score);
      }
    expect(new Map([...scoreBars].map(([key, a]) => [key, num(a["data-value"])]))).toEqual(
      expectedScores,
    );
    expect(scoreBars.has("software/llm")).toBe(false);
    const origin = num(score.svg["data-scale-origin"]);
    const length = num(score.svg["data-scale-length"]);
    expect(score.svg["data-scale-max"]).toBe("1");
    for (const [key, bar] of scoreBars) {
      expect(num(bar.x), key).toBe(origin);
      expect(num(bar.width), key).toBeCloseTo(expectedScores.get(key)! * length, 1);
      expect(bar.fill).toBe(MODE_COLORS[bar["data-mode"] as Mode].solid);
    }
    // math: sandbox 0.75 vs LLM 0.25, so the sandbox bar is three times as long.
    expect(
      num(scoreBars.get("math/sandbox")!.width) / num(scoreBars.get("math/llm")!.width),
    ).toBeCloseTo(3, 2);

    // Gains: one label per row, the report's number and its points text.
    const gains = elements(score.markup, "text").filter((text) => text.attributes["data-domain"]);
    expect(gains.map((text) => text.attributes["data-domain"])).toEqual(domainsWithOverall(report));
    for (const label of gains) {
      const domain = label.attributes["data-domain"]!;
      const gain = domain === "overall" ? report.overall.gain : report.domains[domain]!.gain;
      if (gain === null) {
        expect(label.attributes["data-gain"]).toBeUndefined();
        expect(label.inner).toBe("–");
      } else {
        expect(num(label.attributes["data-gain"])).toBe(gain);
        expect(label.inner).toBe(pointsText(gain));
        expect(label.attributes.class).toContain(gain > 0 ? "pos" : "neg");
      }
    }
    expect(gains.map((label) => label.inner)).toEqual([
      "+41.7",
      "\u221250.0",
      "+50.0",
      "–",
      "+20.6",
    ]);

    // Capability usage: every domain (and overall) x capability, bar width = rate x length.
    const capability = charts.get("capability")!;
    const capabilityBars = bars(
      capability.markup,
      "capability",
      (a) => `${a["data-domain"]}/${a["data-capability"]}`,
    );
    const expectedRates = new Map<string, number>();
    for (const [domain, usage] of Object.entries(report.capability_usage))
      for (const name of CAPABILITIES) expectedRates.set(`${domain}/${name}`, usage[name]);
    expect(new Map([...capabilityBars].map(([key, a]) => [key, num(a["data-value"])]))).toEqual(
      expectedRates,
    );
    const capabilityLength = num(capability.svg["data-scale-length"]);
    for (const [key, bar] of capabilityBars)
      expect(num(bar.width), key).toBeCloseTo(expectedRates.get(key)! * capabilityLength, 1);
    const turns = elements(capability.markup, "text").filter(
      (text) => text.attributes["data-turns"],
    );
    expect(
      Object.fromEntries(turns.map((t) => [t.attributes["data-domain"], num(t.inner)])),
    ).toEqual(
      Object.fromEntries(Object.entries(report.capability_usage).map(([d, u]) => [d, u.turns])),
    );

    // Tokens: prompt and completion per rollout, stacked; the stack's length is the total on the
    // chart's log scale, and the segments split it in the prompt/completion proportion.
    const tokens = charts.get("tokens")!;
    expect(tokens.svg["data-scale"]).toBe("log");
    const tokenBars = bars(
      tokens.markup,
      "tokens",
      (a) => `${a["data-domain"]}/${a["data-mode"]}/${a["data-kind"]}`,
    );
    const expectedTokens = new Map<string, number>();
    const tokenRows = { ...report.tokens.byDomain, overall: report.tokens };
    for (const [domain, byMode] of Object.entries(tokenRows))
      for (const mode of MODES) {
        const summary = byMode[mode];
        if (!summary) continue;
        expectedTokens.set(`${domain}/${mode}/prompt`, summary.perRollout.prompt);
        expectedTokens.set(`${domain}/${mode}/completion`, summary.perRollout.completion);
      }
    expect(new Map([...tokenBars].map(([key, a]) => [key, num(a["data-value"])]))).toEqual(
      expectedTokens,
    );
    expect(expectedTokens.get("long_context/llm/prompt")).toBe(260_000);
    const tokenLength = num(tokens.svg["data-scale-length"]);
    for (const [domain, byMode] of Object.entries(tokenRows))
      for (const mode of MODES) {
        const summary = byMode[mode];
        if (!summary) continue;
        const prompt = tokenBars.get(`${domain}/${mode}/prompt`)!;
        const completion = tokenBars.get(`${domain}/${mode}/completion`)!;
        const stack = num(prompt.width) + num(completion.width);
        expect(stack, `${domain}/${mode}`).toBeCloseTo(
          onScale(tokens.svg, summary.perRollout.total) * tokenLength,
          1,
        );
        expect(num(prompt.width) / stack).toBeCloseTo(
          summary.perRollout.prompt / summary.perRollout.total,
          2,
        );
        expect(num(completion.x)).toBeCloseTo(num(prompt.x) + num(prompt.width), 1);
      }
    const ratios = elements(tokens.markup, "text").filter((text) => text.attributes["data-ratio"]);
    expect(
      Object.fromEntries(
        ratios.map((t) => [t.attributes["data-domain"], num(t.attributes["data-ratio"])]),
      ),
    ).toEqual({
      chemistry: 6850 / 1500,
      long_context: 9450 / 260_450,
      math: 4800 / 1500,
      overall: report.tokens.sandbox!.perRollout.total / report.tokens.llm!.perRollout.total,
    });

    // The header and the notes banner.
    const banner = elements(dom, "aside")[0]!;
    expect(banner.attributes.role).toBe("note");
    expect(banner.inner).toContain(report.notes[0]);
    expect(dom).toContain("<h1>eval-fixture</h1>");
    expect(dom).toContain("Qwen/Qwen3-4B-Instruct-2507");
    // pass@2 exists on math only: the pass@k table has its column.
    expect(dom).toContain("pass@2");
  });

  it("paints both modes' colors in a screenshot", async () => {
    const path = join(dir, "report.html");
    writeFileSync(path, renderReportHtml(fixtureReport()));
    const png = join(dir, "report.png");
    const size = { width: 1100, height: 1400 };
    await screenshotPage(path, png, size);
    assertSeriesPainted(readFileSync(png), size, [
      MODE_COLORS.sandbox.solid,
      MODE_COLORS.llm.solid,
    ]);
  });

  it("shows each domain's sample rollout, its turns, tools and capabilities, as text", async () => {
    const report = reportWithSamples();
    const html = renderReportHtml(report);
    assertOffline(html);
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt; &amp; ok");
    // After the charts and the pass@k / turns tables, before the numbers table.
    const section = html.indexOf("Sample rollouts (sandbox mode)");
    expect(section).toBeGreaterThan(html.indexOf('data-chart="tokens"'));
    expect(section).toBeGreaterThan(html.indexOf("Turns and stop reasons"));
    expect(section).toBeLessThan(html.indexOf("All numbers"));
    const path = join(dir, "samples.html");
    writeFileSync(path, html);
    const dom = await renderedDom(path);
    expect(dom).not.toMatch(/<script\b/i);
    expect(dom).not.toMatch(/<b>a<\/b>|<b>"editor/);

    const details = elements(dom, "details");
    expect(details.map((entry) => entry.attributes["data-example"])).toEqual(
      Object.keys(report.examples),
    );
    expect(Object.keys(report.examples)).toEqual(["chemistry", "long_context", "math", "software"]);
    expect(details.map((entry) => entry.attributes.open !== undefined)).toEqual([
      true,
      false,
      false,
      false,
    ]);
    for (const entry of details) {
      const domain = entry.attributes["data-example"]!;
      const example = report.examples[domain]!;
      expect(entry.attributes["data-task"]).toBe(example.taskId);
      expect(num(entry.attributes["data-reward"])).toBe(example.reward);
      expect(num(entry.attributes["data-turns"])).toBe(example.turns.length);
      const summary = decode(elements(entry.inner, "summary")[0]!.inner.replace(/<[^>]*>/g, " "));
      expect(summary.split(/\s+/).filter(Boolean)).toEqual([
        domain,
        example.taskId,
        "reward",
        String(example.reward),
        String(example.turns.length),
        example.turns.length === 1 ? "turn" : "turns",
      ]);
      const question = elements(entry.inner, "div").find(
        (div) => div.attributes.class === "question",
      );
      expect(decode(question!.inner)).toBe(example.question);

      const turns = elements(entry.inner, "li");
      expect(turns, domain).toHaveLength(example.turns.length);
      turns.forEach((item, index) => {
        const turn = example.turns[index]!;
        const where = `${domain} turn ${index}`;
        expect(item.attributes["data-turn"], where).toBe(String(index));
        expect(item.attributes["data-tool"], where).toBe(turn.tool ?? undefined);
        const chips = elements(item.inner, "span").filter(
          (chip) => chip.attributes["data-capability"],
        );
        expect(
          chips.map((chip) => chip.attributes["data-capability"]),
          where,
        ).toEqual(turn.capabilities);
        const [input, observation, ...rest] = elements(item.inner, "pre");
        expect(rest, where).toHaveLength(0);
        expect(decode(input!.inner), where).toBe(turn.input);
        expect(decode(observation!.inner), where).toBe(turn.observation);
        expect(observation!.attributes.class, where).toBe("observation");
        expect(item.attributes.class!.split(" ").includes("is-error"), where).toBe(turn.isError);
      });
      const answer = elements(entry.inner, "pre").find((pre) =>
        pre.attributes.class!.startsWith("answer"),
      );
      expect(answer && decode(answer.inner)).toBe(example.answer ?? undefined);
      expect(entry.inner).toContain(`>${example.stopReason}</span>`);
    }

    // What the hostile example is, so the checks above met it.
    const chemistry = report.examples.chemistry!;
    expect(chemistry.turns.map((turn) => [turn.tool, turn.isError])).toEqual([
      ["execute_bash", false],
      ['str_replace<b>"editor', true],
      [null, true],
    ]);
    expect(chemistry.turns[0]!.input).toContain(`${SCRIPT} & ok`);
    expect(chemistry.turns[0]!.observation).toContain(`${SCRIPT} & ok`);
    expect(chemistry.turns[0]!.capabilities).toEqual(["computation", "external_resource"]);
  });

  it("keeps long lines inside the sample rollouts, in a screenshot", async () => {
    const path = join(dir, "samples.html");
    writeFileSync(path, renderReportHtml(reportWithSamples()));
    const png = join(dir, "samples.png");
    const size = { width: 1100, height: 3200 };
    await screenshotPage(path, png, size);
    const image = decodePng(readFileSync(png));
    // The open example is painted: its tool badges, chips and the failed call's output.
    for (const color of ["#1e293b", "#f3e8ff", "#ccfbf1", "#fef2f2"])
      expect(countColor(image, color, 1), `pixels of ${color}`).toBeGreaterThan(300);
    // The 300-character argument wraps inside its <pre>: nothing is painted in the page's
    // right margin (main is 1040 wide and centered; the scrollbar takes the last pixels).
    const background = [0xf8, 0xfa, 0xfc, 255];
    for (let y = 0; y < size.height; y += 2)
      for (let x = size.width - 40; x < size.width - 20; x++)
        expect(pixelAt(image, x, y), `pixel ${x},${y}`).toEqual(background);
  });

  it("renders a report written before sample rollouts were kept", async () => {
    const legacy: Partial<EvalReport> = fixtureReport();
    delete legacy.examples;
    const html = renderReportHtml(legacy as EvalReport);
    assertOffline(html);
    assertGeometryIsFinite(html);
    expect(html).not.toContain("Sample rollouts");
    const path = join(dir, "legacy.html");
    writeFileSync(path, html);
    const dom = await renderedDom(path);
    expect(elements(dom, "details")).toHaveLength(0);
    expect([...figures(dom).keys()]).toEqual(["score", "capability", "tokens"]);
    expect(dom).toContain("All numbers");
  });

  it("compares three runs: a bar per run with its score and its delta from the first", async () => {
    const base = fixtureReport({ runId: "eval-base" });
    const improved = fixtureReport(
      { runId: "eval-rl", policy: { model: "sandbox-rl-step-200", urls: [] } },
      fixtureRecords().map((record) =>
        record.task.domain === "math" && record.mode === "sandbox"
          ? { ...record, reward: 1 }
          : record,
      ),
    );
    const sandboxOnly = fixtureReport(
      { runId: "eval-sandbox-only", modes: ["sandbox"] },
      fixtureRecords().filter(
        (record) => record.mode === "sandbox" && record.task.domain !== "long_context",
      ),
    );
    const comparison: Comparison = compareReports([
      { dir: "runs/base", report: base },
      { dir: "runs/rl", report: improved },
      { dir: "runs/sandbox-only", report: sandboxOnly },
    ]);
    const html = renderCompareHtml(comparison);
    assertOffline(html);
    assertGeometryIsFinite(html);
    const path = join(dir, "compare.html");
    writeFileSync(path, html);
    const dom = await renderedDom(path);
    const chart = figures(dom).get("compare")!;
    const compareBars = bars(
      chart.markup,
      "compare",
      (a) => `${a["data-domain"]}/${a["data-mode"]}/${a["data-run"]}`,
    );
    const expected = new Map<string, number>();
    for (const row of comparison.rows)
      row.scores.forEach((score, run) => {
        if (score !== null) expected.set(`${row.domain}/${row.mode}/${run}`, score);
      });
    expect(new Map([...compareBars].map(([key, a]) => [key, num(a["data-value"])]))).toEqual(
      expected,
    );
    expect(compareBars.has("long_context/sandbox/2")).toBe(false);
    expect(compareBars.has("math/llm/2")).toBe(false);
    const length = num(chart.svg["data-scale-length"]);
    for (const [key, bar] of compareBars) {
      expect(num(bar.width), key).toBeCloseTo(expected.get(key)! * length, 1);
      expect(bar.fill).toBe(RUN_COLORS[num(bar["data-run"])]);
    }
    expect(
      num(compareBars.get("math/sandbox/1")!.width) / num(compareBars.get("math/sandbox/0")!.width),
    ).toBeCloseTo(1 / 0.75, 2);

    // Deltas, in the chart and in the side-by-side table: +25.0 points on math in sandbox mode.
    const chartDeltas = elements(chart.markup, "tspan");
    const tableDeltas = elements(dom, "td").filter((cell) => cell.attributes["data-delta"]);
    for (const deltas of [chartDeltas, tableDeltas]) {
      const byKey = new Map(
        deltas.map((cell) => [
          `${cell.attributes["data-domain"]}/${cell.attributes["data-mode"]}/${cell.attributes["data-run"]}`,
          cell,
        ]),
      );
      const expectedDeltas = comparison.rows.flatMap((row) =>
        row.deltas.flatMap((delta, run) =>
          delta === null ? [] : [[`${row.domain}/${row.mode}/${run}`, delta] as const],
        ),
      );
      expect([...byKey.keys()].sort()).toEqual(expectedDeltas.map(([key]) => key).sort());
      for (const [key, delta] of expectedDeltas) {
        const cell = byKey.get(key)!;
        expect(num(cell.attributes["data-delta"]), key).toBe(delta);
        expect(cell.inner, key).toBe(pointsText(delta));
      }
      expect(byKey.get("math/sandbox/1")!.inner).toBe("+25.0");
      expect(byKey.get("math/sandbox/1")!.attributes.class).toContain("pos");
    }

    // Gains per run; the third run has no LLM mode, so no gain anywhere.
    const gainCells = elements(dom, "td").filter(
      (cell) => cell.attributes["data-run"] && !cell.attributes["data-mode"],
    );
    for (const row of comparison.gains)
      row.gains.forEach((gain, run) => {
        const cell = gainCells.find(
          (candidate) =>
            candidate.attributes["data-domain"] === row.domain &&
            candidate.attributes["data-run"] === String(run),
        )!;
        expect(cell.inner).toBe(gain === null ? "–" : pointsText(gain));
      });
    expect(dom).toContain("long_context</b>; those rows have gaps");

    const png = join(dir, "compare.png");
    const size = { width: 1100, height: 1400 };
    await screenshotPage(path, png, size);
    assertSeriesPainted(readFileSync(png), size, RUN_COLORS.slice(0, 3));
  });

  it("escapes what a report carries: notes, model names, run ids and domains", async () => {
    const hostile = "a<b>&\"c'";
    const report = fixtureReport(
      {
        runId: '"><svg onload=alert(1)>',
        policy: { model: "Evil <script>alert('x')</script> & co", urls: [] },
        notes: ["</li></ul><img src=x onerror=alert(1)> is a note", "<!-- not a comment -->"],
        taskFiles: [{ file: "<style>body{display:none}</style>.jsonl", sha256: "0", tasks: 1 }],
      },
      [
        fixtureRecord({ domain: hostile, mode: "sandbox" }),
        fixtureRecord({ domain: hostile, mode: "llm", reward: 0 }),
      ],
    );
    const html = renderReportHtml(report);
    assertOffline(html);
    expect(html).not.toContain("<svg onload");
    expect(html).toContain("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co");
    const path = join(dir, "hostile.html");
    writeFileSync(path, html);
    const dom = await renderedDom(path);
    expect(dom).not.toMatch(/<(?:script|img)\b/);
    expect(dom).not.toMatch(/<svg[^>]*onload/);
    expect(elements(dom, "style")).toHaveLength(1);
    expect(decode(elements(dom, "h1")[0]!.inner)).toBe(report.runId);
    const notes = elements(elements(dom, "aside")[0]!.inner, "li").map((item) =>
      decode(item.inner),
    );
    expect(notes).toEqual(report.notes);
    const scoreBars = bars(
      figures(dom).get("score")!.markup,
      "score",
      (a) => `${a["data-domain"]}/${a["data-mode"]}`,
    );
    expect([...scoreBars.keys()]).toEqual([
      `${hostile}/sandbox`,
      `${hostile}/llm`,
      "overall/sandbox",
      "overall/llm",
    ]);
  });

  it("renders empty and partial reports without NaN or broken SVG", () => {
    const empty = computeReport([], { runId: "empty", modes: ["sandbox", "llm"] });
    const llmOnly = computeReport(
      fixtureRecords().filter((record) => record.mode === "llm"),
      { runId: "llm-only", modes: ["llm"] },
    );
    const broken = computeReport(
      [
        fixtureRecord({
          domain: "outage",
          trainable: false,
          turns: [],
          calls: [{ prompt: 0, completion: 0 }],
        }),
        fixtureRecord({ domain: "outage", mode: "llm", trainable: false, calls: [] }),
        fixtureRecord({ domain: "math", mode: "llm", calls: [{ prompt: 0, completion: 0 }] }),
      ],
      { runId: "broken", modes: ["sandbox", "llm"] },
    );
    for (const report of [empty, llmOnly, broken]) {
      const html = renderReportHtml(report);
      assertOffline(html);
      assertGeometryIsFinite(html);
    }
    expect(renderReportHtml(empty)).toContain("Nothing to chart");
    expect(renderReportHtml(llmOnly)).not.toContain('data-chart="capability"');
    const brokenHtml = renderReportHtml(broken);
    expect(brokenHtml).toContain("no scored rollouts (1 failed)");
    expect(brokenHtml).not.toContain('data-domain="outage" data-mode="sandbox" data-value');
    const comparison = compareReports([
      { dir: "a", report: empty },
      { dir: "b", report: broken },
    ]);
    assertGeometryIsFinite(renderCompareHtml(comparison));
  });
});

/** A PNG whose row y uses filter type y % 5, so the decoder meets every filter. */
function encodePng(
  width: number,
  height: number,
  channels: 3 | 4,
  pixel: (x: number, y: number, c: number) => number,
): Buffer {
  const stride = width * channels;
  const raw = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      for (let c = 0; c < channels; c++) raw[y * stride + x * channels + c] = pixel(x, y, c);
  const filtered = Buffer.alloc(height * (stride + 1));
  for (let y = 0; y < height; y++) {
    const filter = y % 5;
    filtered[y * (stride + 1)] = filter;
    for (let i = 0; i < stride; i++) {
      const value = raw[y * stride + i]!;
      const left = i >= channels ? raw[y * stride + i - channels]! : 0;
      const up = y > 0 ? raw[(y - 1) * stride + i]! : 0;
      const upLeft = y > 0 && i >= channels ? raw[(y - 1) * stride + i - channels]! : 0;
      const estimate = left + up - upLeft;
      const [a, b, c] = [
        Math.abs(estimate - left),
        Math.abs(estimate - up),
        Math.abs(estimate - upLeft),
      ];
      const paeth = a <= b && a <= c ? left : b <= c ? up : upLeft;
      const predicted = [0, left, up, (left + up) >> 1, paeth][filter]!;
      filtered[y * (stride + 1) + 1 + i] = (value - predicted) & 0xff;
    }
  }
  const chunk = (type: string, body: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(body.length);
    const typed = Buffer.concat([Buffer.from(type, "latin1"), body]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(typed));
    return Buffer.concat([length, typed, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, channels === 4 ? 6 : 2, 0, 0, 0], 8);
  const data = deflateSync(filtered);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    // Split IDAT: decoders must join them.
    chunk("IDAT", data.subarray(0, 7)),
    chunk("IDAT", data.subarray(7)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

describe("the screenshot PNG decoder", () => {
  it("undoes all five filters for RGB and RGBA, and rejects what it cannot read", () => {
    const pixel = (x: number, y: number, c: number) =>
      (x * 37 + y * 91 + c * 53 + x * y * 7) & 0xff;
    for (const channels of [3, 4] as const) {
      const image = decodePng(encodePng(7, 10, channels, pixel));
      expect([image.width, image.height]).toEqual([7, 10]);
      for (let y = 0; y < 10; y++)
        for (let x = 0; x < 7; x++)
          expect(pixelAt(image, x, y)).toEqual([
            pixel(x, y, 0),
            pixel(x, y, 1),
            pixel(x, y, 2),
            channels === 4 ? pixel(x, y, 3) : 255,
          ]);
    }
    const png = encodePng(2, 2, 3, () => 9);
    expect(() => decodePng(png.subarray(1))).toThrow("bad signature");
    const corrupt = Buffer.from(png);
    corrupt[20] = corrupt[20]! ^ 0xff;
    expect(() => decodePng(corrupt)).toThrow("IHDR has a bad CRC");
    expect(() => decodePng(png.subarray(0, png.length - 12))).toThrow("no IEND");
  });

  it("names the fix when the Chromium binary is missing", async () => {
    const page = join(mkdtempSync(join(tmpdir(), "sandfarm-no-chromium-")), "page.html");
    writeFileSync(page, "<p>hi</p>");
    await expect(renderedDom(page, { binary: "/nonexistent/chromium" })).rejects.toThrow(
      "apt-get install chromium",
    );
    rmSync(join(page, ".."), { recursive: true, force: true });
  });
});
