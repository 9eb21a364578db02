/**
 * What a run records about where it came from: each input file's SHA-256 (a resume refuses a
 * changed one), sandfarm's git revision, and the sandbox image's id and recipe (checked before a
 * run starts, so a missing image is a message, not a failure mid-run).
 *
 * @example
 * const provenance = { datasets: await Promise.all(files.map(fingerprint)), git: gitRevision() };
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, statSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError } from "../../common/errors.js";
import type { SandboxSection } from "../config/sections.js";
import { connectDocker } from "../sandbox/docker-sandbox.js";
import { LABEL_IMAGE_RECIPE } from "../sandbox/labels.js";

export interface Fingerprint {
  file: string;
  bytes: number;
  sha256: string;
}

export async function fingerprint(file: string): Promise<Fingerprint> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return { file, bytes: statSync(file).size, sha256: hash.digest("hex") };
}

export function gitRevision(): string {
  try {
    const here = dirname(fileURLToPath(import.meta.url));
    return execFileSync("git", ["rev-parse", "HEAD"], {
      cwd: here,
      stdio: ["ignore", "pipe", "ignore"],
    })
      .toString()
      .trim();
  } catch {
    return "unknown (not a git checkout)";
  }
}

export async function imageProvenance(config: {
  sandbox: SandboxSection;
}): Promise<Record<string, string>> {
  if (config.sandbox.backend !== "docker")
    return { backend: config.sandbox.backend, image: config.sandbox.image };
  try {
    const image = await connectDocker().getImage(config.sandbox.image).inspect();
    return {
      backend: "docker",
      image: config.sandbox.image,
      id: image.Id,
      recipe: image.Config.Labels?.[LABEL_IMAGE_RECIPE] ?? "none",
    };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ECONNREFUSED" || code === "ENOENT" || code === "EACCES")
      throw new ConfigError(
        `no Docker engine answers (${(error as Error).message}); run 'bash deploy/engine.sh' (as root) or set DOCKER_HOST`,
      );
    throw new ConfigError(
      `sandbox.image ${config.sandbox.image} is not in the engine (${(error as Error).message}); ` +
        "run 'bash deploy/image/build.sh' (offline build) or set sandbox.image",
    );
  }
}
