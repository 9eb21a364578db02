/**
 * The command names the capability taggers know, and what each one means for the tags. Kept
 * apart from the taggers so that extending coverage to a new tool is a one-line table edit.
 * A name in no table carries no tag, unless the taggers special-case it (find, rsync, tee, eval)
 * or it is run by path (`./a.out` is computation).
 */

/** Splits a space-separated list of names, to keep long tables readable. */
const names = (list: string): string[] => list.split(" ");

/** Shell syntax that can precede the command word without being a command. */
export const SKIPPED_KEYWORDS = new Set(names("! { } if then else elif while until do"));

/**
 * Commands that run the command after them, so the tags are the inner command's; each maps to
 * its options that take the next word as a value. (`timeout` also takes a DURATION operand.)
 */
export const PREFIXES = new Map<string, readonly string[]>([
  ["sudo", ["-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U", "--user", "--group"]],
  ["env", ["-u", "-C", "-S", "--unset", "--chdir", "--split-string"]],
  ["timeout", ["-s", "-k", "--signal", "--kill-after"]],
  ["xargs", ["-I", "-n", "-P", "-L", "-d", "-s", "-a", "-E", "--max-args", "--max-procs"]],
  ["nice", ["-n", "--adjustment"]],
  ["stdbuf", ["-i", "-o", "-e"]],
  ["time", []],
  ["nohup", []],
  ["exec", []],
  ["command", []],
  ["builtin", []],
  ["unbuffer", []],
]);

/** A call whose arguments are all from this set asks the tool about itself: no tag. */
export const VERSION_FLAGS = new Set(names("--version --help -V -v -h -version -help"));

/** Shells run a script; its commands are tagged, or it is computation when it is a file or pipe. */
export const SHELLS = new Set(["bash", "sh", "zsh", "dash", "ksh"]);

/** Python in any version: computation; `-c` code is inline code and `-m pip` counts as pip. */
export const PYTHON = /^(?:python|pypy|ipython)[0-9.]*$/;

/**
 * Inline code (a `-c`/`-e` argument, or a script fed to stdin) that matches this reaches the
 * network: HTTP clients, downloaders of data or models, URLs, package installs.
 */
