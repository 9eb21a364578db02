/**
 * `npm run bench -- exec`: what one command costs through sandfarm's exec path (a `docker exec`
 * of the Perl helper, with timeout, capping and OOM accounting), against the same `true` through
 * the docker CLI (the usual baseline) and a bare API exec without the helper (its overhead).
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { testBackend } from "../testing/sandboxes.js";
import { percentile, timeEach, writeResults } from "./report.js";

const execFileAsync = promisify(execFile);

export async function runExecBenchmark(quick: boolean): Promise<void> {
  const commands = quick ? 30 : 200;
  const starts = quick ? 5 : 20;
  const backend = testBackend();
  const sandbox = await backend.create();
  try {
    await sandbox.exec("true");
    const container = backend.docker.getContainer(sandbox.id);
    const sandfarmSamples = await timeEach(commands, () => sandbox.exec("true"));
    const cliSamples = await timeEach(commands, () =>
      execFileAsync("docker", ["exec", sandbox.id, "true"]),
    );
    const apiSamples = await timeEach(commands, async () => {
      const exec = await container.exec({ Cmd: ["true"], AttachStdout: true, AttachStderr: true });
      const stream = await exec.start({ hijack: true, stdin: false });
      await new Promise((resolve) => {
        stream.on("end", resolve);
        stream.on("close", resolve);
        stream.resume();
      });
      await exec.inspect();
    });
    const coldSamples = await timeEach(starts, async () => {
      const fresh = await backend.create();
      await fresh.close();
    });
    const results = {
      sandfarm_exec_p50_ms: percentile(sandfarmSamples, 50),
      sandfarm_exec_p99_ms: percentile(sandfarmSamples, 99),
      docker_cli_exec_p50_ms: percentile(cliSamples, 50),
      docker_cli_exec_p99_ms: percentile(cliSamples, 99),
      api_exec_no_helper_p50_ms: percentile(apiSamples, 50),
      create_and_remove_p50_ms: percentile(coldSamples, 50),
      speedup_vs_docker_cli_p50:
        Math.round((percentile(cliSamples, 50) / percentile(sandfarmSamples, 50)) * 100) / 100,
      commands_per_path: commands,
    };
    writeResults(
      "exec",
      [
        [
          "sandfarm exec `true` p50 / p99 (ms)",
          `${results.sandfarm_exec_p50_ms} / ${results.sandfarm_exec_p99_ms}`,
        ],
        [
          "docker CLI exec `true` p50 / p99 (ms)",
          `${results.docker_cli_exec_p50_ms} / ${results.docker_cli_exec_p99_ms}`,
        ],
        ["bare API exec, no helper, p50 (ms)", `${results.api_exec_no_helper_p50_ms}`],
        ["sandbox create + remove p50 (ms)", `${results.create_and_remove_p50_ms}`],
        ["speed-up over docker CLI (p50 ratio)", `${results.speedup_vs_docker_cli_p50}x`],
      ],
      results,
    );
  } finally {
    await sandbox.close();
  }
}
