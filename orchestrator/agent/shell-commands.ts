/**
 * Splits a bash command into the simple commands it runs, so that each can be judged by its
 * command word, operands, redirections and stdin. It is a tokenizer, not a bash parser: it only
 * needs to find where commands start and what text is data, and it tolerates unclosed quotes.
 * Separators are `;`, `&`, `&&`, `||`, `|`, newlines, `( )`, `$( )`, backticks and `<( )`/`>( )`;
 * quotes and backslashes protect their content, `#` starts a comment, heredoc bodies and
 * here-strings become stdin text, and arithmetic `$(( ))`/`(( ))` and `${ }` hold no commands.
 * Nested scripts append to one flat list, because tags do not depend on where a command sits.
 */

/** Beyond this depth of `$( )`, subshells, backticks and `bash -c`, content is skipped. */
export const MAX_NESTING = 16;
/** What a command or process substitution leaves in the word that contains it. */
const SUBSTITUTION = "$()";
const WORD_BREAKS = new Set([" ", "\t", "\r", "\n", ";", "&", "|", "(", ")", "<", ">"]);

export interface SimpleCommand {
  words: string[];
  /** Output or input is redirected to or from a real file. */
  touchesFile: boolean;
  /** Text of a heredoc or here-string fed to stdin. */
  stdinText: string | undefined;
  /** Reads the previous stage of a pipeline. */
  pipedInput: boolean;
}

interface PendingHeredoc {
  command: SimpleCommand;
  delimiter: string;
  stripTabs: boolean;
}

const newCommand = (pipedInput: boolean): SimpleCommand => ({
  words: [],
  touchesFile: false,
  stdinText: undefined,
  pipedInput,
});

function isDigit(char: string): boolean {
  return char >= "0" && char <= "9";
}

/** Whether a redirection target or operand names a real file rather than a stream or stdin. */
export function isFileTarget(target: string): boolean {
  return (
    target !== "" && !/^(?:-|\/dev\/(?:null|zero|tty|stdin|stdout|stderr|fd\/\d+))$/.test(target)
  );
}

/** Splits `script`, found `depth` levels deep in other scripts, into its simple commands. */
export function simpleCommands(script: string, depth: number): SimpleCommand[] {
  return new ShellParser(script, depth).parse();
}

/** Splits a bash script into simple commands; nested scripts append to the same list. */
class ShellParser {
  private pos = 0;
  private nesting = 0;
  private readonly pending: PendingHeredoc[] = [];

  constructor(
    private readonly src: string,
    private readonly depth: number,
    readonly commands: SimpleCommand[] = [],
  ) {}

  parse(): SimpleCommand[] {
    this.parseSequence(false);
    return this.commands;
  }

  private char(offset = 0): string {
    return this.src.charAt(this.pos + offset);
  }

  private finish(command: SimpleCommand): void {
    if (command.words.length > 0 || command.touchesFile) this.commands.push(command);
  }

  /** Parses commands until the end, or until the `)` that closes a group when `inGroup`. */
  private parseSequence(inGroup: boolean): void {
    let command = newCommand(false);
    while (this.pos < this.src.length) {
      const char = this.char();
      const next = this.char(1);
      if (char === " " || char === "\t" || char === "\r") {
        this.pos += 1;
      } else if (char === "\\" && next === "\n") {
        this.pos += 2;
      } else if (char === "\n") {
        this.pos += 1;
        this.finish(command);
        this.readHeredocBodies();
        command = newCommand(false);
      } else if (char === "#") {
        const end = this.src.indexOf("\n", this.pos);
        this.pos = end === -1 ? this.src.length : end;
      } else if (char === "&" && next === ">") {
        this.parseRedirection(command);
      } else if (char === ";" || char === "&" || (char === "|" && next === "|")) {
        this.pos += (char === "&" && next === "&") || (char === "|" && next === "|") ? 2 : 1;
        this.finish(command);
        command = newCommand(false);
      } else if (char === "|") {
        this.pos += next === "&" ? 2 : 1;
        this.finish(command);
        command = newCommand(true);
      } else if (char === "(") {
        this.finish(command);
        if (next === "(") this.pos = this.skipBalanced(this.pos + 2, 2);
        else {
          this.pos += 1;
          this.nested();
        }
        command = newCommand(false);
      } else if (char === ")") {
        this.pos += 1;
        this.finish(command);
        if (inGroup) return;
        command = newCommand(false);
      } else if (this.atRedirection()) {
        this.parseRedirection(command);
      } else {
        const word = this.readWord();
        if (word === undefined) this.pos += 1;
        else command.words.push(word);
      }
    }
    this.finish(command);
  }

