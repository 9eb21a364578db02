/**
 * Writes an eval report's three files into a run directory: `report.json` (the data),
 * `report.md` (tables) and `report.html` (self-contained, with charts).
 *
 * @example
 * writeReportFiles("runs/eval-1", report);
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { renderReportHtml } from "./report-html.js";
import { renderReportMarkdown } from "./render-md.js";
import type { EvalReport } from "./report.js";

export function writeReportFiles(dir: string, report: EvalReport): void {
  writeFileSync(join(dir, "report.json"), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(dir, "report.md"), renderReportMarkdown(report));
  writeFileSync(join(dir, "report.html"), renderReportHtml(report));
}
