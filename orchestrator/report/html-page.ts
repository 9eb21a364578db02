/**
 * The shell of a self-contained report page: doctype, a Content-Security-Policy that forbids
 * scripts and fetches (the file reads the same offline, attached to an issue or screenshotted),
 * the kit's stylesheet inline, and the escaping every text from a report goes through.
 *
 * The stylesheet styles what the kit draws (svg-charts' figures, legends and bars) and the
 * common blocks of a report: header facts, notes, cards, number tables, pills.
 *
 * @example
 * const css = ".loss { color: #b91c1c; }\n";
 * const html = htmlPage(`Training ${runId}`, `<h1>${escapeHtml(runId)}</h1>${chart}`, css);
 */

export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (char) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[char]!,
  );
}

const esc = escapeHtml;

/** Attributes, escaped, each with its leading space: `<rect${attrs({ "data-value": 1 })}>`. */
export function attrs(data: Record<string, string | number>): string {
  return Object.entries(data)
    .map(([name, value]) => ` ${name}="${esc(String(value))}"`)
    .join("");
}

const CSS = `
:root { color-scheme: light; --text: #111827; --muted: #6b7280; --line: #e5e7eb; --bg: #f8fafc; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", "Liberation Sans", sans-serif; }
main { max-width: 1040px; margin: 0 auto; padding: 28px 24px 48px; }
header { margin-bottom: 16px; }
.kicker { text-transform: uppercase; letter-spacing: .08em; font-size: 11px; color: var(--muted); font-weight: 600; }
h1 { font-size: 26px; margin: 2px 0 12px; word-break: break-all; }
h2 { font-size: 17px; margin: 28px 0 10px; }
h3 { font-size: 14px; margin: 0 0 8px; }
.facts { display: flex; flex-wrap: wrap; gap: 6px 28px; margin: 0; }
.facts div { min-width: 0; }
.facts dt { font-size: 11px; color: var(--muted); text-transform: uppercase; letter-spacing: .05em; }
.facts dd { margin: 0; font-weight: 500; word-break: break-word; }
.file { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 12.5px; }
.sub { color: var(--muted); font-size: 12px; font-weight: 400; }
.notes { background: #fffbeb; border: 1px solid #fcd34d; border-left: 5px solid #f59e0b; border-radius: 8px;
  padding: 10px 14px; margin: 14px 0; color: #78350f; }
.notes ul { margin: 4px 0 0; padding-left: 20px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(190px, 1fr)); gap: 12px; margin: 16px 0 8px; }
.card { background: #fff; border: 1px solid var(--line); border-top: 4px solid #cbd5e1; border-radius: 10px; padding: 12px 16px; }
.card .label { font-size: 12px; color: var(--muted); font-weight: 600; }
.card .big { font-size: 28px; font-weight: 700; letter-spacing: -.01em; }
.card .unit { font-size: 14px; font-weight: 500; color: var(--muted); }
figure { background: #fff; border: 1px solid var(--line); border-radius: 10px; margin: 18px 0; padding: 16px 18px 10px; break-inside: avoid; }
figcaption { margin-bottom: 6px; }
figcaption .title { font-weight: 700; font-size: 16px; display: block; }
figcaption .explain { color: var(--muted); font-size: 12.5px; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 18px; font-size: 12.5px; margin: 4px 0 8px; }
.legend-entry { display: inline-flex; align-items: center; }
.swatch { display: inline-block; width: 11px; height: 11px; border-radius: 3px; margin-right: 6px; vertical-align: -1px; }
svg { display: block; width: 100%; height: auto; overflow: visible; }
svg text { font-size: 13px; fill: var(--text); }
svg .tick { font-size: 11.5px; fill: var(--muted); }
svg .key { font-size: 11px; fill: var(--muted); }
svg .group { font-size: 13.5px; }
svg .strong, td.strong { font-weight: 700; }
svg .panel { font-size: 14px; font-weight: 700; }
svg .value { font-size: 12.5px; font-variant-numeric: tabular-nums; }
svg .missing { font-size: 12px; font-style: italic; fill: #9ca3af; }
svg .aside { font-size: 13.5px; font-weight: 700; font-variant-numeric: tabular-nums; }
svg .grid { stroke: var(--line); stroke-width: 1; }
svg .axis { stroke: #9ca3af; stroke-width: 1; }
svg .rule { stroke: #d1d5db; stroke-width: 1; stroke-dasharray: 3 3; }
svg .track { fill: #f1f5f9; }
svg .pos, .pos { fill: #15803d; color: #15803d; }
svg .neg, .neg { fill: #b91c1c; color: #b91c1c; }
svg .zero, .zero, svg .ratio { fill: var(--muted); color: var(--muted); }
.empty { color: var(--muted); font-style: italic; }
.pair { display: flex; flex-wrap: wrap; gap: 18px; margin-top: 18px; }
.half { flex: 1 1 360px; background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px; }
table.numbers { border-collapse: collapse; width: 100%; font-size: 13px; background: #fff; }
table.wide { border: 1px solid var(--line); }
table.numbers th, table.numbers td { padding: 5px 8px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
table.numbers th { font-size: 11.5px; color: var(--muted); font-weight: 600; text-transform: uppercase; letter-spacing: .03em; background: #f9fafb; }
table.numbers .num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.numbers td.delta { font-weight: 600; }
table.numbers td.mode { white-space: nowrap; }
table.numbers th.num { white-space: normal; }
table.numbers th.run { text-align: center; }
table.numbers th .sub { text-transform: none; letter-spacing: 0; }
.scroll { overflow-x: auto; }
table.numbers tr.gap td, table.numbers td.gap { color: #9ca3af; font-style: italic; }
table.numbers td.warn { color: #b45309; font-weight: 600; }
table.runs { margin-top: 6px; }
.pill { display: inline-block; background: #ecfdf5; color: #065f46; border-radius: 999px; padding: 0 8px; font-size: 12px; margin: 1px 0; }
.pill.warn { background: #fef3c7; color: #92400e; }
`;

// Last, so that print overrides the page's own rules too.
const PRINT_CSS = `@media print { body { background: #fff; } main { padding: 0; } figure, .half, details { border-color: #d1d5db; } }
`;

/** A whole page; `pageCss` holds the page's own rules, after the kit's and before print's. */
export function htmlPage(title: string, body: string, pageCss = ""): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="color-scheme" content="light">
<title>${esc(title)}</title>
<style>${CSS}${pageCss}${PRINT_CSS}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}
