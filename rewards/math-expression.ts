/**
 * A small LaTeX-math parser and evaluator: enough of the notation answers use (fractions in every
 * spelling, roots, powers, factorials, binomials, pi and e, trigonometric and log functions,
 * absolute values, implicit multiplication) to evaluate an answer numerically. Numeric evaluation
 * is the first check of math equivalence: ~0.02 ms against 1-80 ms for a CAS (docs/architecture.md,
 * "Environment traps measured here").
 */
import { ModelError } from "../common/errors.js";

export type Expr =
  | { kind: "num"; value: number }
  | { kind: "var"; name: string }
  | { kind: "neg"; arg: Expr }
  | { kind: "bin"; op: "+" | "-" | "*" | "/" | "^"; left: Expr; right: Expr }
  | { kind: "call"; name: string; args: Expr[] };

const FUNCTIONS = new Set([
  "sin",
  "cos",
  "tan",
  "cot",
  "sec",
  "csc",
  "arcsin",
  "arccos",
  "arctan",
  "sinh",
  "cosh",
  "tanh",
  "ln",
  "log",
  "exp",
  "sqrt",
  "abs",
  "fact",
  "binom",
  "root",
]);

type Token =
  { type: "num"; value: string } | { type: "id"; value: string } | { type: "op"; value: string };

/** An expression that does not parse; scoring treats it as no match. */
export class MathParseError extends ModelError {}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let index = 0;
  while (index < source.length) {
    const char = source[index]!;
    if (/\s/.test(char)) {
      index++;
      continue;
    }
    // An exponent only when digits follow: "2e3" is 2000, "2e" is 2·e.
    const number = /^(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?/.exec(source.slice(index));
    if (number) {
      tokens.push({ type: "num", value: number[0] });
      index += number[0].length;
      continue;
    }
    if (char === "\\") {
      const command = /^\\([a-zA-Z]+)/.exec(source.slice(index));
      if (!command) throw new MathParseError(`stray backslash at ${index}`);
      tokens.push({ type: "id", value: command[1]! });
      index += command[0].length;
      continue;
    }
    if (/[a-zA-Z]/.test(char)) {
      // Single letters: "xy" is x·y, as in written math.
      tokens.push({ type: "id", value: char });
      index++;
      continue;
    }
    if ("+-*/^()[]{}|!,".includes(char)) {
      tokens.push({ type: "op", value: char });
      index++;
      continue;
    }
    throw new MathParseError(`unexpected '${char}'`);
  }
  return tokens;
}

class Parser {
  private position = 0;
  constructor(private readonly tokens: Token[]) {}

  parse(): Expr {
    const expr = this.expression();
    if (this.position < this.tokens.length)
      throw new MathParseError(`unexpected '${this.peek()!.value}'`);
    return expr;
  }

  private peek(): Token | undefined {
    return this.tokens[this.position];
  }

  private isOp(value: string): boolean {
    const token = this.peek();
    return token?.type === "op" && token.value === value;
  }

  private isId(value: string): boolean {
    const token = this.peek();
    return token?.type === "id" && token.value === value;
  }

  private expect(value: string): void {
    if (!this.isOp(value)) throw new MathParseError(`expected '${value}'`);
    this.position++;
  }

  private expression(): Expr {
    let left = this.term();
    while (this.isOp("+") || this.isOp("-") || this.isId("pm")) {
      const op = this.peek()!.value === "-" ? "-" : "+";
      this.position++;
      left = { kind: "bin", op, left, right: this.term() };
    }
    return left;
  }

  private term(): Expr {
    let left = this.unary();
    for (;;) {
      if (this.isOp("*") || this.isId("cdot") || this.isId("times")) {
        this.position++;
        left = { kind: "bin", op: "*", left, right: this.unary() };
      } else if (this.isOp("/") || this.isId("div")) {
        this.position++;
        left = { kind: "bin", op: "/", left, right: this.unary() };
      } else if (this.startsPrimary()) {
        left = { kind: "bin", op: "*", left, right: this.power() };
      } else {
        return left;
      }
    }
  }

  private startsPrimary(): boolean {
    const token = this.peek();
    if (!token) return false;
    if (token.type === "num") return true;
    if (token.type === "id") return !["cdot", "times", "div", "pm"].includes(token.value);
    return token.value === "(" || token.value === "[" || token.value === "{";
  }

  private unary(): Expr {
    if (this.isOp("-")) {
      this.position++;
      return { kind: "neg", arg: this.unary() };
    }
    if (this.isOp("+")) {
      this.position++;
      return this.unary();
    }
    return this.power();
  }

  private power(): Expr {
    const base = this.postfix();
    if (this.isOp("^")) {
      this.position++;
      // Right-associative: 2^3^2 is 2^(3^2); a sign may lead the exponent: 4^-1.
      if (this.isOp("-")) {
        this.position++;
        return { kind: "bin", op: "^", left: base, right: { kind: "neg", arg: this.power() } };
      }
      return { kind: "bin", op: "^", left: base, right: this.power() };
    }
    return base;
  }

  private postfix(): Expr {
    let expr = this.primary();
    while (this.isOp("!")) {
      this.position++;
      expr = { kind: "call", name: "fact", args: [expr] };
    }
    return expr;
  }

