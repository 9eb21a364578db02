/**
 * One line of `sandfarm doctor` per engine: does it answer, which Docker, over what (mutual TLS,
 * a unix socket, or in the clear), which runtimes, which build of the image, how much space its
 * data-root has left, and its capacity. Free space is read by a short-lived container of the
 * image with the data-root mounted read-only (the Docker API does not report it).
 *
 * @example
 * const checks = await Promise.all(engines.map((engine) => engineCheck(engine, image, expectedId)));
 */
import Docker from "dockerode";
import type { DoctorCheck } from "../util/doctor-check.js";
import { type EngineSpec, describeEngineFailure, engineConnection, pingEngine } from "./engines.js";
import { formatBytes, imageOn, shortId } from "./images.js";

/** Free bytes on the engine's data-root, or undefined when it cannot be read. */
async function dataRootFree(
  docker: Docker,
  image: string,
  dataRoot: string,
): Promise<number | undefined> {
  try {
    const container = await docker.createContainer({
      Image: image,
      Entrypoint: ["df", "-B1", "--output=avail", "/data-root"],
      Cmd: [],
      NetworkDisabled: true,
      HostConfig: { Binds: [`${dataRoot}:/data-root:ro`], NetworkMode: "none" },
    });
    try {
      await container.start();
      await container.wait();
      const logs = (await container.logs({ stdout: true, stderr: false })).toString("latin1");
      const value = Number(/(\d+)\s*$/.exec(logs)?.[1]);
      return Number.isFinite(value) ? value : undefined;
    } finally {
      await container.remove({ force: true }).catch(() => undefined);
    }
  } catch {
    return undefined;
  }
}

export async function engineCheck(
  spec: EngineSpec,
  image: string,
  expectedImageId: string | undefined,
): Promise<DoctorCheck> {
  const name = `engine ${spec.name}`;
  let docker: Docker;
  try {
    docker = new Docker(engineConnection(spec));
    await pingEngine(docker, AbortSignal.timeout(5000));
  } catch (error) {
    return {
      name,
      ok: false,
      detail: describeEngineFailure(spec, error),
      fix: spec.host.startsWith("tcp://")
        ? "start the engine there (bash deploy/sandbox-host.sh) or fix its sandbox.engines entry"
        : "run 'bash deploy/engine.sh' (as root)",
    };
  }
  const version = await docker.version();
  const info = (await docker.info()) as {
    Runtimes?: Record<string, unknown>;
    DockerRootDir?: string;
  };
  const transport = spec.host.startsWith("unix://")
    ? "unix socket"
    : spec.tls
      ? "mutual TLS"
      : "NO TLS";
  const found = await imageOn(docker, image);
  const free =
    found && info.DockerRootDir ? await dataRootFree(docker, image, info.DockerRootDir) : undefined;
  const parts = [
    `Docker ${version.Version} at ${spec.host} (${transport})`,
    `runtimes ${Object.keys(info.Runtimes ?? {}).join(", ") || "none"}`,
    `image ${found ? shortId(found.id) : "missing"}`,
    `data-root ${info.DockerRootDir ?? "?"} ${free === undefined ? "free space unknown" : `${formatBytes(free)} free`}`,
    `capacity ${spec.capacity}`,
  ];
  const imageProblem = !found
    ? `run 'sandfarm image push --engine ${spec.name}'`
    : expectedImageId && found.id !== expectedImageId
      ? `its ${image} is another build than the local engine's (${shortId(expectedImageId)}): run 'sandfarm image push --engine ${spec.name}'`
      : undefined;
  return {
    name,
    ok: imageProblem === undefined,
    detail: parts.join("; "),
    ...(imageProblem ? { fix: imageProblem } : {}),
  };
}
