#!/usr/bin/env bash
# The two commands of the README, from a fresh clone on Debian/Ubuntu with Node >= 20.19:
#
#   bash deploy/run.sh demo   # the main job
#   bash deploy/run.sh test   # the whole test suite (what .ci/run runs)
#
# Both first set up what they need, idempotently: npm packages, a Docker engine
# (deploy/engine.sh), the sandbox image (deploy/image/build.sh, reused when unchanged),
# gVisor's runsc registered with the engine (deploy/gvisor.sh) and bubblewrap for the local
# backend.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf '\n== %s\n' "$*"; }
fail() { printf 'error: %s\n' "$*" >&2; exit 1; }
# shellcheck source=deploy/lib.sh
. deploy/lib.sh

setup() {
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' ||
    { echo "sandfarm needs Node >= 20.19 (found $(node --version))" >&2; exit 1; }
  local lock_hash
  lock_hash=$(sha256sum package-lock.json | cut -c1-16)
  if [ ! -f node_modules/.sandfarm-lock ] || [ "$(cat node_modules/.sandfarm-lock)" != "$lock_hash" ]; then
    say "npm ci"
    npm ci --no-audit --no-fund || exit 1
    echo "$lock_hash" > node_modules/.sandfarm-lock
  fi
  say "Docker engine"
  bash deploy/engine.sh || exit 1
  say "sandbox image"
  bash deploy/image/build.sh || exit 1
  say "gVisor runtime"
  bash deploy/gvisor.sh || exit 1
  say "bubblewrap (the local backend)"
  install_debian_package bwrap bubblewrap "bubblewrap (the local backend)" || exit 1
  echo "bubblewrap: $(bwrap --version)"
  say "the trainer bridge: protoc, Debian's grpcio/protobuf/numpy for the Python client, openssl"
  install_debian_package protoc protobuf-compiler "protoc (code generation)" || exit 1
  install_debian_package openssl openssl "openssl (TLS test certificates)" || exit 1
  install_python_modules || exit 1
  echo "$(protoc --version); /usr/bin/python3: $(/usr/bin/python3 -c 'import grpc, google.protobuf, numpy; print("grpcio", grpc.__version__, "protobuf", google.protobuf.__version__, "numpy", numpy.__version__)')"
}

# Debian's python3-* packages are visible only to /usr/bin/python3 (not a pyenv python3).
install_python_modules() {
  /usr/bin/python3 -c 'import grpc, grpc_tools, google.protobuf, numpy' 2>/dev/null && return 0
  command -v apt-get >/dev/null 2>&1 || fail "the Python client needs Debian's python3-grpcio, python3-grpc-tools, python3-protobuf and python3-numpy"
  say "installing Debian's python3-grpcio, python3-grpc-tools, python3-protobuf, python3-numpy"
  if [ -z "${SANDFARM_APT_UPDATED:-}" ]; then
    apt-get update -qq
    export SANDFARM_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-grpcio python3-grpc-tools python3-protobuf python3-numpy >/dev/null
}

