import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderedDom } from "../../testing/chromium.js";
import { sandfarm } from "../../testing/cli.js";
import { readTrainingRun, trainingReportHtml, writeTrainingReport } from "./report-html.js";

/** A run directory as `sandfarm train` leaves it, with made-up numbers. */
function writeRun(
  dir: string,
  options: { validation: boolean; trainer: boolean; engines?: boolean },
): void {
  const lines = (rows: unknown[]) => rows.map((row) => `${JSON.stringify(row)}\n`).join("");
  writeFileSync(
    join(dir, "config.json"),
    JSON.stringify({ run: { id: "r1", mode: "llm" }, policy: { model: "tiny" } }),
  );
  writeFileSync(
    join(dir, "metrics.jsonl"),
    lines(
      [0, 1, 2, 3].map((step) => ({
        step,
        version: step,
        rollouts: 64,
        reward_mean: 0.1 + step * 0.1,
        accuracy: 0.1 + step * 0.1,
        domains: {
          math: { n: 32, reward_mean: 0.2 * step, reward_std: 0, accuracy: 0 },
          physics: { n: 32, reward_mean: 0.1, reward_std: 0, accuracy: 0 },
        },
        calls_mean: 1,
        turns_mean: 0,
        completion_tokens: 256,
        stop_reasons: { submitted: 48, max_turns: 16 },
        staleness_mean: 0.5,
        staleness_max: 1,
        rollouts_per_s: 100 + step,
        tokens_per_s: 5000,
        ...(options.engines
          ? {
              engines: [
                {
                  name: "box1",
                  healthy: true,
                  in_use: 3 + step,
                  warm: 2,
                  capacity: 8,
                  ejections: 0,
                },
                {
                  name: "box2",
                  healthy: step < 2,
                  in_use: 0,
                  warm: 0,
                  capacity: 8,
                  ejections: step < 2 ? 0 : 1,
                },
              ],
            }
          : {}),
      })),
    ),
  );
  if (options.validation)
    writeFileSync(
      join(dir, "validation.jsonl"),
      lines([
        { step: 0, llm: { score: 0.125, n: 32 } },
        { step: 2, llm: { score: 0.5, n: 32 } },
      ]),
    );
  if (options.trainer)
    writeFileSync(
      join(dir, "trainer.jsonl"),
      lines(
        [1, 2, 3].map((sequence) => ({
          batchId: `r1-${sequence}`,
          sequence,
          metrics: {
            loss: -0.01 * sequence,
            grad_norm: 0.3,
            kl_sampler: 0.001,
            clip_fraction: 0,
            entropy: 0.5,
            logprob_abs_diff_max: 2e-5,
            logprob_abs_diff_mean: 1e-6,
          },
        })),
      ),
    );
  writeFileSync(
    join(dir, "journal.jsonl"),
    lines([
      { v: 1, type: "policy", version: 1, pauseMs: 120 },
      { v: 1, type: "step", step: 0 },
    ]),
  );
}

/** `<circle>` dots of a figure's series: their data and their position. */
function dots(
  dom: string,
  chart: string,
  series: string,
): { x: number; y: number; cx: number; cy: number }[] {
  const figure = new RegExp(`<figure data-chart="${chart}">([\\s\\S]*?)</figure>`).exec(dom)![1]!;
  const group = new RegExp(`<g data-series="${series}">([\\s\\S]*?)</g>`).exec(figure)![1]!;
  return [...group.matchAll(/<circle ([^>]*)>/g)].map(([, attributes]) => {
    const value = (name: string) => Number(new RegExp(`${name}="([^"]*)"`).exec(attributes!)![1]);
    return { x: value("data-x"), y: value("data-y"), cx: value("cx"), cy: value("cy") };
  });
}

