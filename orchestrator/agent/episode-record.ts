/**
 * `Episode`: everything one rollout produced, owned here. Per model call the exact prompt ids
 * (stored as a delta against the previous call's prompt and completion) and completion ids, sampled logprobs, policy version, usage and timings; per turn the tool call,
 * the observation and its capability tags; the conversation as sent; the answer and the stop
 * reason. Serialized one episode per JSONL line, versioned (`schemaVersion`), so a format change
 * is deliberate and old files are rejected with a clear error rather than misread.
 *
 * @example
 * const line = serializeEpisode(episode);
 * const again = parseEpisode(line);
 */
import { z } from "zod";
import { STOP_REASONS, type StopReason } from "../../rewards/route.js";
import type { ChatMessage } from "../policy/client.js";
import { CAPABILITIES, type Capability } from "./capabilities.js";
import { UserError } from "../../common/errors.js";

export const EPISODE_SCHEMA_VERSION = 1;

export interface EpisodeCall {
  /**
   * The prompt's ids, as a delta: the first `promptReuse` ids of the previous call's prompt +
   * completion, then `promptTokenIds`. Undefined when the server returned no token ids (the
   * episode is then not trainable).
   */
  promptReuse?: number;
  promptTokenIds?: number[];
  completionTokenIds?: number[];
  logprobs?: number[];
  version: number;
  replica: string;
  finishReason: string;
  usage: { promptTokens: number; completionTokens: number };
  /** The max_tokens the answered request carried. */
  maxTokens: number;
  /** Chat-completion requests sent for this call (1 unless retried). */
  attempts: number;
  /** Of those, requests repeated with a lower max_tokens after a context overflow. */
  overflowRetries?: number;
  /** The prompt's length as the server counted it before the call (`/tokenize`), if asked. */
  countedPromptTokens?: number;
  startedAt: number;
  durationMs: number;
}

export interface EpisodeTurn {
  /** The model call this turn answered. */
  call: number;
  /** The executed tool call (the first of the message's calls), if there was a valid one. */
  toolCall?: { id: string; name: string; arguments: string };
  observation: string;
  /** The call was missing, malformed or failed; the observation told the model how to fix it. */
  isError: boolean;
  capabilities: Capability[];
  /** For executed commands. */
  exec?: { exitCode: number; timedOut: boolean; oomKilled: boolean; durationMs: number };
  durationMs: number;
}

export interface Episode {
  schemaVersion: typeof EPISODE_SCHEMA_VERSION;
  rolloutId: string;
  groupId: string;
  taskId: string;
  domain: string;
  mode: "sandbox" | "llm";
  /** The conversation as last sent, plus the final assistant message. */
  messages: ChatMessage[];
  calls: EpisodeCall[];
  turns: EpisodeTurn[];
  /** The answer file's content (sandbox mode) or the final response (plain mode); null if none. */
  answer: string | null;
  stopReason: StopReason;
  /** What ended it, for the stop reasons that are failures. */
  error?: string;
  /** Every call returned token ids and logprobs. */
  tokenIdsAvailable: boolean;
  /** Calls were answered by more than one policy version. */
  spannedUpdate: boolean;
  /** Requests to the policy server, by kind (absent in episodes recorded before they were counted). */
  requests?: EpisodeRequests;
  startedAt: number;
  durationMs: number;
}

/** What one episode asked of the policy server. */
export interface EpisodeRequests {
  /** Model calls (answered chat completions). */
  calls: number;
  /** Chat-completion requests sent, retries and those of a call that failed included. */
  chat: number;
  /** Chat-completion requests repeated after a context overflow. */
  overflowRetries: number;
  /** `/tokenize` requests sent to measure a prompt before its call (answered or not). */
  tokenize: number;
}

const ids = z.array(z.number().int().min(0));

const messageSchema = z
  .object({
    role: z.enum(["system", "user", "assistant", "tool"]),
    content: z.string().nullable(),
    reasoning_content: z.string().nullable().optional(),
    reasoning: z.string().nullable().optional(),
    tool_calls: z
      .array(
        z.object({
          id: z.string(),
          type: z.literal("function"),
          function: z.object({ name: z.string(), arguments: z.string() }),
        }),
      )
      .optional(),
    tool_call_id: z.string().optional(),
  })
  .strict();

const episodeSchema = z
  .object({
    schemaVersion: z.literal(EPISODE_SCHEMA_VERSION),
    rolloutId: z.string().min(1),
    groupId: z.string(),
    taskId: z.string(),
    domain: z.string(),
    mode: z.enum(["sandbox", "llm"]),
    messages: z.array(messageSchema),
    calls: z.array(
      z
        .object({
          promptReuse: z.number().int().min(0).optional(),
          promptTokenIds: ids.optional(),
          completionTokenIds: ids.optional(),
          logprobs: z.array(z.number()).optional(),
          version: z.number().int(),
          replica: z.string(),
          finishReason: z.string(),
          usage: z.object({ promptTokens: z.number(), completionTokens: z.number() }).strict(),
          maxTokens: z.number().int(),
          attempts: z.number().int(),
          overflowRetries: z.number().int().min(0).optional(),
          countedPromptTokens: z.number().int().min(0).optional(),
          startedAt: z.number(),
          durationMs: z.number(),
        })
        .strict(),
    ),
    turns: z.array(
      z
        .object({
          call: z.number().int().min(0),
          toolCall: z
            .object({ id: z.string(), name: z.string(), arguments: z.string() })
            .strict()
            .optional(),
          observation: z.string(),
          isError: z.boolean(),
          capabilities: z.array(z.enum(CAPABILITIES)),
          exec: z
            .object({
              exitCode: z.number().int(),
              timedOut: z.boolean(),
              oomKilled: z.boolean(),
              durationMs: z.number(),
            })
            .strict()
            .optional(),
          durationMs: z.number(),
        })
        .strict(),
    ),
    answer: z.string().nullable(),
    stopReason: z.enum(STOP_REASONS),
    error: z.string().optional(),
    tokenIdsAvailable: z.boolean(),
    spannedUpdate: z.boolean(),
    requests: z
      .object({
        calls: z.number().int().min(0),
        chat: z.number().int().min(0),
        overflowRetries: z.number().int().min(0),
        tokenize: z.number().int().min(0),
      })
      .strict()
      .optional(),
    startedAt: z.number(),
    durationMs: z.number(),
  })
  .strict();

export class EpisodeFormatError extends UserError {}

export function serializeEpisode(episode: Episode): string {
  return JSON.stringify(episode);
}

/** Parses one JSONL line; a line of another schema version or shape names what is wrong. */
export function parseEpisode(line: string): Episode {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new EpisodeFormatError(`not JSON: ${(error as Error).message}`);
  }
  return episodeFromValue(value);
}

/** Validates an already parsed episode (e.g. one nested in another record). */
export function episodeFromValue(value: unknown): Episode {
  const version = (value as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (version !== EPISODE_SCHEMA_VERSION) {
    throw new EpisodeFormatError(
      `episode schemaVersion ${JSON.stringify(version)} is not ${EPISODE_SCHEMA_VERSION}; this sandfarm reads version ${EPISODE_SCHEMA_VERSION} only`,
    );
  }
  const parsed = episodeSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new EpisodeFormatError(`${issue.path.join(".") || "(episode)"}: ${issue.message}`);
  }
  return parsed.data;
}