export const NETWORK_IN_CODE =
  /\b(?:urllib\d?|requests|httpx|aiohttp|urlopen|pubchempy|Entrez|hf_hub_download|snapshot_download|BiocManager|install\.packages|download\.file|Pkg\.add)\b|\b(?:https?|ftp):\/\/|\bpip3?['",\s]+install\b/;

export interface InterpreterSpec {
  /** Options whose value is code, e.g. `-e`; also matched at the end of a cluster (`-ne`). */
  codeFlags: readonly string[];
  /** Options that take the next word as a value. */
  valueFlags?: readonly string[];
}

/** Interpreters other than Python: computation, with their inline code checked for network use. */
export const INTERPRETERS = new Map<string, InterpreterSpec>([
  ["node", { codeFlags: ["-e", "-p", "--eval", "--print"], valueFlags: ["-r", "--require"] }],
  ["nodejs", { codeFlags: ["-e", "-p", "--eval", "--print"], valueFlags: ["-r", "--require"] }],
  ["perl", { codeFlags: ["-e", "-E"], valueFlags: ["-I", "-M"] }],
  ["ruby", { codeFlags: ["-e"], valueFlags: ["-I", "-r"] }],
  ["php", { codeFlags: ["-r"] }],
  ["R", { codeFlags: ["-e"] }],
  ["Rscript", { codeFlags: ["-e"] }],
  ["julia", { codeFlags: ["-e", "-E", "--eval", "--print"] }],
  ["octave", { codeFlags: ["--eval"] }],
]);

export interface PackageToolSpec {
  /** Global options before the subcommand that take the next word as a value. */
  valueOptions?: readonly string[];
  /** Subcommands (`install`, or two words: `env create`) that reach the network. */
  external?: readonly string[];
  /** Subcommands that run code. */
  computation?: readonly string[];
  /** Tag for any other subcommand or operand (`bun FILE` runs it). */
  otherwise?: "computation";
}

const JS_INSTALL = ["install", "i", "add", "ci", "update", "upgrade", "up"];
const JS_RUN = ["run", "run-script", "test", "t", "start", "exec", "x"];
const CONDA: PackageToolSpec = {
  external: ["install", "create", "update", "upgrade", "search", "env create", "env update"],
  computation: ["run"],
};

/**
 * Tools whose tag depends on the subcommand: the `external` ones reach the network, the
 * `computation` ones run code, and any other (`pip list`, `git diff`) gets `otherwise` or none.
 * `pip3` and `pip3.11` use the `pip` entry.
 */
export const PACKAGE_TOOLS = new Map<string, PackageToolSpec>([
  ["pip", { external: ["install", "download", "wheel", "index", "search"] }],
  ["pipx", { external: ["install", "run", "upgrade", "inject"] }],
  [
    "uv",
    {
      valueOptions: ["--directory", "--project"],
      external: [
        "pip install",
        "pip sync",
        "add",
        "sync",
        "lock",
        "tool install",
        "python install",
      ],
      computation: ["run", "tool run"],
    },
  ],
  ["conda", CONDA],
  ["mamba", CONDA],
  ["micromamba", CONDA],
  ...["apt", "apt-get", "aptitude"].map((name): [string, PackageToolSpec] => [
    name,
    {
      valueOptions: ["-o", "-c", "-t", "--option", "--config-file", "--target-release"],
      external: names(
        "install reinstall update upgrade dist-upgrade full-upgrade download source build-dep",
      ),
    },
  ]),
  ["yum", { external: ["install", "reinstall", "update", "upgrade", "download", "makecache"] }],
  ["dnf", { external: ["install", "reinstall", "update", "upgrade", "download", "makecache"] }],
  ["apk", { external: ["add", "update", "upgrade", "fetch"] }],
  ["brew", { external: ["install", "reinstall", "update", "upgrade", "tap", "fetch"] }],
  ...["npm", "yarn", "pnpm"].map((name): [string, PackageToolSpec] => [
    name,
    {
      valueOptions: ["--prefix", "-C", "--cwd", "--dir"],
      external: JS_INSTALL,
      computation: JS_RUN,
    },
  ]),
  ["bun", { external: JS_INSTALL, computation: JS_RUN, otherwise: "computation" }],
  ["gem", { external: ["install", "update", "fetch"] }],
  [
    "cargo",
    {
      valueOptions: ["-Z", "-C", "--config"],
      external: ["install", "add", "fetch", "update", "search"],
      computation: ["run", "build", "test", "bench", "check", "r", "b", "t"],
    },
  ],
  [
    "go",
    {
      valueOptions: ["-C"],
      external: ["get", "install", "mod download"],
      computation: ["run", "build", "test", "generate"],
    },
  ],
  [
    "git",
    {
      valueOptions: ["-C", "-c", "--git-dir", "--work-tree", "--namespace"],
      external: [
        "clone",
        "pull",
        "fetch",
        "push",
        "ls-remote",
        "submodule",
        "remote update",
        "lfs pull",
        "lfs fetch",
      ],
    },
  ],
]);

/** How a file-reading command's arguments split into options, a program, and files. */
export interface ReaderSpec {
  /** Short options that take a value, attached (`-n5`) or as the next word. */
  valueLetters?: string;
  /** Long options that take the next word as a value unless written `--name=value`. */
  valueLong?: readonly string[];
  /** Long options that take the next two words (`jq --arg name value`). */
  pairLong?: readonly string[];
  /** The first operand is a pattern or program (grep, sed, awk, jq), not a file... */
  programOperand?: boolean;
  /** ...unless one of these options supplies it. */
  programLetters?: string;
  programLong?: readonly string[];
  /** Short options whose value can only be attached (`sed -i.bak`). */
  attachedLetters?: string;
  /** Options that search directories recursively (`grep -r`). */
  recursiveLetters?: string;
  recursiveLong?: readonly string[];
  /** Searches the working directory when given no operands and no piped input (rg, ag). */
  searchesCwd?: boolean;
}

const GREP: ReaderSpec = {
  valueLetters: "efmABCdD",
  valueLong: names(
    "--regexp --file --max-count --after-context --before-context --context --include --exclude --exclude-dir --exclude-from --label --binary-files",
  ),
  programOperand: true,
  programLetters: "ef",
  programLong: ["--regexp", "--file"],
  recursiveLetters: "rR",
  recursiveLong: ["--recursive", "--dereference-recursive"],
};
const AWK: ReaderSpec = {
  valueLetters: "Ffv",
  valueLong: ["--field-separator", "--file", "--assign"],
  programOperand: true,
  programLetters: "f",
  programLong: ["--file"],
};

/**
 * Commands that are file management only when they read a named file (or search recursively,
 * or take names from xargs); filtering a pipe or heredoc, as in `python3 x.py | tail`, is not.
 */
export const FILE_READERS = new Map<string, ReaderSpec>([
  ...names("cat tac rev less more wc comm md5sum sha1sum sha256sum zcat bzcat xzcat").map(
    (name): [string, ReaderSpec] => [name, {}],
  ),
  ["head", { valueLetters: "nc", valueLong: ["--lines", "--bytes"] }],
  ["tail", { valueLetters: "ncs", valueLong: ["--lines", "--bytes", "--pid"] }],
  ["nl", { valueLetters: "bdfhilnsvw" }],
  ["sort", { valueLetters: "ktoST", valueLong: ["--key", "--field-separator", "--output"] }],
  ["uniq", { valueLetters: "fsw" }],
  ["cut", { valueLetters: "bcdf", valueLong: ["--delimiter", "--fields", "--output-delimiter"] }],
  ["paste", { valueLetters: "d" }],
  ["column", { valueLetters: "cs" }],
  ["join", { valueLetters: "12ajteo" }],
  ["fold", { valueLetters: "w" }],
  ["fmt", { valueLetters: "wgp" }],
  ["expand", { valueLetters: "t" }],
  ["strings", { valueLetters: "nt" }],
  ["xxd", { valueLetters: "cglos" }],
  ["od", { valueLetters: "AjNtS" }],
  ["hexdump", { valueLetters: "efns" }],
  ["base64", { valueLetters: "w" }],
  ["iconv", { valueLetters: "fto", valueLong: ["--from-code", "--to-code", "--output"] }],
  ["grep", GREP],
  ["egrep", GREP],
  ["fgrep", GREP],
  ["zgrep", GREP],
  [
    "rg",
    {
      valueLetters: "efgtTmABCMjEr",
      valueLong: names(
        "--regexp --file --glob --iglob --type --type-not --max-count --after-context --before-context --context --max-depth --replace",
      ),
      programOperand: true,
      programLetters: "ef",
      programLong: ["--regexp", "--file"],
      searchesCwd: true,
    },
  ],
  [
    "ag",
    {
      valueLetters: "ABCGgm",
      valueLong: ["--after", "--before", "--context", "--ignore", "--max-count"],
      programOperand: true,
      searchesCwd: true,
    },
  ],
  [
    "sed",
    {
      valueLetters: "efl",
      valueLong: ["--expression", "--file", "--line-length"],
      programOperand: true,
      programLetters: "ef",
      programLong: ["--expression", "--file"],
      attachedLetters: "i",
    },
  ],
  ["awk", AWK],
  ["gawk", AWK],
  ["mawk", AWK],
  ["nawk", AWK],
  [
    "jq",
    {
      valueLetters: "fL",
      valueLong: ["--from-file", "--indent"],
      pairLong: ["--arg", "--argjson", "--slurpfile", "--rawfile"],
      programOperand: true,
      programLetters: "f",
      programLong: ["--from-file"],
    },
  ],
]);

/** Always file management: they list, inspect, copy, change, archive, compare or edit files. */
export const FILE_COMMANDS = new Set(
  names(
    "ls dir vdir locate mlocate plocate fd fdfind tree du df file stat realpath readlink cp mv rm rmdir mkdir touch chmod chown chgrp ln tar zip unzip gzip gunzip bzip2 bunzip2 xz unxz 7z 7za diff cmp patch split csplit truncate shred dd mktemp pdftotext vi vim nano emacs",
  ),
);

/** Computation unless only asked for `--version`/`--help`: compilers, build tools, solvers... */
export const COMPUTATION_COMMANDS = new Set(
  names(
    "deno ts-node tsx tsc lua luajit octave-cli matlab sage maxima gp gap wolframscript ghc runghc runhaskell scala java javac kotlin kotlinc dotnet swift swiftc gcc g++ cc c++ clang clang++ gfortran rustc nvcc tcc make cmake ninja mvn gradle bc dc awk gawk mawk nawk expr factor pytest py.test tox nosetests jupyter papermill isympy sqlite3 gnuplot z3 lean coqc npx uvx mpirun mpiexec",
  ),
);

/** External resource unless only asked for `--version`/`--help`: network clients, downloaders. */
export const EXTERNAL_COMMANDS = new Set(
  names(
    "curl wget aria2c axel http ping ping6 nc ncat netcat socat telnet ssh scp sftp ftp lftp nslookup dig host traceroute tracepath whois lynx w3m links huggingface-cli hf kaggle gdown yt-dlp youtube-dl gsutil aws cpan cpanm",
  ),
);
