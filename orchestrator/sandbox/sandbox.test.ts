import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { SandboxPathError } from "./errors.js";
import { SANDBOX_VARIANTS, useSandbox } from "../../testing/sandboxes.js";

describe.each(SANDBOX_VARIANTS)("%s", (_variant, variant) => {
  const sandbox = useSandbox({ ...variant });

  describe("exec", () => {
    it("runs a fresh bash -c in /testbed with stdout, stderr and the exit code apart", async () => {
      const result = await sandbox().exec("pwd; echo out; echo err >&2; exit 7");
      expect(result).toMatchObject({
        exitCode: 7,
        stdout: "/testbed\nout\n",
        stderr: "err\n",
        timedOut: false,
        truncated: false,
        oomKilled: false,
        runnerKilled: false,
      });
      expect(result.durationMs).toBeGreaterThan(0);
    });

    it("keeps neither working directory nor variables between calls, only files", async () => {
      await sandbox().exec("cd /tmp && export SANDFARM_X=1 && echo kept > /testbed/persist.txt");
      const result = await sandbox().exec('pwd; echo "x=${SANDFARM_X:-unset}"; cat persist.txt');
      expect(result.stdout).toBe("/testbed\nx=unset\nkept\n");
    });

    it("reports 128+N for a shell killed by signal N", async () => {
      expect((await sandbox().exec("kill -TERM $$")).exitCode).toBe(143);
    });

    it("reads stdin from /dev/null so a command waiting for input ends", async () => {
      const result = await sandbox().exec("cat; read line; echo after", { timeoutS: 10 });
      expect(result).toMatchObject({ exitCode: 0, stdout: "after\n", timedOut: false });
    });

    it("decodes binary output with replacement characters", async () => {
      const result = await sandbox().exec("printf 'ok\\xff\\xfe\\n'");
      expect(result.stdout).toBe("ok\uFFFD\uFFFD\n");
    });

    it("runs commands longer than Linux's 128 KiB argument limit", async () => {
      const payload = "z".repeat(300_000);
      const short = await sandbox().exec('echo "$0 $#"');
      const result = await sandbox().exec(`printf '%s' '${payload}' | wc -c; echo "$0 $#"`);
      expect(result.stdout).toBe(`300000\n${short.stdout}`);
      const leftovers = await sandbox().exec("ls -a /tmp | grep -c sandfarm-cmd || true");
      expect(leftovers.stdout.trim()).toBe("0");
    });

    it("passes only the configured environment, nothing from the host", async () => {
      const result = await sandbox().exec("env");
      expect(result.stdout).not.toMatch(/HOME=\/root\/\.|npm_|VITEST|NODE_/);
    });
  });

  describe("files", () => {
    it("round-trips tabs, CRLF, a missing final newline and unicode paths byte for byte", async () => {
      const text = "col1\tcol2\r\nline two\r\n\tlast without newline";
      await sandbox().writeFiles("/testbed/docs in here", [
        { path: "sub dir/ünïcødé 文件.txt", content: text },
      ]);
      const read = await sandbox().readFile("/testbed/docs in here/sub dir/ünïcødé 文件.txt");
      expect(read.content.equals(Buffer.from(text))).toBe(true);
      expect(read.mode).toBe(0o644);
      const viaShell = await sandbox().exec(
        "od -c 'docs in here/sub dir/ünïcødé 文件.txt' | head -2",
      );
      expect(viaShell.stdout).toContain("\\t   c   o   l   2  \\r  \\n");
    });

    it("moves 10 MB of random binary both ways intact", async () => {
      const content = randomBytes(10 * 1024 * 1024);
      await sandbox().writeFiles("/testbed/new/deep/dir", [
        { path: "blob.bin", content, mode: 0o755 },
      ]);
      const read = await sandbox().readFile("/testbed/new/deep/dir/blob.bin");
      expect(read.content.equals(content)).toBe(true);
      expect(read.mode).toBe(0o755);
      const sum = await sandbox().exec("sha256sum /testbed/new/deep/dir/blob.bin | cut -d' ' -f1");
      const { createHash } = await import("node:crypto");
      expect(sum.stdout.trim()).toBe(createHash("sha256").update(content).digest("hex"));
    });

    it("follows symbolic links and reports the target path", async () => {
      await sandbox().exec(
        "mkdir -p /testbed/real && echo target > /testbed/real/t.txt && ln -sf real/t.txt /testbed/link.txt",
      );
      const read = await sandbox().readFile("/testbed/link.txt");
      expect(read.content.toString()).toBe("target\n");
      expect(read.path).toBe("/testbed/real/t.txt");
    });

    it("says which problem a bad path has", async () => {
      await expect(sandbox().readFile("/testbed/nope.txt")).rejects.toMatchObject({
        problem: "not_found",
      });
      await expect(sandbox().readFile("/testbed")).rejects.toMatchObject({
        problem: "is_directory",
      });
      await expect(
        sandbox().readFile("/testbed/new/deep/dir/blob.bin", 1000),
      ).rejects.toBeInstanceOf(SandboxPathError);
      await expect(
        sandbox().writeFiles("/testbed", [{ path: "../escape.txt", content: "x" }]),
      ).rejects.toThrow(/without '\.\.'/);
    });
  });
});
