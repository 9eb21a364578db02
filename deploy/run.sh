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

# An endpoint given: evaluate it on the bundled samples in both modes, then two training steps.
demo_endpoint() {
  local started out eval_dir url model
  started=$(date +%s)
  out="runs/demo-$(date -u +%Y%m%dT%H%M%SZ)"
  eval_dir="$out/eval"
  say "sandbox doctor"
  npx tsx orchestrator/cli/main.ts sandbox doctor || exit 1
  url=$SANDFARM_POLICY_URL
  model=$SANDFARM_POLICY_MODEL
  say "policy: $model at $url (from SANDFARM_POLICY_URL / SANDFARM_POLICY_MODEL)"
  say "sandfarm eval: the 85 bundled sample tasks, sandbox mode and plain LLM mode"
  npx tsx orchestrator/cli/main.ts eval examples/eval-samples.yaml --policy-url "$url" --model "$model" \
    --output-dir "$eval_dir" --note "Policy: $model at $url." || exit 1
  say "sandfarm train: two steps on the bundled general and long-context samples (examples/demo-rl.yaml), batches as Arrow files"
  npx tsx orchestrator/cli/main.ts train examples/demo-rl.yaml --set "policy.urls=[$url]" --set "policy.model=$model" \
    --set "run.dir=$out" --set run.id=train || exit 1
  say "done in $(( $(date +%s) - started )) s; the files"
  echo "eval report       $eval_dir/report.md, $eval_dir/report.html (open it in a browser), $eval_dir/report.json"
  echo "eval trajectories $eval_dir/trajectories.jsonl"
  echo "training run      $out/train/: report.html, metrics.jsonl, trajectories.jsonl, sandfarm.log, batches/ (Arrow IPC), provenance.json"
  echo "next              sandfarm compare RUN RUN | sandfarm rescore $eval_dir --scorer NAME | sandfarm export-sft $eval_dir"
}

# A free TCP port on 127.0.0.1 (for the bridge between a demo run and its trainer).
free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The tiny policy's server on a free port, serving WEIGHTS; sets TINY_URL and TINY_PID.
start_tiny() {
  local weights=$1 out
  out=$(mktemp)
  (cd trainer-bridge/python && exec /usr/bin/python3 -m examples.tiny.server --port 0 --weights "$weights") > "$out" 2>&1 &
  TINY_PID=$!
  for _ in $(seq 1 150); do grep -q "listening on" "$out" && break; sleep 0.2; done
  TINY_URL="$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' "$out" | head -1)/v1"
  [ "$TINY_URL" != "/v1" ] || { cat "$out" >&2; rm -f "$out"; fail "the tiny policy's server did not start"; }
  rm -f "$out"
}

stop_tiny() {
  if [ -n "${TINY_PID:-}" ]; then
    kill "$TINY_PID" 2>/dev/null
    wait "$TINY_PID" 2>/dev/null
    TINY_PID=""
  fi
}

# One training run of the closed loop: sandfarm train (MODE, STEPS) and the reference trainer.
demo_train() {
  local mode=$1 steps=$2 out=$3 root port trainer_pid status=0 kl=0 sets=()
  # Sandbox mode keeps a KL to the warm start, or its tool-call format erodes, and takes more,
  # smaller steps with two steps' sandboxes in flight (README, "The closed loop on this machine").
  if [ "$mode" = sandbox ]; then
    kl=0.05
    sets=(--set rollout.groupsPerStep=4 --set rollout.episodes=64 --set rollout.warmSandboxes=48
      --set rollout.sandboxStarts=16)
  fi
  root=$(pwd)
  port=$(free_port)
  start_tiny "$root/$out/warm"
  say "sandfarm train, $mode mode, $steps steps: the tiny policy at $TINY_URL, the reference trainer over the bridge at 127.0.0.1:$port"
  (cd trainer-bridge/python && exec /usr/bin/python3 -m sandfarm_bridge.trainer --address "127.0.0.1:$port" \
    --model "tiny:$root/$out/warm" --out "$root/$out/$mode/trainer" --weights-dir "$root/$out/$mode/weights" \
    --lr 1e-3 --kl-coef "$kl") > "$out/trainer-$mode.log" 2>&1 &
  trainer_pid=$!
  npx tsx orchestrator/cli/main.ts train examples/tiny-rl.yaml --set "run.mode=$mode" --set "run.steps=$steps" \
    --set "run.dir=$out" --set "run.id=$mode" --set "policy.urls=[$TINY_URL]" \
    --set "data.train=[$out/train.jsonl]" --set "data.validation=[$out/val.jsonl]" \
    --set "validation.modes=[$mode]" --set "validation.everySteps=$(( steps >= 16 ? steps / 8 : 2 ))" \
    --set "sink.address=127.0.0.1:$port" "${sets[@]}" || status=$?
  wait "$trainer_pid" || echo "the trainer ended with $? (its log: $out/trainer-$mode.log)" >&2
  stop_tiny
  return $status
}

