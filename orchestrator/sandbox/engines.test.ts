import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { type AddressInfo } from "node:net";
import { request, createServer } from "node:https";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  describeEngineFailure,
  engineConnection,
  engineWarnings,
  enginesFromSelectors,
  parseEngines,
  resolveEngines,
} from "./engines.js";

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
      "sandbox.engines[0].tls: tcp://10.0.0.2:2375 needs mutual TLS: set tls {ca, cert, key} (bash deploy/certs.sh DIR ADDRESS makes them), or insecure: true",
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

  it("speaks mutual TLS with what deploy/certs.sh makes: verified both ways, the address checked", async () => {
    const certs = join(dir, "certs");
    const script = join(import.meta.dirname, "../../deploy/certs.sh");
    execFileSync("bash", [script, certs, "127.0.0.1", "localhost"], { stdio: "pipe" });
    execFileSync("bash", [script, certs, "10.0.0.2"], { stdio: "pipe" });
    expect(statSync(join(certs, "key.pem")).mode & 0o777).toBe(0o600);
    expect(statSync(join(certs, "ca-key.pem")).mode & 0o777).toBe(0o600);
    const server = createServer(
      {
        ca: readFileSync(join(certs, "ca.pem")),
        cert: readFileSync(join(certs, "server-127.0.0.1-cert.pem")),
        key: readFileSync(join(certs, "server-127.0.0.1-key.pem")),
        requestCert: true,
        rejectUnauthorized: true,
      },
      (_request, response) => response.end("engine"),
    );
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    const port = (server.address() as AddressInfo).port;
    // dockerode's `protocol: "https"` is node's "https:"; request() here is https already.
    const call = ({ protocol: _https, ...options }: ReturnType<typeof engineConnection>) =>
      new Promise<string>((done, failed) => {
        const outgoing = request(
          { ...options, host: "127.0.0.1", port, path: "/_ping" },
          (response) => {
            let body = "";
            response.on("data", (chunk: Buffer) => (body += chunk.toString()));
            response.on("end", () => done(body));
          },
        );
        outgoing.on("error", failed);
        outgoing.end();
      });
    try {
      const tls = {
        ca: join(certs, "ca.pem"),
        cert: join(certs, "cert.pem"),
        key: join(certs, "key.pem"),
      };
      const [engine] = parseEngines([{ name: "t", host: `tcp://127.0.0.1:${port}`, tls }]);
      expect(await call(engineConnection(engine!))).toBe("engine");
      // No client certificate: the engine refuses the farm.
      const { cert: _cert, key: _key, ...anonymous } = engineConnection(engine!);
      await expect(call(anonymous)).rejects.toThrow();
      // The other host's certificate does not pass for this address.
      const impostor = createServer({
        cert: readFileSync(join(certs, "server-10.0.0.2-cert.pem")),
        key: readFileSync(join(certs, "server-10.0.0.2-key.pem")),
      });
      await new Promise<void>((done) => impostor.listen(0, "127.0.0.1", done));
      try {
        const other = (impostor.address() as AddressInfo).port;
        const [wrong] = parseEngines([{ name: "w", host: `tcp://127.0.0.1:${other}`, tls }]);
        await expect(
          new Promise((done, failed) => {
            const { protocol: _https, ...options } = engineConnection(wrong!);
            const outgoing = request({ ...options, path: "/" }, done);
            outgoing.on("error", failed);
            outgoing.end();
          }),
        ).rejects.toThrow(/IP: 127\.0\.0\.1 is not in the cert's list/);
      } finally {
        impostor.close();
      }
    } finally {
      server.close();
    }
  });
});

describe("--engine selectors", () => {
  const configured = parseEngines([
    {
      name: "box1",
      host: "tcp://10.0.0.5:2376",
      tls: { ca: "c", cert: "t", key: "k" },
      capacity: 9,
    },
    { name: "box2", host: "unix:///run/box2.sock" },
  ]);

  it("pick configured engines by name, move one to a new host, or add one with DOCKER_CERT_PATH's TLS", () => {
    expect(enginesFromSelectors(undefined, configured, {})).toEqual(configured);
    expect(enginesFromSelectors(["box2"], configured, {})).toEqual([configured[1]]);
    expect(enginesFromSelectors(["box1=tcp://10.0.0.9:2376"], configured, {})).toEqual([
      { ...configured[0], host: "tcp://10.0.0.9:2376" },
    ]);
    expect(
      enginesFromSelectors(["new=tcp://10.0.0.7:2376", "here=unix:///var/run/docker.sock"], [], {
        DOCKER_CERT_PATH: "/certs",
      }),
    ).toEqual([
      {
        name: "new",
        host: "tcp://10.0.0.7:2376",
        tls: { ca: "/certs/ca.pem", cert: "/certs/cert.pem", key: "/certs/key.pem" },
        insecure: false,
        capacity: 256,
      },
      { name: "here", host: "unix:///var/run/docker.sock", insecure: false, capacity: 256 },
    ]);
  });

  it("name a bad selector and how to write one", () => {
    expect(() => enginesFromSelectors(["box3"], configured, {})).toThrow(
      "--engine 'box3': write NAME=HOST, e.g. --engine box1=tcp://10.0.0.5:2376 or --engine local=unix:///var/run/docker.sock, or one of the config's engines: box1, box2",
    );
    expect(() => enginesFromSelectors(["a=http://x:1"], [], {})).toThrow(
      /^--engine: sandbox\.engines\[0\]\.host: must be unix:\/\/\/path\/to\/docker\.sock or tcp:\/\/ADDRESS:PORT$/,
    );
  });
});

describe("describeEngineFailure", () => {
  const [engine] = parseEngines([
    {
      name: "box1",
      host: "tcp://10.0.0.5:2376",
      tls: { ca: "/c/ca.pem", cert: "/c/cert.pem", key: "/c/key.pem" },
    },
  ]);
  const failure = (code: string, message: string) =>
    describeEngineFailure(engine!, Object.assign(new Error(message), { code }));

  it("says which side of the TLS handshake failed, or that the engine refuses or is silent", () => {
    expect(failure("ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE", "sslv3 alert bad certificate")).toBe(
      "engine 'box1' (tcp://10.0.0.5:2376) refused the TLS handshake: it does not accept the client certificate /c/cert.pem (sslv3 alert bad certificate); give sandbox.engines[].tls a client certificate signed by the CA the engine trusts (bash deploy/certs.sh DIR ADDRESS makes both)",
    );
    expect(
      failure("UNABLE_TO_VERIFY_LEAF_SIGNATURE", "unable to verify the first certificate"),
    ).toBe(
      "engine 'box1' (tcp://10.0.0.5:2376) failed TLS verification: its certificate is not signed by /c/ca.pem or does not name its address (unable to verify the first certificate); check sandbox.engines[].tls.ca",
    );
    expect(failure("ERR_TLS_CERT_ALTNAME_INVALID", "Hostname/IP does not match")).toMatch(
      /failed TLS verification/,
    );
    expect(failure("ECONNREFUSED", "connect ECONNREFUSED 10.0.0.5:2376")).toBe(
      "engine 'box1' (tcp://10.0.0.5:2376) refuses connections (connect ECONNREFUSED 10.0.0.5:2376): is dockerd listening there, with -H tcp://10.0.0.5:2376?",
    );
    expect(failure("ECONNRESET", "socket hang up")).toBe(
      "engine 'box1' (tcp://10.0.0.5:2376) does not answer (socket hang up)",
    );
    expect(failure("EWHAT", "odd")).toBe("engine 'box1' (tcp://10.0.0.5:2376): odd");
  });
});
