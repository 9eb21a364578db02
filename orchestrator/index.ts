/**
 * sandfarm's library entry: sandboxes (Docker, gVisor, local), the warm pool, and the three tools.
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
  InfrastructureError,
  InternalError,
  ModelError,
  SandboxLostError,
  SandboxPathError,
  SandfarmError,
} from "./errors.js";
export type { SandboxPathProblem } from "./errors.js";
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