# No endpoint given: the closed loop with the tiny policy, in plain LLM mode and in sandbox mode.
demo_loop() {
  local started out
  started=$(date +%s)
  trap stop_tiny EXIT
  trap 'exit 130' INT TERM
  out="runs/demo-$(date -u +%Y%m%dT%H%M%SZ)"
  mkdir -p "$out"
  say "no endpoint given (SANDFARM_POLICY_URL, SANDFARM_POLICY_MODEL): the closed loop with the TINY policy"
  echo "The tiny policy is a two-layer transformer in PyTorch that shows the machinery working, not a"
  echo "language model: it knows one task family, reading a digit from code.txt (chance 10%). It starts"
  echo "knowing the format but answering at chance; RL through sandfarm and the reference trainer teaches it."
  say "sandbox doctor"
  npx tsx orchestrator/cli/main.ts sandbox doctor || exit 1
  say "the warm start: the tool-call format on transcripts whose answers are random (300 steps)"
  (cd trainer-bridge/python && /usr/bin/python3 -m examples.tiny.pretrain --out "$(cd .. && cd .. && pwd)/$out/warm" --steps 300 --max-turns 6) || exit 1
  npx tsx orchestrator/cli/main.ts dataset generate --count 512 --seed 1 --prefix train --out "$out/train.jsonl" || exit 1
  npx tsx orchestrator/cli/main.ts dataset generate --count 32 --seed 2 --prefix val --out "$out/val.jsonl" || exit 1
  demo_train llm "${SANDFARM_DEMO_LLM_STEPS:-200}" "$out" || exit 1
  demo_train sandbox "${SANDFARM_DEMO_SANDBOX_STEPS:-700}" "$out" || exit 1
  say "LLM-RL vs sandbox-RL on the same task family"
  npx tsx orchestrator/cli/main.ts compare "$out/llm" "$out/sandbox" --html "$out/compare.html" || exit 1
  say "done in $(( $(date +%s) - started )) s; the files"
  echo "training reports  $out/llm/report.html, $out/sandbox/report.html (open them in a browser)"
  echo "the ablation      $out/compare.html"
  echo "trainer           $out/{llm,sandbox}/trainer/steps.jsonl (loss, KL, clip fraction, logprob mismatch per step)"
  echo "a real vLLM       SANDFARM_POLICY_URL=http://HOST:8000/v1 SANDFARM_POLICY_MODEL=NAME bash deploy/run.sh demo"
  for mode in llm sandbox; do
    node -e '
      const fs = require("fs");
      const [file, mode] = process.argv.slice(1);
      const text = fs.existsSync(file) ? fs.readFileSync(file, "utf8").trim() : "";
      const scores = text ? text.split("\n").map((line) => JSON.parse(line)[mode].score) : [];
      console.log(`validation, ${mode} mode (chance 0.10): ${scores.length ? scores.map((s) => s.toFixed(2)).join(" -> ") : "none recorded"}`);
    ' "$out/$mode/validation.jsonl" "$mode"
  done
}

demo() {
  if [ -n "${SANDFARM_POLICY_URL:-}" ] && [ -n "${SANDFARM_POLICY_MODEL:-}" ]; then
    demo_endpoint
  else
    demo_loop
  fi
}

case "${1:-}" in
  test) setup; setup_test_tools; run_tests ;;
  demo) setup; demo ;;
  setup) setup ;;
  *) echo "usage: bash deploy/run.sh demo|test|setup" >&2; exit 2 ;;
esac
