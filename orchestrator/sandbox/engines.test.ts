import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { engineConnection, engineWarnings, parseEngines, resolveEngines } from "./engines.js";

const dir = mkdtempSync(join(tmpdir(), "sandfarm-engines-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("sandbox.engines", () => {
  it("takes unix and tcp engines, with defaults filled", () => {
    expect(
      parseEngines([
        { name: "local", host: "unix:///var/run/docker.sock" },
        {
          name: "cpu-1",
          host: "tcp://10.0.0.2:2376",
          tls: { ca: "ca.pem", cert: "cert.pem", key: "key.pem" },
          capacity: 64,
          maxStartsPerSecond: 8,
          runtime: "runsc",
        },
      ]),
    ).toEqual([
      { name: "local", host: "unix:///var/run/docker.sock", insecure: false, capacity: 256 },
      {
        name: "cpu-1",
        host: "tcp://10.0.0.2:2376",
        tls: { ca: "ca.pem", cert: "cert.pem", key: "key.pem" },
        insecure: false,
        capacity: 64,
        maxStartsPerSecond: 8,
        runtime: "runsc",
      },
    ]);
  });

  it("names each bad entry's key and the fix", () => {
    const problems = (input: unknown) => {
      try {
        parseEngines(input);
      } catch (error) {
        return (error as Error).message;
      }
      throw new Error("accepted");
    };
    expect(problems([{ name: "a", host: "tcp://10.0.0.2:2375" }])).toContain(
      "sandbox.engines[0].tls: tcp://10.0.0.2:2375 needs mutual TLS: set tls {ca, cert, key} (the CA that signed the engine's certificate, a client certificate and its key), or insecure: true",
    );
    expect(problems([{ name: "a", host: "http://10.0.0.2:2375" }])).toContain(
      "sandbox.engines[0].host: must be unix:///path/to/docker.sock or tcp://ADDRESS:PORT",
    );
    expect(
      problems([
        { name: "a", host: "unix:///a.sock" },
        { name: "a", host: "unix:///b.sock", capacity: 0 },
      ]),
    ).toMatch(
      /sandbox\.engines\[1\]\.capacity: .*\n\s+sandbox\.engines\[1\]\.name: 'a' names two engines/,
    );
    expect(problems([{ name: "Big Host", host: "unix:///a.sock" }])).toContain(
      "sandbox.engines[0].name: use lowercase letters, digits, '-' and '_'",
    );
    expect(
      problems([{ name: "a", host: "unix:///a.sock", tls: { ca: "c", cert: "c", key: "k" } }]),
    ).toContain("sandbox.engines[0].tls: a unix:// engine is a local socket");
    expect(problems([{ name: "a", host: "unix:///a.sock", port: 1 }])).toContain(
      "sandbox.engines[0]: Unrecognized key",
    );
  });

  it("with no list, reads Docker's variables as the docker CLI does", () => {
    expect(resolveEngines(undefined, {})).toEqual([
      { name: "default", host: "unix:///var/run/docker.sock", insecure: false, capacity: 256 },
    ]);
    expect(resolveEngines([], { DOCKER_HOST: "unix:///run/other.sock" })[0]!.host).toBe(
      "unix:///run/other.sock",
    );
    // Verified TLS, the certificates from DOCKER_CERT_PATH (default ~/.docker).
    expect(
      resolveEngines(undefined, {
        DOCKER_HOST: "tcp://10.0.0.2:2376",
        DOCKER_TLS_VERIFY: "1",
        DOCKER_CERT_PATH: "/certs",
      })[0],
    ).toMatchObject({
      host: "tcp://10.0.0.2:2376",
      tls: { ca: "/certs/ca.pem", cert: "/certs/cert.pem", key: "/certs/key.pem" },
      insecure: false,
    });
    expect(
      resolveEngines(undefined, { DOCKER_HOST: "10.0.0.2:2376", DOCKER_TLS_VERIFY: "1" })[0],
    ).toMatchObject({
      host: "tcp://10.0.0.2:2376",
      tls: { ca: join(homedir(), ".docker", "ca.pem") },
    });
    // TCP without DOCKER_TLS_VERIFY is the user's own choice there, as with the CLI: warned.
    const plain = resolveEngines(undefined, { DOCKER_HOST: "tcp://127.0.0.1:2375" });
    expect(plain[0]).toMatchObject({ insecure: true });
    expect(engineWarnings(plain)).toEqual([
      "engine 'default' at tcp://127.0.0.1:2375 has no TLS: anyone on that network can run containers on it",
    ]);
    expect(() => resolveEngines(undefined, { DOCKER_HOST: "ssh://me@host" })).toThrow(
      "DOCKER_HOST 'ssh://me@host' is not an engine address sandfarm can use",
    );
    // A configured list wins over the variables.
    const listed = parseEngines([{ name: "x", host: "unix:///x.sock" }]);
    expect(resolveEngines(listed, { DOCKER_HOST: "unix:///y.sock" })).toEqual(listed);
  });

  it("connects over the socket, or over TLS with the files' bytes, naming a missing file", () => {
    const [local] = parseEngines([{ name: "l", host: "unix:///run/d.sock" }]);
    expect(engineConnection(local!)).toEqual({ socketPath: "/run/d.sock" });
    for (const file of ["ca.pem", "cert.pem", "key.pem"])
      writeFileSync(join(dir, file), `bytes of ${file}`);
    const tls = { ca: join(dir, "ca.pem"), cert: join(dir, "cert.pem"), key: join(dir, "key.pem") };
    const [remote] = parseEngines([{ name: "r", host: "tcp://10.0.0.2:2376", tls }]);
    const options = engineConnection(remote!);
    expect({
      ...options,
      ca: String(options.ca),
      cert: String(options.cert),
      key: String(options.key),
    }).toEqual({
      host: "10.0.0.2",
      port: 2376,
      protocol: "https",
      ca: "bytes of ca.pem",
      cert: "bytes of cert.pem",
      key: "bytes of key.pem",
    });
    const [open] = parseEngines([{ name: "o", host: "tcp://127.0.0.1:2375", insecure: true }]);
    expect(engineConnection(open!)).toEqual({ host: "127.0.0.1", port: 2375, protocol: "http" });
    const [missing] = parseEngines([
      { name: "m", host: "tcp://10.0.0.3:2376", tls: { ...tls, key: join(dir, "nope.pem") } },
    ]);
    expect(() => engineConnection(missing!)).toThrow(
      `engine 'm': cannot read its TLS key file ${join(dir, "nope.pem")} (ENOENT)`,
    );
  });
});
