/**
 * Capability tags per turn: which of the paper's three meta-capabilities a tool call uses
 * (computation, external resource access, file management), so usage rates can be compared
 * across domains (method-facts.md, "Capability usage").
 *
 * @example
 * capabilitiesOf("execute_bash", { command: "pip install rdkit && python3 solve.py > out.txt" });
 * // => ["computation", "external_resource", "file_management"]
 *
 * Which command carries which tag is in capability-tables.ts. The rules around the tables:
 * - `str_replace_editor` is always file management; `submit` and unknown tools carry none.
 * - A bash command carries the union of its simple commands' tags (shell-commands.ts); quoted
 *   text and heredoc bodies are data. Tags are unique and in `CAPABILITIES` order.
 * - Assignments, keywords and prefixes (`sudo`, `timeout 5`, `xargs -n1`) are skipped to reach
 *   the command word, which counts by its basename (`/usr/bin/python3` is `python3`).
 * - Redirecting to or from a real file is file management (`/dev/null`, `&2` are not files).
 * - A shell with `-c`, a heredoc or a here-string, and `eval`, count as the script they run
 *   (nested up to `MAX_NESTING`); a shell running a script file or a pipe is computation.
 * - Code is not read from script files, only inline (`-c`, `-e`, a heredoc to an interpreter),
 *   and code that reads or writes files is computation only.
 */
import { EXECUTE_BASH, STR_REPLACE_EDITOR } from "../tools/definitions.js";
import {
  COMPUTATION_COMMANDS,
  EXTERNAL_COMMANDS,
  FILE_COMMANDS,
  FILE_READERS,
  type InterpreterSpec,
  INTERPRETERS,
  NETWORK_IN_CODE,
  PACKAGE_TOOLS,
  type PackageToolSpec,
  PREFIXES,
  PYTHON,
  type ReaderSpec,
  SHELLS,
  SKIPPED_KEYWORDS,
  VERSION_FLAGS,
} from "./capability-tables.js";
import { isFileTarget, MAX_NESTING, simpleCommands } from "./shell-commands.js";

export const CAPABILITIES = ["computation", "external_resource", "file_management"] as const;
export type Capability = (typeof CAPABILITIES)[number];

/** Tags for one executed tool call (the tool's name and its parsed arguments). */
export function capabilitiesOf(tool: string, args: Record<string, unknown>): Capability[] {
  const tags = new Set<Capability>();
  if (tool === STR_REPLACE_EDITOR) tags.add("file_management");
  else if (tool === EXECUTE_BASH && typeof args.command === "string") {
    tagScript(args.command, 0, tags);
  }
  return CAPABILITIES.filter((capability) => tags.has(capability));
}

/** Share of turns carrying each tag (usage rate = turns using it / total turns), for analysis. */
export function capabilityRates(
  turns: readonly (readonly Capability[])[],
): Record<Capability, number> {
  const rate = (capability: Capability): number =>
    turns.length === 0
      ? 0
      : turns.filter((tags) => tags.includes(capability)).length / turns.length;
  return {
    computation: rate("computation"),
    external_resource: rate("external_resource"),
    file_management: rate("file_management"),
  };
}

function tagScript(script: string, depth: number, tags: Set<Capability>): void {
  for (const command of simpleCommands(script, depth)) {
    if (command.touchesFile) tags.add("file_management");
    tagWords(command.words, command, depth, tags);
  }
}

/** How a command's input arrives, which decides what some commands read. */
interface InputContext {
  pipedInput: boolean;
  stdinText: string | undefined;
  /** Run by xargs, whose operands (file names) come from stdin. */
  viaXargs?: boolean;
}

const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*(?:\[[^\]]*\])?\+?=/;

function isVersionQuery(args: readonly string[]): boolean {
  return args.length > 0 && args.every((arg) => VERSION_FLAGS.has(arg));
}

function basename(word: string): string {
  return word.slice(word.lastIndexOf("/") + 1);
}

/** Index of the first word after `from` that is not an option or an option's value. */
function skipOptions(words: readonly string[], from: number, valued: readonly string[]): number {
  let index = from;
  for (let word = words[index]; word?.startsWith("-") && word !== "-"; word = words[index]) {
    if (word === "--") return index + 1;
    index += valued.includes(word) ? 2 : 1;
  }
  return index;
}