run_tests() {
  local failed=0 report=.vitest-report.json
  say "typecheck"
  npm run --silent typecheck || failed=1
  say "lint"
  npm run --silent lint || failed=1
  say "build"
  npm run --silent build && echo "build ok" || failed=1
  say "generated gRPC code matches proto/"
  npm run --silent gen -- --check || failed=1
  say "tests"
  rm -f "$report"
  npx vitest run --reporter=default --reporter=json --outputFile.json="$report" || failed=1
  if [ -f "$report" ]; then
    node -e '
      const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
      console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed`);
      process.exit(r.numTotalTests > 0 && r.numFailedTests === 0 && r.success ? 0 : 1);
    ' "$report" || failed=1
  else
    echo "0 passed, 1 failed"
    echo "vitest wrote no report" >&2
    failed=1
  fi
  return "$failed"
}

demo() {
  say "sandbox doctor"
  npx tsx orchestrator/cli/main.ts sandbox doctor || exit 1
  say "a command in a fresh hardened sandbox"
  npx tsx orchestrator/cli/main.ts sandbox exec --timeout 30 -- \
    'python3 -c "import sympy as s; x = s.symbols(\"x\"); print(s.integrate(s.sin(x)**2, (x, 0, s.pi)))"; uname -sr; cat /etc/debian_version'
  echo
  say "the bundled sample tasks: counts by domain and answer type, every row checked"
  npx tsx orchestrator/cli/main.ts dataset validate datasets/samples/*.jsonl || exit 1
  say "the user message a long-context task gets in sandbox mode (its 50K-word documents stay in files)"
  npx tsx orchestrator/cli/main.ts dataset prompt datasets/samples/long_context.jsonl --id long-context-003 | sed -n '/^--- user/,$p'
  echo
  say "rewards: math equivalence, a choice letter, IFEval instructions"
  npx tsx orchestrator/cli/main.ts reward --scorer math --answer 'so \boxed{\dfrac{3}{4}}' --truth 0.75 || exit 1
  npx tsx orchestrator/cli/main.ts reward --scorer choice --answer 'The answer is (C).' --truth C || exit 1
  npx tsx orchestrator/cli/main.ts reward --scorer ifeval --answer 'all lower case, no title' \
    --truth '[{"id": "change_case:english_lowercase"}, {"id": "detectable_format:title"}]' \
    --options '{"aggregate": "fraction"}' || exit 1
  echo
  if [ -n "${SANDFARM_POLICY_URL:-}" ] && [ -n "${SANDFARM_POLICY_MODEL:-}" ]; then
    say "one episode: sandfarm run against the policy at $SANDFARM_POLICY_URL ($SANDFARM_POLICY_MODEL)"
    npx tsx orchestrator/cli/main.ts run --domain math --answer-type math \
      --query 'Find the remainder when 2^100 is divided by 7.' \
      --output-dir "${TMPDIR:-/tmp}/sandfarm-demo-run" || exit 1
    say "two training steps: sandfarm train on the bundled general and long-context samples, batches as Arrow files"
    npx tsx orchestrator/cli/main.ts train examples/sandbox-rl.yaml \
      --set "policy.urls=[$SANDFARM_POLICY_URL]" --set "policy.model=$SANDFARM_POLICY_MODEL" \
      --set sink.kind=files --set run.steps=2 --set rollout.groupsPerStep=2 --set rollout.groupSize=4 \
      --set "run.dir=${TMPDIR:-/tmp}/sandfarm-demo-runs" || exit 1
  else
    say "one episode: sandfarm run against the stub policy server (a test double; set SANDFARM_POLICY_URL and SANDFARM_POLICY_MODEL for a real vLLM)"
    local stub_out stub_pid url
    stub_out=$(mktemp)
    node --import tsx testing/vllm-stub/main.ts --scripts demo --default-script rl-1 > "$stub_out" &
    stub_pid=$!
    for _ in $(seq 1 50); do [ -s "$stub_out" ] && break; sleep 0.2; done
    url=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).baseURL)' "$stub_out") || { kill "$stub_pid"; exit 1; }
    npx tsx orchestrator/cli/main.ts run --query '[script:demo-math] What is 2^100 mod 7?' \
      --policy-url "$url" --model stub-model --output-dir "${TMPDIR:-/tmp}/sandfarm-demo-run" || { kill "$stub_pid"; exit 1; }
    say "two training steps: sandfarm train against the same stub (examples/stub-rl.yaml), batches as Arrow files"
    npx tsx orchestrator/cli/main.ts train examples/stub-rl.yaml --set "policy.urls=[$url]" \
      --set "run.dir=${TMPDIR:-/tmp}/sandfarm-demo-runs" || { kill "$stub_pid"; exit 1; }
    kill "$stub_pid"
    rm -f "$stub_out"
  fi
  echo
  echo "sandfarm eval and its report come next (issue 9); a training run's files are listed in the README (Training: sandfarm train)."
}

case "${1:-}" in
  test) setup; run_tests ;;
  demo) setup; demo ;;
  setup) setup ;;
  *) echo "usage: bash deploy/run.sh demo|test|setup" >&2; exit 2 ;;
esac
