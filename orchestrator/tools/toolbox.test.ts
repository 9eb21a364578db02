import { describe, expect, it } from "vitest";
import { SANDBOX_VARIANTS, useSandbox } from "../../testing/sandboxes.js";
import { toolDefinitions } from "./definitions.js";
import { formatBashObservation } from "./execute-bash.js";
import { Toolbox } from "./toolbox.js";

describe.each(SANDBOX_VARIANTS)("%s", (_variant, variant) => {
  const sandbox = useSandbox({ ...variant });

  function call(name: string, args: unknown) {
    return { name, arguments: typeof args === "string" ? args : JSON.stringify(args) };
  }

  describe("tool definitions", () => {
    it("match the reference's names and parameters exactly", () => {
      const tools = toolDefinitions();
      expect(tools.map((tool) => tool.function.name)).toEqual([
        "execute_bash",
        "str_replace_editor",
        "submit",
      ]);
      const [bash, editor, submit] = tools.map((tool) => tool.function.parameters) as [
        { properties: Record<string, { enum?: string[]; type: string }>; required: string[] },
        { properties: Record<string, { enum?: string[]; type: string }>; required: string[] },
        { properties: Record<string, unknown>; required: string[] },
      ];
      expect(Object.keys(bash.properties)).toEqual(["command"]);
      expect(bash.required).toEqual(["command"]);
      expect(Object.keys(editor.properties)).toEqual([
        "command",
        "path",
        "file_text",
        "old_str",
        "new_str",
        "insert_line",
        "view_range",
      ]);
      expect(editor.properties.command?.enum).toEqual(["view", "create", "str_replace", "insert"]);
      expect(editor.properties.insert_line?.type).toBe("integer");
      expect(editor.properties.view_range?.type).toBe("array");
      expect(editor.required).toEqual(["command", "path"]);
      expect(submit).toEqual({ type: "object", properties: {}, required: [] });
    });

    it("offer undo_edit only when enabled", () => {
      const tools = toolDefinitions({ enableUndoEdit: true });
      const editor = tools[1]!.function.parameters as {
        properties: { command: { enum: string[] } };
      };
      expect(editor.properties.command.enum).toContain("undo_edit");
    });
  });

  describe("formatBashObservation", () => {
    const base = {
      exitCode: 0,
      stdout: "",
      stderr: "",
      timedOut: false,
      truncated: false,
      oomKilled: false,
      runnerKilled: false,
      durationMs: 5,
    };

    it("shows the exit code and stdout, and stderr only when there is some", () => {
      expect(formatBashObservation({ ...base, stdout: "42\n" }, 120)).toBe(
        "Exit code: 0\n[stdout]\n42",
      );
      expect(
        formatBashObservation({ ...base, exitCode: 2, stderr: "\x1b[31mbad\x1b[0m\n" }, 120),
      ).toBe("Exit code: 2\n[stdout]\n(no output)\n[stderr]\nbad");
    });

    it("leads with notes on timeouts, memory and truncation", () => {
      const text = formatBashObservation(
        { ...base, exitCode: 124, timedOut: true, oomKilled: true, truncated: true },
        5,
        { memoryMb: 512, captureCapBytes: 1024 * 1024 },
      );
      const lines = text.split("\n");
      expect(lines[0]).toMatch(
        /^The command timed out after 5 s and its processes were killed\. .*nohup/,
      );
      expect(lines[1]).toMatch(
        /^A process was killed because the sandbox ran out of memory \(512 MiB\)\./,
      );
      expect(lines[2]).toMatch(/^The output was longer than 1024 KiB per stream; .*grep/);
      expect(lines[3]).toBe("Exit code: 124");
    });
  });

  describe("Toolbox", () => {
    it("runs execute_bash and cuts long output to 40 + 40 lines", async () => {
      const toolbox = new Toolbox(sandbox(), { commandTimeoutS: 30 });
      const outcome = await toolbox.execute(call("execute_bash", { command: "seq 1 100" }));
      const lines = outcome.observation.split("\n");
      expect(outcome.isError).toBe(false);
      expect(outcome.submitted).toBe(false);
      expect(outcome.exec?.stdout).toBe(
        Array.from({ length: 100 }, (_, index) => `${index + 1}\n`).join(""),
      );
      expect(lines.slice(0, 3)).toEqual(["Exit code: 0", "[stdout]", "1"]);
      expect(lines[41]).toBe("40");
      expect(lines[42]).toBe("[... 20 lines omitted ...]");
      expect(lines[43]).toBe("61");
      expect(lines.at(-1)).toBe("100");
    });

    it("applies the configured command timeout", async () => {
      const toolbox = new Toolbox(sandbox(), { commandTimeoutS: 1 });
      const outcome = await toolbox.execute(call("execute_bash", { command: "sleep 30" }));
      expect(outcome.exec).toMatchObject({ timedOut: true, exitCode: 124 });
      expect(outcome.observation).toMatch(/^The command timed out after 1 s/);
    });

    it("edits through str_replace_editor and ends on submit", async () => {
      const toolbox = new Toolbox(sandbox());
      const created = await toolbox.execute(
        call("str_replace_editor", {
          command: "create",
          path: "/testbed/answer.txt",
          file_text: "42",
        }),
      );
      expect(created.observation).toBe("Created /testbed/answer.txt (1 lines, 2 bytes).");
      const submitted = await toolbox.execute(call("submit", "{}"));
      expect(submitted).toEqual({
        observation: "Submitted. The answer is read from /testbed/answer.txt.",
        isError: false,
        submitted: true,
      });
      expect((await toolbox.execute(call("submit", ""))).submitted).toBe(true);
    });

    it("turns every malformed call into advice instead of an exception", async () => {
      const toolbox = new Toolbox(sandbox());
      expect((await toolbox.execute(call("run_python", { code: "1" }))).observation).toBe(
        "There is no tool named 'run_python'. Call one of: execute_bash, str_replace_editor, submit.",
      );
      expect((await toolbox.execute(call("execute_bash", '{"command": "ls"'))).observation).toMatch(
        /^The arguments of execute_bash are not valid JSON \(.*\)\. Send a JSON object, e\.g\. \{"command": "ls"\}\.$/,
      );
      expect((await toolbox.execute(call("execute_bash", "[1]"))).observation).toBe(
        'The arguments of execute_bash must be a JSON object, e.g. {"command": "ls"}.',
      );
      expect((await toolbox.execute(call("execute_bash", {}))).observation).toMatch(
        /^Invalid arguments for execute_bash: command: .*Check the tool's parameters and call it again\.$/,
      );
      const badType = await toolbox.execute(
        call("str_replace_editor", {
          command: "insert",
          path: "/testbed/x",
          insert_line: "3",
          new_str: "a",
        }),
      );
      expect(badType.isError).toBe(true);
      expect(badType.observation).toContain("insert_line:");
      const badCommand = await toolbox.execute(
        call("str_replace_editor", { command: "delete", path: "/testbed/x" }),
      );
      expect(badCommand.observation).toContain("command:");
      expect((await toolbox.execute(call("execute_bash", { command: "  " }))).observation).toBe(
        "The command is empty. Send the bash command to run.",
      );
      expect(
        (
          await toolbox.execute(
            call("str_replace_editor", { command: "undo_edit", path: "/testbed/x" }),
          )
        ).observation,
      ).toBe("undo_edit is not enabled. Use view, create, str_replace or insert.");
    });
  });
});
