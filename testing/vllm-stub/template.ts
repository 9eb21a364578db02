/**
 * The stub policy server's chat template — a test double modelled on Qwen3's hermes-style
 * template, not a real model's. It renders segment by segment: every template literal and every
 * message field is encoded on its own and the ids are concatenated, so the rendering is not
 * `encode(wholeText)`. A builder that re-tokenizes decoded text therefore gets different ids, as it
 * would against a real server. Tool-call arguments are rendered from the message's `arguments`
 * string verbatim, so an assistant message sent back exactly as received re-renders to exactly
 * the ids that were sampled.
 *
 * @example
 * const ids = renderChat(
 *   [{ role: "user", content: "2+2?" }],
 *   [],
 *   { addGenerationPrompt: true },
 * );
 */
import { StubTokenizer } from "./tokenizer.js";

/** A text part of an OpenAI content array; other part types render as nothing. */
export interface ChatContentPart {
  type: string;
  text?: string;
}

/** A tool call as an assistant message carries it on the wire. */
export interface ChatToolCall {
  id?: string;
  type?: string;
  function: { name: string; arguments: string | Record<string, unknown> };
}

/** A chat message as a request carries it; fields the template does not read are ignored. */
export interface ChatMessage {
  role: string;
  content?: string | ChatContentPart[] | null;
  /** vLLM's field for an assistant turn's reasoning. */
  reasoning_content?: string | null;
  /** Newer vLLM's name for the same field; read when `reasoning_content` is absent. */
  reasoning?: string | null;
  tool_calls?: ChatToolCall[] | null;
  tool_call_id?: string;
  [field: string]: unknown;
}

export interface RenderOptions {
  /** Append `<|im_start|>assistant\n`, the prompt for the next assistant turn. @default false */
  addGenerationPrompt?: boolean;
  /**
   * Qwen3's rule: assistant turns before the last user message lose their reasoning in history,
   * so the next prompt no longer extends the previous prompt plus completion. @default false
   */
  dropEarlierReasoning?: boolean;
  /**
   * Render tool-call arguments as vLLM does in production: parsed, then dumped again with
   * Python's `json.dumps` spacing (", " and ": "). Arguments sampled in any other spacing then no
   * longer re-render to the sampled ids. @default false (verbatim)
   */
  reserializeToolArguments?: boolean;
  /**
   * Qwen3's `chat_template_kwargs: {enable_thinking: false}`: the generation prompt ends with an
   * empty think block, so the prompt is longer than with thinking on. @default true
   */
  enableThinking?: boolean;
}

/** What a segment holds; the sampler writes `reasoning` and `content` non-canonically on request. */
export type SegmentKind = "markup" | "reasoning" | "content" | "arguments";

/** One piece of the rendering, encoded on its own. */
export interface Segment {
  text: string;
  kind: SegmentKind;
}

const IM_START = "<|im_start|>";
const IM_END = "<|im_end|>";
const THINK = "<think>";
const END_THINK = "</think>";
const TOOL_CALL = "<tool_call>";
const END_TOOL_CALL = "</tool_call>";
const TOOL_RESPONSE = "<tool_response>";
const END_TOOL_RESPONSE = "</tool_response>";

const TOOLS_HEADER =
  "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n" +
  "You are provided with function signatures within <tools></tools> XML tags:\n<tools>";
const TOOLS_FOOTER =
  "\n</tools>\n\nFor each function call, return a json object with function name and arguments " +
  'within <tool_call></tool_call> XML tags:\n<tool_call>\n{"name": <function-name>, ' +
  '"arguments": <args-json-object>}\n</tool_call>';

/** The tokenizer every stub rendering uses; it is deterministic, so one instance serves all. */
export const stubTokenizer = new StubTokenizer();

/**
 * The stub's token ids for a conversation: what the stub server feeds its "model" as the prompt,
 * and what a token-exact training row should equal.
 */
export function renderChat(
  messages: readonly ChatMessage[],
  tools: readonly unknown[] | undefined,
  options: RenderOptions = {},
): number[] {
  return encodeSegments(chatSegments(messages, tools, options));
}

/** The text of `renderChat`'s rendering (what the ids decode to). */
export function renderChatText(
  messages: readonly ChatMessage[],
  tools: readonly unknown[] | undefined,
  options: RenderOptions = {},
): string {
  return chatSegments(messages, tools, options)
    .map((segment) => segment.text)
    .join("");
}

function encodeSegments(segments: readonly Segment[]): number[] {
  const ids: number[] = [];
  for (const segment of segments)
    for (const id of stubTokenizer.encodeShared(segment.text)) ids.push(id);
  return ids;
}