function tagWords(
  words: readonly string[],
  input: InputContext,
  depth: number,
  tags: Set<Capability>,
): void {
  let index = 0;
  let viaXargs = input.viaXargs === true;
  for (let word = words[index]; word !== undefined; word = words[index]) {
    if (ASSIGNMENT.test(word) || SKIPPED_KEYWORDS.has(word)) {
      index += 1;
      continue;
    }
    const name = basename(word);
    const valued = PREFIXES.get(name);
    if (valued === undefined) break;
    if (name === "command" && (words[index + 1] === "-v" || words[index + 1] === "-V")) return;
    index = skipOptions(words, index + 1, valued);
    if (name === "timeout") index += 1;
    if (name === "xargs") viaXargs = true;
  }
  const word = words[index];
  if (word === undefined) return;
  tagCommand(word, words.slice(index + 1), { ...input, viaXargs }, depth, tags);
}

function tagCommand(
  word: string,
  args: readonly string[],
  input: InputContext,
  depth: number,
  tags: Set<Capability>,
): void {
  const name = basename(word);
  const interpreter = INTERPRETERS.get(name);
  if (SHELLS.has(name)) tagShell(args, input, depth, tags);
  else if (name === "eval") {
    if (depth < MAX_NESTING) tagScript(args.join(" "), depth + 1, tags);
  } else if (PYTHON.test(name)) tagPython(args, input, tags);
  else if (interpreter !== undefined) tagInterpreter(interpreter, args, input, tags);
  else if (name === "find") tagFind(args, depth, tags);
  else tagOtherCommand(word, name, args, input, tags);
}

function tagOtherCommand(
  word: string,
  name: string,
  args: readonly string[],
  input: InputContext,
  tags: Set<Capability>,
): void {
  if (name === "rsync") {
    const remote = args.some((arg) => !arg.startsWith("-") && /^(?:[^/]*:|rsync:\/\/)/.test(arg));
    tags.add(remote ? "external_resource" : "file_management");
    return;
  }
  if (name === "tee") {
    if (args.some((arg) => !arg.startsWith("-") && isFileTarget(arg))) {
      tags.add("file_management");
    }
    return;
  }
  const reader = FILE_READERS.get(name);
  if (reader !== undefined && readsNamedFile(reader, args, input)) tags.add("file_management");
  if (FILE_COMMANDS.has(name)) tags.add("file_management");
  const tool = PACKAGE_TOOLS.get(/^pip[0-9.]*$/.test(name) ? "pip" : name);
  if (tool !== undefined) tagPackageTool(tool, args, tags);
  const computes = COMPUTATION_COMMANDS.has(name);
  const fetches = EXTERNAL_COMMANDS.has(name);
  const known = reader !== undefined || FILE_COMMANDS.has(name) || tool !== undefined;
  if (isVersionQuery(args)) return;
  if (computes || (word.includes("/") && !known && !fetches)) tags.add("computation");
  if (fetches) tags.add("external_resource");
}

function tagShell(
  args: readonly string[],
  input: InputContext,
  depth: number,
  tags: Set<Capability>,
): void {
  if (isVersionQuery(args)) return;
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index] ?? "";
    if (arg === "-" || arg === "--") break;
    if (!arg.startsWith("-") && !arg.startsWith("+")) {
      tags.add("computation");
      return;
    }
    if (!arg.startsWith("--") && arg.includes("c")) {
      const script = args[index + 1];
      if (script !== undefined && depth < MAX_NESTING) tagScript(script, depth + 1, tags);
      return;
    }
    if (arg === "-o" || arg === "-O" || arg === "+o" || arg === "+O") index += 1;
  }
  if (input.stdinText !== undefined) {
    if (depth < MAX_NESTING) tagScript(input.stdinText, depth + 1, tags);
  } else if (input.pipedInput) tags.add("computation");
}

function tagCode(code: string | undefined, tags: Set<Capability>): void {
  if (code !== undefined && NETWORK_IN_CODE.test(code)) tags.add("external_resource");
}

function tagPython(args: readonly string[], input: InputContext, tags: Set<Capability>): void {
  if (isVersionQuery(args)) return;
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index] ?? "";
    if (arg === "-" || !arg.startsWith("-")) {
      tags.add("computation");
      if (arg === "-") tagCode(input.stdinText, tags);
      return;
    }
    if (arg.startsWith("--")) continue;
    for (let letter = 1; letter < arg.length; letter += 1) {
      const flag = arg.charAt(letter);
      if (flag !== "c" && flag !== "m" && flag !== "W" && flag !== "X") continue;
      const attached = arg.slice(letter + 1);
      const value = attached === "" ? args[index + 1] : attached;
      const rest = args.slice(index + (attached === "" ? 2 : 1));
      if (flag === "m" && value === "pip") {
        const pip = PACKAGE_TOOLS.get("pip");
        if (pip !== undefined) tagPackageTool(pip, rest, tags);
        return;
      }
      if (flag === "c" || flag === "m") {
        tags.add("computation");
        if (flag === "c") tagCode(value, tags);
        return;
      }
      if (attached === "") index += 1;
      break;
    }
  }
  tags.add("computation");
  tagCode(input.stdinText, tags);
}

