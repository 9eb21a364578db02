/** Shared output of the benchmarks: percentiles, a printed table, a JSON file. */
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return Math.round((sorted[index] ?? Number.NaN) * 100) / 100;
}

export async function timeEach(count: number, body: () => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let index = 0; index < count; index++) {
    const started = performance.now();
    await body();
    samples.push(performance.now() - started);
  }
  return samples;
}

export function writeResults(
  name: string,
  rows: [string, string][],
  results: Record<string, unknown>,
): void {
  const width = Math.max(...rows.map(([label]) => label.length));
  process.stdout.write(`\n${name}\n${"-".repeat(width + 14)}\n`);
  for (const [label, value] of rows)
    process.stdout.write(`${label.padEnd(width)}  ${value.padStart(10)}\n`);
  const dir = fileURLToPath(new URL("./results/", import.meta.url));
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}${name}.json`, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`\nwrote bench/results/${name}.json\n`);
}
