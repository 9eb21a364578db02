/**
 * A few-MB sandbox image for the fleet tests, made from this machine's own binaries (no registry
 * is reachable): bash, perl (with the two modules the runner loads), dash as /bin/sh and the
 * coreutils the tests run, with their shared libraries. Imported into the local engine once;
 * the fleet tests push it to their engine hosts with `sandfarm image push`, as a user would.
 *
 * @example
 * const image = ensureMiniImage(); // "sandfarm/fleet-test:<hash of its contents list>"
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

const BINARIES = [
  "/bin/bash",
  "/bin/sh",
  "/usr/bin/perl",
  ...[
    "cat",
    "dd",
    "sleep",
    "ls",
    "rm",
    "mkdir",
    "echo",
    "head",
    "tail",
    "wc",
    "grep",
    "id",
    "true",
    "df",
    "du",
    "kill",
  ].map((name) => `/bin/${name}`),
  "/usr/bin/env",
  "/usr/bin/awk",
  "/usr/bin/timeout",
  "/usr/bin/stat",
];
/** The only Perl modules the runner loads. */
const PERL_MODULES = ["strict.pm", "warnings.pm"].map(
  (name) => `/usr/lib/x86_64-linux-gnu/perl-base/${name}`,
);

/** The shared libraries a binary loads, as `ldd` lists them. */
function librariesOf(binary: string): string[] {
  let listing = "";
  try {
    listing = execFileSync("ldd", [binary], { encoding: "utf8" });
  } catch {
    return []; // static
  }
  return [...listing.matchAll(/(\/\S+) \(0x/g)].map((match) => match[1]!);
}

/** The tag names what goes in, so a changed list makes a new image, never a stale one. */
export const MINI_IMAGE = `sandfarm/fleet-test:${createHash("sha256")
  .update(JSON.stringify([BINARIES, PERL_MODULES]))
  .digest("hex")
  .slice(0, 12)}`;

/** Imports the image into the local engine unless it is there; returns its tag. */
export function ensureMiniImage(): string {
  try {
    execFileSync("docker", ["image", "inspect", MINI_IMAGE], { stdio: "ignore" });
    return MINI_IMAGE;
  } catch {
    // Not there yet.
  }
  const root = mkdtempSync(join(tmpdir(), "sandfarm-mini-image-"));
  try {
    const files = new Set<string>(PERL_MODULES);
    for (const binary of BINARIES) {
      files.add(binary);
      for (const library of librariesOf(binary)) files.add(library);
    }
    for (const file of files) {
      mkdirSync(join(root, dirname(file)), { recursive: true });
      // -L: the image holds the files themselves, not the host's links.
      execFileSync("cp", ["-L", file, join(root, file)]);
    }
    for (const dir of ["tmp", "testbed", "root", "etc", "proc", "sys", "dev"])
      mkdirSync(join(root, dir), { recursive: true, mode: dir === "tmp" ? 0o1777 : 0o755 });
    execFileSync("chmod", ["1777", join(root, "tmp")]);
    writeFileSync(join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/bash\n");
    writeFileSync(join(root, "etc/group"), "root:x:0:\n");
    execFileSync("bash", [
      "-c",
      `tar -C ${root} -c . | docker import --change 'ENV PATH=/usr/bin:/bin' - ${MINI_IMAGE}`,
    ]);
    return MINI_IMAGE;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