  /** Parses a group whose `(` is consumed, or skips it when nested too deep. */
  private nested(): void {
    if (this.depth + this.nesting >= MAX_NESTING) {
      this.pos = this.skipBalanced(this.pos, 1);
      return;
    }
    this.nesting += 1;
    this.parseSequence(true);
    this.nesting -= 1;
  }

  /** Returns the index after the `)` that brings `depth` open parentheses to zero. */
  private skipBalanced(from: number, depth: number): number {
    const src = this.src;
    let open = depth;
    let index = from;
    while (index < src.length) {
      const char = src.charAt(index);
      if (char === "\\") index += 2;
      else if (char === "'") {
        const end = src.indexOf("'", index + 1);
        index = end === -1 ? src.length : end + 1;
      } else if (char === '"') {
        index += 1;
        while (index < src.length && src.charAt(index) !== '"') {
          index += src.charAt(index) === "\\" ? 2 : 1;
        }
        index += 1;
      } else {
        index += 1;
        if (char === "(") open += 1;
        else if (char === ")" && --open === 0) return index;
      }
    }
    return src.length;
  }

  private atRedirection(): boolean {
    let index = this.pos;
    while (isDigit(this.src.charAt(index))) index += 1;
    const char = this.src.charAt(index);
    return char === "<" || char === ">";
  }

  private startsWith(text: string): boolean {
    return this.src.startsWith(text, this.pos);
  }

  private parseRedirection(command: SimpleCommand): void {
    while (isDigit(this.char())) this.pos += 1;
    if (this.startsWith("<(") || this.startsWith(">(")) {
      this.pos += 2;
      this.nested();
      return;
    }
    if (this.startsWith("<<<")) {
      this.pos += 3;
      const text = this.readTarget();
      if (text !== undefined) command.stdinText = text;
      return;
    }
    if (this.startsWith("<<")) {
      const stripTabs = this.char(2) === "-";
      this.pos += stripTabs ? 3 : 2;
      const delimiter = this.readTarget();
      if (delimiter !== undefined) this.pending.push({ command, delimiter, stripTabs });
      return;
    }
    const duplicates = this.startsWith(">&") || this.startsWith("<&");
    if (this.startsWith("&>>")) this.pos += 3;
    else if (duplicates || /^(?:&>|>>|>\||<>)/.test(this.src.slice(this.pos, this.pos + 2))) {
      this.pos += 2;
    } else this.pos += 1;
    const target = this.readTarget();
    if (target === undefined || (duplicates && /^\d*-?$/.test(target))) return;
    if (isFileTarget(target)) command.touchesFile = true;
  }

  /** The word after a redirection operator; a process substitution is parsed, not a file. */
  private readTarget(): string | undefined {
    while (this.char() === " " || this.char() === "\t") this.pos += 1;
    if (this.startsWith("<(") || this.startsWith(">(")) {
      this.pos += 2;
      this.nested();
      return undefined;
    }
    return this.readWord();
  }

