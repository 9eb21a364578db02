import { describe, expect, it } from "vitest";
import { SANDBOX_VARIANTS, useSandbox } from "../../testing/sandboxes.js";
import type { EditorArgs } from "./definitions.js";
import { FileEditor } from "./editor.js";

describe.each(SANDBOX_VARIANTS)("%s", (_variant, variant) => {
  const sandbox = useSandbox({ ...variant });
  const editor = (undo = false): FileEditor => new FileEditor(sandbox(), { enableUndoEdit: undo });

  async function run(args: EditorArgs, undo = false) {
    return editor(undo).run(args);
  }

  async function bytesOf(path: string): Promise<string> {
    return (await sandbox().readFile(path)).content.toString("utf8");
  }

  describe("view", () => {
    it("numbers lines like cat -n", async () => {
      await sandbox().writeFiles("/testbed/v", [{ path: "a.py", content: "one\n\ttwo\nthree" }]);
      const result = await run({ command: "view", path: "/testbed/v/a.py" });
      expect(result).toEqual({
        isError: false,
        observation: "/testbed/v/a.py, lines 1-3 of 3:\n     1\tone\n     2\t\ttwo\n     3\tthree",
      });
    });

    it("honours view_range, -1 for the end, and clamps an end past the file", async () => {
      expect(
        (await run({ command: "view", path: "/testbed/v/a.py", view_range: [2, 3] })).observation,
      ).toBe("/testbed/v/a.py, lines 2-3 of 3:\n     2\t\ttwo\n     3\tthree");
      expect(
        (await run({ command: "view", path: "/testbed/v/a.py", view_range: [3, -1] })).observation,
      ).toBe("/testbed/v/a.py, lines 3-3 of 3:\n     3\tthree");
      expect(
        (await run({ command: "view", path: "/testbed/v/a.py", view_range: [1, 99] })).observation,
      ).toContain("lines 1-3 of 3");
    });

    it("explains a bad view_range", async () => {
      const past = await run({ command: "view", path: "/testbed/v/a.py", view_range: [5, 6] });
      expect(past).toEqual({
        isError: true,
        observation:
          "view_range start 5 is outside the file, which has 3 lines. Use a start from 1 to 3.",
      });
      const reversed = await run({ command: "view", path: "/testbed/v/a.py", view_range: [3, 2] });
      expect(reversed.observation).toBe(
        "view_range end 2 is before start 3. Use [start, end] with end >= start, or -1 for the last line.",
      );
    });

    it("lists a directory two levels deep without hidden entries", async () => {
      await sandbox().writeFiles("/testbed/tree", [
        { path: "top.txt", content: "" },
        { path: "sub/inner.txt", content: "" },
        { path: "sub/deeper/too-deep.txt", content: "" },
        { path: ".hidden/secret.txt", content: "" },
        { path: "sub/.dotfile", content: "" },
      ]);
      const result = await run({ command: "view", path: "/testbed/tree" });
      expect(result.observation).toBe(
        "Entries of /testbed/tree, two levels deep, hidden ones left out:\n" +
          "/testbed/tree/sub/\n/testbed/tree/sub/deeper/\n/testbed/tree/sub/inner.txt\n/testbed/tree/top.txt",
      );
    });

    it("refuses binary files and missing paths with advice", async () => {
      await sandbox().writeFiles("/testbed/v", [
        { path: "b.bin", content: Buffer.from([0, 1, 2, 255]) },
      ]);
      expect((await run({ command: "view", path: "/testbed/v/b.bin" })).observation).toBe(
        "/testbed/v/b.bin is not UTF-8 text (4 bytes). Inspect it with xxd or python3 through execute_bash.",
      );
      expect(await run({ command: "view", path: "/testbed/v/missing.txt" })).toEqual({
        isError: true,
        observation:
          "/testbed/v/missing.txt does not exist. Check the path with: ls -la /testbed/v",
      });
    });

    it("clips long output at 10,000 characters with a note to grep", async () => {
      const content = Array.from({ length: 2000 }, (_, index) => `row ${index}`).join("\n");
      await sandbox().writeFiles("/testbed/v", [{ path: "long.txt", content }]);
      const result = await run({ command: "view", path: "/testbed/v/long.txt" });
      expect(result.observation.length).toBeLessThan(10_200);
      expect(result.observation).toMatch(/\[output clipped at 10,000 characters: .*grep -n/);
    });

    it("asks for an absolute path", async () => {
      expect((await run({ command: "view", path: "notes.txt" })).observation).toBe(
        "The path 'notes.txt' is not absolute. Use an absolute path such as '/testbed/notes.txt'.",
      );
    });
  });

  describe("create", () => {
    it("writes exactly file_text, creating parent directories", async () => {
      const text = "x = 1\r\n\tprint('tab')\nno final newline";
      const result = await run({
        command: "create",
        path: "/testbed/new dir/ü/solve.py",
        file_text: text,
      });
      expect(result).toEqual({
        isError: false,
        observation: "Created /testbed/new dir/ü/solve.py (3 lines, 37 bytes).",
      });
      expect(await bytesOf("/testbed/new dir/ü/solve.py")).toBe(text);
    });

    it("writes a 600 KB file with no argument-size limit", async () => {
      const text = "0123456789\n".repeat(60_000);
      await run({ command: "create", path: "/testbed/big.txt", file_text: text });
      expect((await sandbox().exec("wc -c < /testbed/big.txt")).stdout).toBe("660000\n");
    });

    it("turns a path the engine refuses into advice, not an infrastructure error", async () => {
      await sandbox().exec("echo x > /testbed/plain.txt");
      const under = await run({
        command: "create",
        path: "/testbed/plain.txt/sub.txt",
        file_text: "hi",
      });
      const local = variant.backend === "local";
      expect(under).toEqual({
        isError: true,
        // Docker's archive API and the local runner word the same refusal differently.
        observation: local
          ? "cannot write /testbed/plain.txt/sub.txt: not a directory (ENOTDIR). Use a path inside a directory, e.g. under /testbed."
          : "cannot write files to /testbed/plain.txt: extraction point is not a directory. Use a path inside a directory, e.g. under /testbed.",
      });
      const view = await run({ command: "view", path: "/testbed/plain.txt/sub.txt" });
      expect(view.isError).toBe(true);
      expect(view.observation).toMatch(
        local
          ? /^\/testbed\/plain\.txt\/sub\.txt does not exist\./
          : /^cannot read \/testbed\/plain\.txt\/sub\.txt: lstat \/testbed\/plain\.txt\/sub\.txt: not a directory/,
      );
      const proc = await run({
        command: "create",
        path: "/proc/sys/kernel/x.txt",
        file_text: "hi",
      });
      expect(proc.isError).toBe(true);
      expect(proc.observation).toMatch(/^cannot write (files to )?\/proc\/sys\/kernel/);
    });

    it("refuses an existing file and a missing file_text", async () => {
      await sandbox().writeFiles("/testbed/c", [{ path: "exists.txt", content: "keep me" }]);
      const result = await run({
        command: "create",
        path: "/testbed/c/exists.txt",
        file_text: "overwrite",
      });
      expect(result.isError).toBe(true);
      expect(result.observation).toContain("already exists; create does not overwrite");
      expect(await bytesOf("/testbed/c/exists.txt")).toBe("keep me");
      const empty = await sandbox().exec("touch /testbed/c/empty.txt");
      expect(empty.exitCode).toBe(0);
      expect(
        (await run({ command: "create", path: "/testbed/c/empty.txt", file_text: "x" })).isError,
      ).toBe(true);
      expect((await run({ command: "create", path: "/testbed/c/none.txt" })).observation).toBe(
        "create needs file_text: the full content of the new file.",
      );
    });
  });

  describe("str_replace", () => {
    it("replaces a unique match byte for byte and shows the region", async () => {
      await sandbox().writeFiles("/testbed/s", [
        { path: "f.txt", content: "a\tb\r\nkeep\r\nlast" },
      ]);
      const result = await run({
        command: "str_replace",
        path: "/testbed/s/f.txt",
        old_str: "keep\r\n",
        new_str: "",
      });
      expect(result).toEqual({
        isError: false,
        observation:
          "Edited /testbed/s/f.txt. The changed region now reads:\n     1\ta\tb\r\n     2\tlast",
      });
      expect(await bytesOf("/testbed/s/f.txt")).toBe("a\tb\r\nlast");
    });

    it("keeps the file's mode and owner", async () => {
      await sandbox().exec(
        "printf 'echo old\\n' > /testbed/s/run.sh && chmod 750 /testbed/s/run.sh && chown nobody /testbed/s/run.sh",
      );
      await run({
        command: "str_replace",
        path: "/testbed/s/run.sh",
        old_str: "old",
        new_str: "new",
      });
      const check = await sandbox().exec(
        "python3 -c \"import os, pwd; s = os.stat('/testbed/s/run.sh'); print(oct(s.st_mode & 0o777)[2:], pwd.getpwuid(s.st_uid).pw_name)\" && /testbed/s/run.sh",
      );
      expect(check.stdout).toBe("750 nobody\nnew\n");
    });

    it("says when old_str is missing, with a CRLF hint when that is why", async () => {
      const missing = await run({
        command: "str_replace",
        path: "/testbed/s/f.txt",
        old_str: "absent",
        new_str: "x",
      });
      expect(missing).toEqual({
        isError: true,
        observation:
          "old_str was not found in /testbed/s/f.txt. It must match exactly, including whitespace and indentation; view the file and copy the text.",
      });
      const crlf = await run({
        command: "str_replace",
        path: "/testbed/s/f.txt",
        old_str: "a\tb\nlast",
        new_str: "x",
      });
      expect(crlf.observation).toContain("write each line break in old_str as \\r\\n");
    });

    it("lists the lines of several matches and changes nothing", async () => {
      await sandbox().writeFiles("/testbed/s", [
        { path: "dup.txt", content: "x = 1\ny = 2\nx = 1\n\nx = 1\n" },
      ]);
      const result = await run({
        command: "str_replace",
        path: "/testbed/s/dup.txt",
        old_str: "x = 1",
        new_str: "z",
      });
      expect(result.observation).toBe(
        "old_str occurs 3 times in /testbed/s/dup.txt (starting on lines 1, 3, 5). Include more surrounding text so it occurs exactly once.",
      );
      expect(await bytesOf("/testbed/s/dup.txt")).toBe("x = 1\ny = 2\nx = 1\n\nx = 1\n");
    });

    it("edits the target of a symbolic link and leaves the link", async () => {
      await sandbox().exec(
        "printf 'v1\\n' > /testbed/s/target.txt && ln -sf target.txt /testbed/s/link.txt",
      );
      await run({
        command: "str_replace",
        path: "/testbed/s/link.txt",
        old_str: "v1",
        new_str: "v2",
      });
      const check = await sandbox().exec("readlink /testbed/s/link.txt; cat /testbed/s/target.txt");
      expect(check.stdout).toBe("target.txt\nv2\n");
    });
  });

  describe("insert", () => {
    it("inserts at the top, in the middle, and after a last line without newline", async () => {
      await sandbox().writeFiles("/testbed/i", [{ path: "f.txt", content: "one\ntwo" }]);
      await run({ command: "insert", path: "/testbed/i/f.txt", insert_line: 0, new_str: "zero" });
      await run({
        command: "insert",
        path: "/testbed/i/f.txt",
        insert_line: 2,
        new_str: "one and a half\n",
      });
      const result = await run({
        command: "insert",
        path: "/testbed/i/f.txt",
        insert_line: 4,
        new_str: "three",
      });
      expect(await bytesOf("/testbed/i/f.txt")).toBe("zero\none\none and a half\ntwo\nthree");
      expect(result.observation).toBe(
        "Inserted after line 4 of /testbed/i/f.txt. The region now reads:\n     1\tzero\n     2\tone\n     3\tone and a half\n     4\ttwo\n     5\tthree",
      );
    });

    it("uses the file's CRLF line endings for the breaks it adds", async () => {
      await sandbox().writeFiles("/testbed/i", [{ path: "crlf.txt", content: "a\r\nb\r\n" }]);
      await run({ command: "insert", path: "/testbed/i/crlf.txt", insert_line: 1, new_str: "mid" });
      expect(await bytesOf("/testbed/i/crlf.txt")).toBe("a\r\nmid\r\nb\r\n");
    });

    it("rejects a line outside the file and missing fields", async () => {
      expect(
        (
          await run({
            command: "insert",
            path: "/testbed/i/crlf.txt",
            insert_line: 9,
            new_str: "x",
          })
        ).observation,
      ).toBe(
        "insert_line 9 is outside /testbed/i/crlf.txt, which has 3 lines. Use a number from 0 to 3.",
      );
      expect(
        (await run({ command: "insert", path: "/testbed/i/crlf.txt", new_str: "x" })).isError,
      ).toBe(true);
      expect(
        (await run({ command: "insert", path: "/testbed/i/crlf.txt", insert_line: 1 })).isError,
      ).toBe(true);
    });
  });

  describe("undo_edit", () => {
    it("is refused unless enabled", async () => {
      expect((await run({ command: "undo_edit", path: "/testbed/i/f.txt" })).observation).toBe(
        "undo_edit is not enabled. Use view, create, str_replace or insert.",
      );
    });

    it("reverts edits in order and undoes a creation", async () => {
      const withUndo = editor(true);
      await withUndo.run({ command: "create", path: "/testbed/u/f.txt", file_text: "v1\n" });
      await withUndo.run({
        command: "str_replace",
        path: "/testbed/u/f.txt",
        old_str: "v1",
        new_str: "v2",
      });
      await withUndo.run({
        command: "insert",
        path: "/testbed/u/f.txt",
        insert_line: 1,
        new_str: "v3",
      });
      expect(await bytesOf("/testbed/u/f.txt")).toBe("v2\nv3");
      await withUndo.run({ command: "undo_edit", path: "/testbed/u/f.txt" });
      expect(await bytesOf("/testbed/u/f.txt")).toBe("v2\n");
      await withUndo.run({ command: "undo_edit", path: "/testbed/u/f.txt" });
      expect(await bytesOf("/testbed/u/f.txt")).toBe("v1\n");
      await withUndo.run({ command: "undo_edit", path: "/testbed/u/f.txt" });
      expect((await sandbox().exec("test -e /testbed/u/f.txt; echo $?")).stdout).toBe("1\n");
      expect(
        (await withUndo.run({ command: "undo_edit", path: "/testbed/u/f.txt" })).observation,
      ).toBe("There is no edit of /testbed/u/f.txt to undo.");
    });
  });
});
