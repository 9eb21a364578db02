/** The in-sandbox runner: used when it can be, restarted when killed, bypassed when unusable. */
import { describe, expect, it } from "vitest";
import { testBackend } from "../../testing/sandboxes.js";

describe("the runner", () => {
  it("serves commands through one long-lived process", async () => {
    const sandbox = await testBackend({ execMode: "runner" }).create();
    try {
      expect(await sandbox.warmUp()).toBe(true);
      expect(sandbox.execPath).toBe("runner");
      const first = await sandbox.exec("echo $PPID");
      const second = await sandbox.exec("echo $PPID");
      expect(first.stdout).toBe(second.stdout);
      const parent = await sandbox.exec(`ps -o args= -p ${first.stdout.trim()}`);
      expect(parent.stdout).toBe("sandfarm-runner\n");
      expect(await sandbox.isResponsive()).toBe(true);
    } finally {
      await sandbox.close();
    }
  });

  it("is restarted transparently after the model kills it", async () => {
    const sandbox = await testBackend({ execMode: "runner" }).create();
    try {
      const before = (await sandbox.exec("echo $PPID")).stdout;
      const killed = await sandbox.exec("kill -9 $PPID");
      expect(killed.runnerKilled).toBe(true);
      const after = await sandbox.exec("echo $PPID; echo fine");
      expect(after.stdout).toMatch(/^\d+\nfine\n$/);
      expect(after.stdout.split("\n")[0]).not.toBe(before.trim());
      expect(sandbox.execPath).toBe("runner");
    } finally {
      await sandbox.close();
    }
  });

  it("answers many commands in a row with exact outputs", async () => {
    const sandbox = await testBackend({ execMode: "runner" }).create();
    try {
      for (let index = 0; index < 50; index++) {
        const result = await sandbox.exec(`echo ${index}; echo e${index} >&2; exit ${index % 7}`);
        expect(result).toMatchObject({
          stdout: `${index}\n`,
          stderr: `e${index}\n`,
          exitCode: index % 7,
        });
      }
    } finally {
      await sandbox.close();
    }
  });

  it("serialises concurrent calls on one sandbox", async () => {
    const sandbox = await testBackend({ execMode: "runner" }).create();
    try {
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, index) => sandbox.exec(`sleep 0.0${index}; echo ${index}`)),
      );
      expect(results.map((result) => result.stdout)).toEqual(
        Array.from({ length: 8 }, (_, index) => `${index}\n`),
      );
    } finally {
      await sandbox.close();
    }
  });

  it("falls back to one exec per command when the runner cannot start", async () => {
    const backend = testBackend({ execMode: "runner" });
    const sandbox = await backend.create();
    try {
      // A perl that refuses to run the runner but still runs the one-shot helper.
      const container = backend.docker.getContainer(sandbox.id);
      const sabotage = await container.exec({
        Cmd: [
          "bash",
          "-c",
          'mv /usr/bin/perl /usr/bin/perl.real && printf \'#!/bin/sh\\ncase "$2" in *sandfarm-runner*) exit 3;; esac\\nexec /usr/bin/perl.real "$@"\\n\' > /usr/bin/perl && chmod 755 /usr/bin/perl',
        ],
      });
      await sabotage.start({});
      // Until it has run: before it starts, an exec also reads Running false (with no exit code).
      for (let waited = 0; waited < 100; waited++) {
        const state = await sabotage.inspect();
        if (!state.Running && state.ExitCode !== null) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const result = await sandbox.exec("echo via exec");
      expect(result.stdout).toBe("via exec\n");
      expect(sandbox.execPath).toBe("exec");
      expect(sandbox.runnerProblem).toMatch(/the runner did not start/);
    } finally {
      await sandbox.close();
    }
  });
});