  /** Reads one word with quotes removed; undefined when the cursor is not at a word. */
  private readWord(): string | undefined {
    const start = this.pos;
    let text = "";
    while (this.pos < this.src.length) {
      const char = this.char();
      if (WORD_BREAKS.has(char)) break;
      if (char === "\\") {
        const next = this.char(1);
        if (next !== "\n") text += next;
        this.pos += 2;
      } else if (char === "'") {
        const end = this.src.indexOf("'", this.pos + 1);
        const stop = end === -1 ? this.src.length : end;
        text += this.src.slice(this.pos + 1, stop);
        this.pos = stop + 1;
      } else if (char === '"') {
        this.pos += 1;
        text += this.readDoubleQuoted();
      } else if (char === "`") {
        this.readBackticks();
        text += SUBSTITUTION;
      } else if (char === "$") {
        text += this.readDollar();
      } else {
        text += char;
        this.pos += 1;
      }
    }
    return this.pos === start ? undefined : text;
  }

  /** Reads up to and past the closing `"`; the opening one is consumed. */
  private readDoubleQuoted(): string {
    let text = "";
    while (this.pos < this.src.length) {
      const char = this.char();
      if (char === '"') {
        this.pos += 1;
        return text;
      }
      if (char === "\\") {
        const next = this.char(1);
        if (next === '"' || next === "\\" || next === "$" || next === "`") text += next;
        else if (next !== "\n") text += char + next;
        this.pos += 2;
      } else if (char === "`") {
        this.readBackticks();
        text += SUBSTITUTION;
      } else if (char === "$") {
        text += this.readDollar();
      } else {
        text += char;
        this.pos += 1;
      }
    }
    return text;
  }

  /** Reads an expansion starting at `$`: command substitutions are parsed as commands. */
  private readDollar(): string {
    const next = this.char(1);
    if (next === "(") {
      if (this.char(2) === "(") this.pos = this.skipBalanced(this.pos + 3, 2);
      else {
        this.pos += 2;
        this.nested();
      }
      return SUBSTITUTION;
    }
    if (next === "{") {
      const end = this.src.indexOf("}", this.pos);
      const stop = end === -1 ? this.src.length : end + 1;
      const text = this.src.slice(this.pos, stop);
      this.pos = stop;
      return text;
    }
    if (next === "'") {
      this.pos += 2;
      let text = "";
      while (this.pos < this.src.length && this.char() !== "'") {
        if (this.char() === "\\") {
          text += this.char(1);
          this.pos += 2;
        } else {
          text += this.char();
          this.pos += 1;
        }
      }
      this.pos += 1;
      return text;
    }
    if (next === '"') {
      this.pos += 2;
      return this.readDoubleQuoted();
    }
    this.pos += 1;
    return "$";
  }

  /** Parses a backtick substitution, unescaping its content as bash does. */
  private readBackticks(): void {
    let inner = "";
    let index = this.pos + 1;
    while (index < this.src.length) {
      const char = this.src.charAt(index);
      if (char === "`") break;
      if (char === "\\") {
        const next = this.src.charAt(index + 1);
        inner += next === "`" || next === "$" || next === "\\" ? next : char + next;
        index += 2;
      } else {
        inner += char;
        index += 1;
      }
    }
    this.pos = index + 1;
    const depth = this.depth + this.nesting + 1;
    if (depth <= MAX_NESTING) new ShellParser(inner, depth, this.commands).parse();
  }

  /** Reads the bodies of the heredocs opened on the line just ended. */
  private readHeredocBodies(): void {
    for (const heredoc of this.pending.splice(0)) {
      const lines: string[] = [];
      while (this.pos < this.src.length) {
        const end = this.src.indexOf("\n", this.pos);
        const stop = end === -1 ? this.src.length : end;
        const line = this.src.slice(this.pos, stop);
        this.pos = stop + 1;
        if ((heredoc.stripTabs ? line.replace(/^\t+/, "") : line) === heredoc.delimiter) break;
        lines.push(line);
      }
      heredoc.command.stdinText = lines.join("\n");
    }
  }
}
