/**
 * sandfarm's library entry, for code that drives its parts without the CLI:
 * - the error family and exit codes (`SandfarmError`, `UserError`, `EXIT_CODES`, ...);
 * - sandboxes (Docker, gVisor, local bubblewrap), the warm pool and the doctor;
 * - the three tools (`Toolbox`, `FileEditor`, their definitions and observation format);
 * - the policy client for vLLM-compatible endpoints and its context-overflow parser;
 * - episodes (`runEpisode`), their records, capability tags and token-exact training rows;
 * - datasets (`readTasks`, `scheduleTasks`, the `Task` schema, prompts, validation);
 * - rewards (`Rewarder`, the scorers and their registry, the LLM judge, group advantages);
 * - the `TrainingRow` contract (its Arrow codec and server live in `sandfarm/trainer-bridge`).
 *
 * @example
 * import { Toolbox, createBackend, parseSandboxConfig } from "sandfarm";
 * const sandbox = await createBackend(parseSandboxConfig()).create();
 * const toolbox = new Toolbox(sandbox);
 * await toolbox.execute({ name: "execute_bash", arguments: '{"command": "ls"}' });
 * await sandbox.close();
 */
export {
  ConfigError,
  EXIT_CODES,
  InfrastructureError,
  ModelError,
  SandfarmError,
  UserError,
} from "../common/errors.js";
export type { Fault } from "../common/errors.js";
export { SandboxLostError, SandboxPathError } from "./sandbox/errors.js";
export type { SandboxPathProblem } from "./sandbox/errors.js";
export {
  DEFAULT_SANDBOX_IMAGE,
  DROPPED_CAPABILITIES,
  parseSandboxConfig,
  sandboxConfigSchema,
} from "./sandbox/config.js";
export type { SandboxConfig, SandboxConfigInput } from "./sandbox/config.js";
export { createBackend } from "./sandbox/backend.js";
export type { ManagedSandbox, SandboxBackend } from "./sandbox/backend.js";
export { DockerBackend, DockerSandbox, connectDocker } from "./sandbox/docker-sandbox.js";
export { LocalBackend, LocalSandbox } from "./sandbox/local-sandbox.js";
export { SandboxPool, closePoolsOnSignal, parsePoolOptions } from "./sandbox/pool.js";
export type { PoolOptions, PoolStats } from "./sandbox/pool.js";
export { runDoctor } from "./sandbox/doctor.js";
export type { DoctorCheck } from "./sandbox/doctor.js";
export type { ExecOptions, ExecResult, FileRead, FileToWrite, Sandbox } from "./sandbox/types.js";
export { EXECUTE_BASH, STR_REPLACE_EDITOR, SUBMIT, toolDefinitions } from "./tools/definitions.js";
export type { FunctionTool, ToolOptions } from "./tools/definitions.js";
export { FileEditor } from "./tools/editor.js";
export { formatBashObservation } from "./tools/execute-bash.js";
export { Toolbox } from "./tools/toolbox.js";
export type { ToolCall, ToolOutcome, ToolboxOptions } from "./tools/toolbox.js";
export {
  ANSWER_TYPES,
  RowError,
  normalizeAnswerType,
  taskFromRow,
  taskSchema,
} from "../datasets/task.js";
export type { AnswerType, ColumnMapping, RowProblem, Task } from "../datasets/task.js";
export {
  DatasetError,
  ShardError,
  describeBadRow,
  parseShard,
  readTasks,
} from "../datasets/load.js";
export type { BadRow, LoadOptions, Shard } from "../datasets/load.js";
export {
  DATASET_FORMATS,
  DatasetFileError,
  UnknownFormatError,
  formatOf,
  readRawRows,
} from "../datasets/rows.js";
export type { DatasetFormat, RawRow } from "../datasets/rows.js";
export { scheduleTasks, seededRandom, shuffled } from "../datasets/schedule.js";
export type { ScheduleOptions, ScheduledTask } from "../datasets/schedule.js";
export { formatReport, validateDatasets } from "../datasets/validate.js";
export type { ValidationReport } from "../datasets/validate.js";
export {
  DEFAULT_TEMPLATES,
  PromptTemplateError,
  SANDBOX_PATHS,
  TEMPLATE_FILES,
  buildPrompt,
  inlineDocuments,
  loadPromptTemplates,
  outputKind,
} from "../datasets/prompts.js";
export type { OutputKind, Prompt, PromptMode, PromptTemplates } from "../datasets/prompts.js";
export { SCORERS, UnknownScorerError, scorerNamed } from "../rewards/registry.js";
export type { ScoreInput, ScoreResult, Scorer } from "../rewards/types.js";
export { ScorerPool } from "../rewards/pool.js";
export type { ScorerPoolOptions } from "../rewards/pool.js";
export { Rewarder, RewarderConfigError } from "../rewards/rewarder.js";
export type {
  CustomScorerSpec,
  OutcomeStatus,
  RewardOutcome,
  RewarderOptions,
} from "../rewards/rewarder.js";
export {
  DEFAULT_ANSWER_TYPE_ROUTES,
  DEFAULT_DOMAIN_ROUTES,
  EVALUATION_DOMAIN_ROUTES,
  INFRASTRUCTURE_STOP_REASONS,
  OVERLONG_STOP_REASONS,
  STOP_REASONS,
  finalAnswerLine,
  planReward,
  routeScorer,
} from "../rewards/route.js";
export type {
  RewardPlan,
  RewardRequest,
  RewardTask,
  RouteOptions,
  StopReason,
} from "../rewards/route.js";
export {
  JudgeConfigError,
  JudgeUnavailableError,
  LlmJudge,
  parseVerdict,
} from "../rewards/judge.js";
export type { JudgeOptions, Verdict } from "../rewards/judge.js";
export { CustomScorerError, commandScorer, loadModuleScorer } from "../rewards/custom.js";
export type { AsyncScorer, CommandScorerOptions } from "../rewards/custom.js";
export {
  IFEVAL_INSTRUCTION_IDS,
  checkInstruction,
  instructionProblems,
  scoreIfeval,
} from "../rewards/ifeval.js";
export { mathEquivalent, scoreMath } from "../rewards/math.js";
export { ADVANTAGE_ESTIMATORS, computeAdvantages, judgeGroup } from "../rewards/advantages.js";
export type {
  AdvantageEstimator,
  GroupMember,
  GroupOutcome,
  GroupVerdict,
} from "../rewards/advantages.js";
export {
  DeadlineExceededError,
  PolicyClient,
  PolicyUnavailableError,
  PromptTooLongError,
} from "./policy/client.js";
export type {
  ChatMessage,
  Completion,
  CompletionRequest,
  PolicyClientOptions,
  SamplingParams,
  ToolCallMessage,
} from "./policy/client.js";
export { parseContextOverflow } from "./policy/overflow.js";
export type { ContextOverflow } from "./policy/overflow.js";
export { runEpisode } from "./agent/episode.js";
export type {
  EpisodeIdentity,
  EpisodeOptions,
  EpisodeServices,
  SandboxSource,
} from "./agent/episode.js";
export {
  EPISODE_SCHEMA_VERSION,
  EpisodeFormatError,
  parseEpisode,
  serializeEpisode,
} from "./agent/episode-record.js";
export type { Episode, EpisodeCall, EpisodeTurn } from "./agent/episode-record.js";
export { CAPABILITIES, capabilitiesOf, capabilityRates } from "./agent/capabilities.js";
export type { Capability } from "./agent/capabilities.js";
export {
  episodeTrainingRows,
  mergeCalls,
  tokenCallsOf,
  toTrainingRows,
} from "./agent/token-rows.js";
export type { MergeMismatch, MergedRow, TokenCall } from "./agent/token-rows.js";
export {
  TRAINING_ROW_SCHEMA_VERSION,
  trainingRowProblems,
} from "../trainer-bridge/training-row.js";
export type { TrainingRow } from "../trainer-bridge/training-row.js";
