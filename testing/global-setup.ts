/**
 * Runs once before the suites: the Docker suites need a real engine and the sandbox image, and a
 * missing one must fail the run loudly, never skip it.
 */
import Docker from "dockerode";
import { DEFAULT_SANDBOX_IMAGE } from "../orchestrator/sandbox/config.js";

export default async function setup(): Promise<void> {
  const docker = new Docker();
  try {
    await docker.ping();
  } catch (error) {
    throw new Error(
      `the test suite needs a Docker engine and none answers (${(error as Error).message}); run 'bash deploy/engine.sh'`,
    );
  }
  try {
    await docker.getImage(DEFAULT_SANDBOX_IMAGE).inspect();
  } catch {
    throw new Error(
      `the test suite needs ${DEFAULT_SANDBOX_IMAGE}; run 'bash deploy/image/build.sh'`,
    );
  }
}