describe("the training run's report.html, rendered by Chromium", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "sandfarm-train-report-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("draws each curve's points at their values, offline, and says what the run did not record", async () => {
    const full = join(dir, "full");
    mkdirSync(full);
    writeRun(full, { validation: true, trainer: true });
    const path = writeTrainingReport(full);
    expect(path).toBe(join(full, "report.html"));
    const html = readFileSync(path, "utf8");
    expect(html).toContain("default-src 'none'");
    expect(html).not.toMatch(/(src|href)="https?:/);
    const dom = await renderedDom(path);
    const charts = [...dom.matchAll(/<figure data-chart="([^"]+)"/g)].map((match) => match[1]);
    expect(charts).toEqual([
      "validation",
      "reward",
      "pass-rate",
      "length",
      "stop-reasons",
      "staleness",
      "loss",
      "trainer",
      "grad-norm",
      "mismatch",
      "throughput",
      "pauses",
    ]);
    // Validation: each point where its value says, on the figure's own axes (0..1, plot box).
    const figure = /<figure data-chart="validation">[\s\S]*?<svg ([^>]*)>/.exec(dom)![1]!;
    const [left, top, right, bottom] = /data-plot="([^"]*)"/
      .exec(figure)![1]!
      .split(" ")
      .map(Number);
    const points = dots(dom, "validation", "llm");
    expect(points.map(({ x, y }) => [x, y])).toEqual([
      [0, 0.125],
      [2, 0.5],
    ]);
    for (const point of points) {
      expect(point.cy).toBeCloseTo(bottom! - point.y * (bottom! - top!), 1);
      expect(point.cx).toBeCloseTo(left! + (point.x / 2) * (right! - left!), 1);
    }
    // Reward per step overall and per domain; stop reasons as shares; the trainer's acks.
    const rounded = (values: number[]) => values.map((value) => Math.round(value * 1e9) / 1e9);
    expect(rounded(dots(dom, "reward", "mean").map((point) => point.y))).toEqual([
      0.1, 0.2, 0.3, 0.4,
    ]);
    expect(rounded(dots(dom, "reward", "math").map((point) => point.y))).toEqual([
      0, 0.2, 0.4, 0.6,
    ]);
    expect(dots(dom, "stop-reasons", "max_turns").map((point) => point.y)).toEqual([
      0.25, 0.25, 0.25, 0.25,
    ]);
    expect(dots(dom, "length", "tokens").map((point) => point.y)).toEqual([4, 4, 4, 4]);
    expect(dots(dom, "loss", "loss").map((point) => [point.x, point.y])).toEqual([
      [1, -0.01],
      [2, -0.02],
      [3, -0.03],
    ]);
    expect(dots(dom, "pauses", "pause").map((point) => [point.x, point.y])).toEqual([[1, 120]]);
    expect(dom).toContain("llm 0.125 -&gt; 0.500");

    // The file sink and no validation set: those figures say so instead of drawing nothing.
    const bare = join(dir, "bare");
    mkdirSync(bare);
    writeRun(bare, { validation: false, trainer: false });
    const plain = trainingReportHtml(readTrainingRun(bare));
    for (const chart of ["validation", "loss", "mismatch"])
      expect(plain).toMatch(new RegExp(`<figure data-chart="${chart}">.*Not recorded in this run`));
  }, 60_000);

  it("lists the sandbox engines at the last step, when the run had a fleet", () => {
    const withFleet = join(dir, "fleet");
    mkdirSync(withFleet);
    writeRun(withFleet, { validation: false, trainer: false, engines: true });
    const html = readFileSync(writeTrainingReport(withFleet), "utf8");
    const table = /<section data-table="engines">([\s\S]*?)<\/section>/.exec(html)![1]!;
    expect(table).toContain("<p>At step 3.");
    expect(
      [...table.matchAll(/<tr><th>(box\d)<\/th>((?:<td>[^<]*<\/td>)+)<\/tr>/g)].map((row) => [
        row[1],
        row[2],
      ]),
    ).toEqual([
      ["box1", "<td>yes</td><td>0</td><td>6</td><td>2</td><td>8</td>"],
      ["box2", "<td>no (ejected)</td><td>1</td><td>0</td><td>0</td><td>8</td>"],
    ]);
    const plain = join(dir, "plain");
    mkdirSync(plain);
    writeRun(plain, { validation: false, trainer: false });
    expect(readFileSync(writeTrainingReport(plain), "utf8")).not.toContain('data-table="engines"');
  });

  it("overlays training runs' curves for sandfarm compare, and refuses to mix them with eval runs", async () => {
    const runs = ["a", "b"].map((name, index) => {
      const path = join(dir, `compare-${name}`);
      mkdirSync(path);
      writeRun(path, { validation: true, trainer: index === 0 });
      writeFileSync(
        join(path, "config.json"),
        JSON.stringify({ run: { id: `run-${name}`, mode: index ? "sandbox" : "llm" } }),
      );
      return path;
    });
    const compared = await sandfarm("compare", ...runs, "--html", join(dir, "compare.html"));
    expect(compared.code).toBe(0);
    expect(compared.stdout).toContain("| run-a | llm | 4 | 0.313 | 0.313 | 0.250 | 0.250 |");
    expect(compared.stdout).toContain("| run-b | sandbox | 4 |");
    const dom = await renderedDom(join(dir, "compare.html"));
    for (const run of ["run-a", "run-b"])
      expect(dots(dom, "validation", run).map((point) => [point.x, point.y])).toEqual([
        [0, 0.125],
        [2, 0.5],
      ]);
    const evalRun = join(dir, "an-eval");
    mkdirSync(evalRun);
    const mixed = await sandfarm("compare", runs[0]!, evalRun);
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toContain(
      "compare eval runs with eval runs and training runs with training runs",
    );
  }, 60_000);
});