/** The segments of a conversation, in order. */
export function chatSegments(
  messages: readonly ChatMessage[],
  tools: readonly unknown[] | undefined,
  options: RenderOptions = {},
): Segment[] {
  const segments: Segment[] = [];
  const push = (text: string, kind: SegmentKind = "markup"): void => {
    if (text !== "") segments.push({ text, kind });
  };
  const system = messages[0]?.role === "system" ? messages[0] : undefined;
  if (tools && tools.length > 0) {
    push(IM_START);
    push("system\n");
    if (system) {
      push(contentText(system.content), "content");
      push("\n\n");
    }
    push(TOOLS_HEADER);
    for (const tool of tools) push(`\n${pythonJsonDumps(tool)}`);
    push(TOOLS_FOOTER);
    push(IM_END);
    push("\n");
  } else if (system) {
    push(IM_START);
    push("system\n");
    push(contentText(system.content), "content");
    push(IM_END);
    push("\n");
  }

  const lastUserIndex = messages.findLastIndex((message) => message.role === "user");
  messages.forEach((message, index) => {
    if (index === 0 && system) return;
    if (message.role === "assistant") {
      const keepReasoning = !options.dropEarlierReasoning || index > lastUserIndex;
      push(IM_START);
      push("assistant\n");
      for (const segment of assistantSegments(message, keepReasoning, options)) {
        push(segment.text, segment.kind);
      }
      push("\n");
    } else if (message.role === "tool") {
      if (messages[index - 1]?.role !== "tool") {
        push(IM_START);
        push("user");
      }
      push("\n");
      push(TOOL_RESPONSE);
      push("\n");
      push(contentText(message.content), "content");
      push("\n");
      push(END_TOOL_RESPONSE);
      if (messages[index + 1]?.role !== "tool") {
        push(IM_END);
        push("\n");
      }
    } else {
      push(IM_START);
      push(`${message.role}\n`);
      push(contentText(message.content), "content");
      push(IM_END);
      push("\n");
    }
  });
  if (options.addGenerationPrompt) {
    push(IM_START);
    push("assistant\n");
    if (options.enableThinking === false) push("<think>\n\n</think>\n\n");
  }
  return segments;
}

/**
 * An assistant turn after its `<|im_start|>assistant\n` header, ending with `<|im_end|>`: exactly
 * what the stub samples for that turn.
 */
export function assistantSegments(
  message: ChatMessage,
  keepReasoning = true,
  options: Pick<RenderOptions, "reserializeToolArguments"> = {},
): Segment[] {
  const segments: Segment[] = [];
  const push = (text: string, kind: SegmentKind = "markup"): void => {
    if (text !== "") segments.push({ text, kind });
  };
  const reasoning = message.reasoning_content ?? message.reasoning ?? "";
  if (keepReasoning && reasoning !== "") {
    push(THINK);
    push("\n");
    push(reasoning, "reasoning");
    push("\n");
    push(END_THINK);
    push("\n\n");
  }
  push(contentText(message.content), "content");
  for (const call of message.tool_calls ?? []) {
    push(TOOL_CALL);
    push("\n");
    push(`{"name": "${call.function.name}", "arguments": `);
    push(
      argumentsText(call.function.arguments, options.reserializeToolArguments ?? false),
      "arguments",
    );
    push("}");
    push("\n");
    push(END_TOOL_CALL);
  }
  push(IM_END);
  return segments;
}

function argumentsText(
  argumentsValue: string | Record<string, unknown>,
  reserialize: boolean,
): string {
  if (typeof argumentsValue !== "string") return pythonJsonDumps(argumentsValue);
  if (!reserialize) return argumentsValue;
  try {
    return pythonJsonDumps(JSON.parse(argumentsValue));
  } catch {
    return argumentsValue;
  }
}

/** A message's content as text: strings as they are, text parts joined, null as "". */
export function contentText(content: ChatMessage["content"]): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map((part) => part.text ?? "").join("");
  return "";
}

/**
 * JSON as Python's `json.dumps(value, ensure_ascii=False)` writes it (", " and ": "
 * separators, keys in insertion order): how Jinja's `tojson` renders tools and how vLLM's hermes
 * parser re-serializes arguments. Floats with an integral value print as JavaScript does ("1",
 * where Python would print "1.0").
 */
export function pythonJsonDumps(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => pythonJsonDumps(item)).join(", ")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).filter(([, item]) => item !== undefined);
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}: ${pythonJsonDumps(item)}`).join(", ")}}`;
  }
  return JSON.stringify(value) ?? "null";
}
