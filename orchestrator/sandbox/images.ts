/**
 * The sandbox image on every engine of a fleet: checked by image id (a tag can name different
 * builds on different hosts), and pushed from the local engine to those that lack it
 * (`docker save` streamed into `docker load`, no registry), verified by id after the load.
 *
 * @example
 * const problems = await imageProblems(engines, config.image, referenceId);
 * await pushImage(local, engine.docker, config.image, { onBytes: (sent) => bar.update(sent) });
 */
import { Transform } from "node:stream";
import type Docker from "dockerode";
import { InfrastructureError } from "../../common/errors.js";

function statusCodeOf(error: unknown): number | undefined {
  const code = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === "number" ? code : undefined;
}

/** The image's id and size on an engine, or undefined when the engine does not have it. */
export async function imageOn(
  docker: Docker,
  image: string,
): Promise<{ id: string; size: number } | undefined> {
  try {
    const inspected = await docker.getImage(image).inspect();
    return { id: inspected.Id, size: inspected.Size };
  } catch (error) {
    if (statusCodeOf(error) === 404) return undefined;
    throw error;
  }
}

/** An engine as the image check sees it. */
export interface ImageEngine {
  name: string;
  host: string;
  docker: Docker;
}

/**
 * What is wrong with the image on each engine, against `expectedId` (the local engine's build):
 * missing, or another build under the same tag. Each problem names the command that fixes it.
 */
export async function imageProblems(
  engines: readonly ImageEngine[],
  image: string,
  expectedId: string,
): Promise<string[]> {
  const problems = await Promise.all(
    engines.map(async (engine) => {
      const found = await imageOn(engine.docker, image);
      const fix = `run 'sandfarm image push --engine ${engine.name}' (or --all)`;
      if (!found)
        return `engine '${engine.name}' (${engine.host}) lacks the image ${image}: ${fix}`;
      if (found.id !== expectedId)
        return `engine '${engine.name}' (${engine.host}) has another build of ${image} (${shortId(found.id)}, the local engine's is ${shortId(expectedId)}): ${fix}`;
      return undefined;
    }),
  );
  return problems.filter((problem): problem is string => problem !== undefined);
}

export function shortId(id: string): string {
  return id.replace(/^sha256:/, "").slice(0, 12);
}

/**
 * Streams `image` from `source` into `target` and checks the id it ends with. A transfer that
 * breaks fails with the engine's own words; running it again starts over (engines keep no
 * partial loads), and layers the target already has are not written twice.
 */
export async function pushImage(
  source: Docker,
  target: { name: string; docker: Docker },
  image: string,
  options: { onBytes?: (sent: number) => void } = {},
): Promise<{ id: string; bytes: number }> {
  const wanted = await imageOn(source, image);
  if (!wanted)
    throw new InfrastructureError(
      `the local engine has no image ${image} to push: build it first (bash deploy/image/build.sh)`,
    );
  let sent = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      sent += chunk.length;
      options.onBytes?.(sent);
      done(null, chunk);
    },
  });
  try {
    const saved = await source.getImage(image).get();
    saved.on("error", (error: Error) => counter.destroy(error));
    saved.pipe(counter);
    const response = await target.docker.loadImage(counter);
    const text = await new Promise<string>((resolve, reject) => {
      let body = "";
      response.on("data", (chunk: Buffer) => (body += chunk.toString()));
      response.on("end", () => resolve(body));
      response.on("error", reject);
    });
    const failure = text
      .split("\n")
      .filter(Boolean)
      .map((line) => {
        try {
          return (JSON.parse(line) as { error?: string }).error;
        } catch {
          return undefined;
        }
      })
      .find(Boolean);
    if (failure) throw new Error(failure);
  } catch (error) {
    throw new InfrastructureError(
      `pushing ${image} to engine '${target.name}' failed after ${formatBytes(sent)}: ${(error as Error).message}; run the push again`,
      { cause: error },
    );
  }
  const loaded = await imageOn(target.docker, image);
  if (loaded?.id !== wanted.id)
    throw new InfrastructureError(
      `engine '${target.name}' holds ${loaded ? shortId(loaded.id) : "nothing"} for ${image} after the push, not ${shortId(wanted.id)}; run the push again`,
    );
  return { id: wanted.id, bytes: sent };
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024).toFixed(0)} KiB`;
}