  private group(open: string, close: string): Expr {
    this.expect(open);
    const inner = this.expression();
    this.expect(close);
    return inner;
  }

  private braced(): Expr {
    return this.group("{", "}");
  }

  /**
   * A function's argument: a delimited group, so a power after it applies to the result
   * (\sqrt{x}^2 and \sin(x)^2 square the function), or else an undelimited power (\sin x^2).
   */
  private argument(): Expr {
    if (this.isOp("{")) return this.braced();
    if (this.isOp("(")) return this.group("(", ")");
    return this.power();
  }

  private primary(): Expr {
    const token = this.peek();
    if (!token) throw new MathParseError("unexpected end");
    if (token.type === "num") {
      this.position++;
      return { kind: "num", value: Number(token.value) };
    }
    if (token.type === "op") {
      if (token.value === "(") return this.group("(", ")");
      if (token.value === "[") return this.group("[", "]");
      if (token.value === "{") return this.braced();
      if (token.value === "|") {
        return { kind: "call", name: "abs", args: [this.group("|", "|")] };
      }
      throw new MathParseError(`unexpected '${token.value}'`);
    }
    this.position++;
    const name = token.value;
    switch (name) {
      case "pi":
        return { kind: "num", value: Math.PI };
      case "infty":
        return { kind: "num", value: Infinity };
      case "frac":
        return { kind: "bin", op: "/", left: this.braced(), right: this.braced() };
      case "binom":
        return { kind: "call", name: "binom", args: [this.braced(), this.braced()] };
      case "sqrt": {
        if (this.isOp("[")) {
          const degree = this.group("[", "]");
          return { kind: "call", name: "root", args: [this.braced(), degree] };
        }
        return { kind: "call", name: "sqrt", args: [this.argument()] };
      }
      case "e":
        return { kind: "num", value: Math.E };
    }
    if (FUNCTIONS.has(name)) {
      // \sin^2 x means (sin x)^2.
      let exponent: Expr | undefined;
      if (this.isOp("^")) {
        this.position++;
        exponent = this.postfix();
      }
      const call: Expr = { kind: "call", name, args: [this.argument()] };
      return exponent ? { kind: "bin", op: "^", left: call, right: exponent } : call;
    }
    if (
      name.length === 1 ||
      /^(alpha|beta|gamma|theta|lambda|mu|omega|phi|sigma|tau)$/.test(name)
    ) {
      return { kind: "var", name };
    }
    throw new MathParseError(`unknown command \\${name}`);
  }
}

export function parseMath(source: string): Expr {
  return new Parser(tokenize(source)).parse();
}

function factorial(n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > 170) return Number.NaN;
  let result = 1;
  for (let k = 2; k <= n; k++) result *= k;
  return result;
}

export function evaluate(expr: Expr, variables: ReadonlyMap<string, number> = new Map()): number {
  switch (expr.kind) {
    case "num":
      return expr.value;
    case "var":
      return variables.get(expr.name) ?? Number.NaN;
    case "neg":
      return -evaluate(expr.arg, variables);
    case "bin": {
      const left = evaluate(expr.left, variables);
      const right = evaluate(expr.right, variables);
      switch (expr.op) {
        case "+":
          return left + right;
        case "-":
          return left - right;
        case "*":
          return left * right;
        case "/":
          return left / right;
        case "^":
          return left ** right;
      }
      break;
    }
    case "call": {
      const [a = Number.NaN, b = Number.NaN] = expr.args.map((arg) => evaluate(arg, variables));
      switch (expr.name) {
        case "sin":
          return Math.sin(a);
        case "cos":
          return Math.cos(a);
        case "tan":
          return Math.tan(a);
        case "cot":
          return 1 / Math.tan(a);
        case "sec":
          return 1 / Math.cos(a);
        case "csc":
          return 1 / Math.sin(a);
        case "arcsin":
          return Math.asin(a);
        case "arccos":
          return Math.acos(a);
        case "arctan":
          return Math.atan(a);
        case "sinh":
          return Math.sinh(a);
        case "cosh":
          return Math.cosh(a);
        case "tanh":
          return Math.tanh(a);
        case "ln":
          return Math.log(a);
        case "log":
          return Math.log10(a);
        case "exp":
          return Math.exp(a);
        case "sqrt":
          return Math.sqrt(a);
        case "abs":
          return Math.abs(a);
        case "fact":
          return factorial(a);
        case "binom":
          return factorial(a) / (factorial(b) * factorial(a - b));
        case "root":
          return a < 0 && b % 2 === 1 ? -((-a) ** (1 / b)) : a ** (1 / b);
      }
    }
  }
  return Number.NaN;
}

export function variablesOf(expr: Expr, into = new Set<string>()): Set<string> {
  if (expr.kind === "var") into.add(expr.name);
  else if (expr.kind === "neg") variablesOf(expr.arg, into);
  else if (expr.kind === "bin") {
    variablesOf(expr.left, into);
    variablesOf(expr.right, into);
  } else if (expr.kind === "call") for (const arg of expr.args) variablesOf(arg, into);
  return into;
}