function tagInterpreter(
  spec: InterpreterSpec,
  args: readonly string[],
  input: InputContext,
  tags: Set<Capability>,
): void {
  if (isVersionQuery(args)) return;
  tags.add("computation");
  let sawCode = false;
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index] ?? "";
    const longCode = spec.codeFlags.find(
      (flag) => flag.startsWith("--") && arg.startsWith(`${flag}=`),
    );
    const codeCluster = /^-[A-Za-z]+$/.test(arg) && spec.codeFlags.includes(`-${arg.slice(-1)}`);
    if (longCode !== undefined) {
      sawCode = true;
      tagCode(arg.slice(longCode.length + 1), tags);
    } else if (spec.codeFlags.includes(arg) || codeCluster) {
      sawCode = true;
      tagCode(args[index + 1], tags);
      index += 1;
    } else if (spec.valueFlags?.includes(arg)) {
      index += 1;
    } else if (arg === "-") {
      break;
    } else if (!arg.startsWith("-")) {
      return;
    }
  }
  if (!sawCode) tagCode(input.stdinText, tags);
}

function tagFind(args: readonly string[], depth: number, tags: Set<Capability>): void {
  tags.add("file_management");
  if (depth >= MAX_NESTING) return;
  for (let index = 0; index < args.length; index += 1) {
    if (!["-exec", "-execdir", "-ok", "-okdir"].includes(args[index] ?? "")) continue;
    let end = index + 1;
    while (end < args.length && args[end] !== ";" && args[end] !== "+") end += 1;
    const input = { pipedInput: false, stdinText: undefined };
    tagWords(args.slice(index + 1, end), input, depth + 1, tags);
    index = end;
  }
}

function tagPackageTool(
  spec: PackageToolSpec,
  args: readonly string[],
  tags: Set<Capability>,
): void {
  const subcommands: string[] = [];
  for (let index = 0; index < args.length && subcommands.length < 2; index += 1) {
    const arg = args[index] ?? "";
    if (!arg.startsWith("-")) subcommands.push(arg);
    else if (spec.valueOptions?.includes(arg) && subcommands.length === 0) index += 1;
  }
  const [first, second] = subcommands;
  if (first === undefined) return;
  const matches = (list: readonly string[] | undefined): boolean =>
    list !== undefined && (list.includes(first) || list.includes(`${first} ${second}`));
  if (matches(spec.external)) tags.add("external_resource");
  else if (matches(spec.computation)) tags.add("computation");
  else if (spec.otherwise !== undefined) tags.add(spec.otherwise);
}

function readsNamedFile(spec: ReaderSpec, args: readonly string[], input: InputContext): boolean {
  if (input.viaXargs === true) return true;
  let programPending = spec.programOperand === true;
  let optionsEnded = false;
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index] ?? "";
    if (!optionsEnded && arg === "--") {
      optionsEnded = true;
    } else if (!optionsEnded && arg.startsWith("--")) {
      const name = arg.split("=", 1)[0] ?? arg;
      if (spec.recursiveLong?.includes(name)) return true;
      if (spec.programLong?.includes(name)) programPending = false;
      if (!arg.includes("=")) {
        if (spec.valueLong?.includes(name)) index += 1;
        else if (spec.pairLong?.includes(name)) index += 2;
      }
    } else if (!optionsEnded && arg.startsWith("-") && arg !== "-") {
      for (let letter = 1; letter < arg.length; letter += 1) {
        const flag = arg.charAt(letter);
        if (spec.recursiveLetters?.includes(flag)) return true;
        if (spec.programLetters?.includes(flag)) programPending = false;
        if (spec.attachedLetters?.includes(flag)) break;
        if (spec.valueLetters?.includes(flag)) {
          if (letter === arg.length - 1) index += 1;
          break;
        }
      }
    } else if (programPending) {
      programPending = false;
    } else if (arg !== "-" && isFileTarget(arg)) {
      return true;
    }
  }
  return spec.searchesCwd === true && !input.pipedInput && input.stdinText === undefined;
}
