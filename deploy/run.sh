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
  say "the trainer bridge: protoc, Debian's grpcio/protobuf/numpy/torch for the Python client and the tiny policy, openssl"
  install_debian_package protoc protobuf-compiler "protoc (code generation)" || exit 1
  install_debian_package openssl openssl "openssl (TLS test certificates)" || exit 1
  install_python_modules || exit 1
  echo "$(protoc --version); /usr/bin/python3: $(/usr/bin/python3 -c 'import grpc, google.protobuf, numpy, torch; print("grpcio", grpc.__version__, "protobuf", google.protobuf.__version__, "numpy", numpy.__version__, "torch", torch.__version__)')"
}

# Debian's python3-* packages are visible only to /usr/bin/python3 (not a pyenv python3). torch
# runs the tiny policy; Debian's OpenBLAS makes it about 9x faster than the reference BLAS.
install_python_modules() {
  /usr/bin/python3 -c 'import grpc, grpc_tools, google.protobuf, numpy, torch' 2>/dev/null &&
    [ -e /usr/lib/x86_64-linux-gnu/openblas-pthread ] && return 0
  command -v apt-get >/dev/null 2>&1 || fail "the Python client needs Debian's python3-grpcio, python3-grpc-tools, python3-protobuf, python3-numpy and python3-torch"
  say "installing Debian's python3-grpcio, python3-grpc-tools, python3-protobuf, python3-numpy, python3-torch, libopenblas0-pthread"
  if [ -z "${SANDFARM_APT_UPDATED:-}" ]; then
    apt-get update -qq
    export SANDFARM_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-grpcio python3-grpc-tools python3-protobuf python3-numpy python3-torch libopenblas0-pthread >/dev/null
}

# Only the tests need a browser: the HTML report is opened in headless Chromium.
setup_test_tools() {
  install_debian_package chromium chromium "Chromium (the HTML report test)" || exit 1
  echo "$(chromium --version 2>/dev/null | head -1)"
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

# Starts the stub policy server (a test double speaking vLLM's wire format, never a model) with
# one of its `recorded` scripts; sets STUB_PID and STUB_URL.
start_stub() {
  local script=$1 out
  out=$(mktemp)
  node --import tsx testing/vllm-stub/main.ts --scripts recorded --default-script "$script" --max-model-len 1048576 > "$out" &
  STUB_PID=$!
  for _ in $(seq 1 100); do [ -s "$out" ] && break; sleep 0.2; done
  STUB_URL=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).baseURL)' "$out") ||
    { rm -f "$out"; fail "the stub policy server did not start"; }
  rm -f "$out"
}

stop_stub() {
  if [ -n "${STUB_PID:-}" ]; then
    kill "$STUB_PID" 2>/dev/null
    wait "$STUB_PID" 2>/dev/null
    STUB_PID=""
  fi
}

demo() {
  local started out eval_dir url model stub=""
  started=$(date +%s)
  # The stub goes with the demo, however it ends (Ctrl-C included).
  trap stop_stub EXIT
  trap 'exit 130' INT TERM
  out="runs/demo-$(date -u +%Y%m%dT%H%M%SZ)"
  eval_dir="$out/eval"
  say "sandbox doctor"
  npx tsx orchestrator/cli/main.ts sandbox doctor || exit 1
  if [ -n "${SANDFARM_POLICY_URL:-}" ] && [ -n "${SANDFARM_POLICY_MODEL:-}" ]; then
    url=$SANDFARM_POLICY_URL
    model=$SANDFARM_POLICY_MODEL
    say "policy: $model at $url (from SANDFARM_POLICY_URL / SANDFARM_POLICY_MODEL)"
  else
    stub=yes
    model=stub-model
    say "policy: the STUB server replaying recorded solutions (no model runs here; set SANDFARM_POLICY_URL and SANDFARM_POLICY_MODEL for a real vLLM)"
    echo "Every bundled sample task has a recorded solution (testing/vllm-stub/recorded/): real tool calls"
    echo "that compute or look up the answer inside the sandbox (pure-knowledge choice questions: the"
    echo "reasoning names the letter, a command writes it), and a written answer for plain LLM mode."
    echo "The scores below show the pipeline working end to end, not a model's ability; the token counts"
    echo "are real prompt and completion sizes, in the stub tokenizer's units."
    start_stub recorded
    url=$STUB_URL
  fi
  local note="Policy: $model at $url."
  [ -n "$stub" ] && note="The policy is sandfarm's stub server replaying recorded solutions of the bundled samples (a test double, not a model): the scores show the pipeline working, not a model's ability; token counts are in the stub tokenizer's units."
  say "sandfarm eval: the 85 bundled sample tasks, sandbox mode and plain LLM mode"
  npx tsx orchestrator/cli/main.ts eval examples/eval-samples.yaml --policy-url "$url" --model "$model" \
    --output-dir "$eval_dir" --note "$note" || exit 1
  if [ -n "$stub" ]; then
    stop_stub
    start_stub recorded-rl
    url=$STUB_URL
  fi
  say "sandfarm train: two steps on the bundled general and long-context samples (examples/demo-rl.yaml), batches as Arrow files"
  npx tsx orchestrator/cli/main.ts train examples/demo-rl.yaml --set "policy.urls=[$url]" --set "policy.model=$model" \
    --set "run.dir=$out" --set run.id=train || exit 1
  stop_stub
  say "done in $(( $(date +%s) - started )) s; the files"
  echo "eval report       $eval_dir/report.md, $eval_dir/report.html (open it in a browser), $eval_dir/report.json"
  echo "eval trajectories $eval_dir/trajectories.jsonl"
  echo "training run      $out/train/: metrics.jsonl, trajectories.jsonl, sandfarm.log, batches/ (Arrow IPC), provenance.json"
  echo "next              sandfarm compare RUN RUN | sandfarm rescore $eval_dir --scorer NAME | sandfarm export-sft $eval_dir"
}

case "${1:-}" in
  test) setup; setup_test_tools; run_tests ;;
  demo) setup; demo ;;
  setup) setup ;;
  *) echo "usage: bash deploy/run.sh demo|test|setup" >&2; exit 2 ;;
esac
