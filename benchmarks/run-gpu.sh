#!/usr/bin/env bash
# The whole GPU check in one call on the GPU machine (see ../shared/gpu/README.md):
#   bash benchmarks/pack-gpu.sh       # here, on the build machine (sm_90a bundle under 64 MiB)
#   run: bash benchmarks/run-gpu.sh   # there, with carry [".device"]; results under $OUT
# Stages run in the order of STAGES (space-separated; default below: correctness first, then what
# the open issues' minimums need, then the rest), each under a time limit so that one slow stage
# cannot take the whole device budget: STAGE_SECONDS (default 240) for the tests, BENCH_SECONDS
# (default 150) for each other stage, MODEL_SECONDS (default twice that) for the model stage.
# $OUT/stages.txt records each stage's exit status and wall time as it ends, so a run cut short
# still says how far it got (JMH runs with -foe true, so that a benchmark that
# throws fails its stage instead of ending with exit 0 and an empty table). Logs and JSON land in
# $OUT (or ./gpu-out when OUT is unset); a short table is printed last.
set -uo pipefail
out=${OUT:-gpu-out}
stages=${STAGES:-tests attention peers model checkpoint gemm flow layers launch}
test_seconds=${STAGE_SECONDS:-240}
bench_seconds=${BENCH_SECONDS:-150}
mkdir -p "$out"
run=".device/run.sh"
limit() { local seconds=$1; shift; timeout -k 10 "$seconds" "$@"; }
jmh() { local name=$1; shift; limit "$bench_seconds" bash "$run" java org.openjdk.jmh.Main "$name" -foe true -f 1 -wi 3 -i 5 \
  -w 1s -r 1s -rf json -rff "$out/$name.json" "$@" > "$out/$name.txt" 2>&1; }

stage_tests() {
  limit "$test_seconds" bash "$run" junit --scan-class-path --include-tag gpu --details=tree > "$out/junit-gpu.txt" 2>&1
  local rc=$?
  echo "junit exit $rc" >> "$out/junit-gpu.txt"
  return $rc
}
stage_flow() { jmh FlowBench -p device=cuda && python3 benchmarks/flow_report.py "$out/FlowBench.json" > "$out/flow.md" 2>&1; }
stage_gemm() { jmh GemmBench -p device=cuda; }
stage_launch() { jmh LaunchBench -p device=cuda; }
stage_layers() { jmh LayerBench -p device=cuda -p dtype=F32,BF16; }
stage_attention() { jmh AttentionCudaBench; }
# 7 trials (a training step; a streaming chunk at 3 sizes, eager and graph), each building the model
stage_model() { local bench_seconds=${MODEL_SECONDS:-$((2 * bench_seconds))}; jmh ModelBench -p device=cuda; }
stage_peers() {
  local f rc=0
  for f in benchmarks/peers/*_peer.py; do
    limit "$bench_seconds" python3 "$f" > "$out/$(basename "$f" .py).md" 2> "$out/$(basename "$f" .py).err" || rc=$?
  done
  return $rc
}
# a tiny checkpoint written by mforce, read back by Python (the safetensors package where installed,
# the script alone otherwise); the file itself is not kept
stage_checkpoint() {
  { limit "$bench_seconds" bash "$run" java io.mforce.model.checkpoint.SampleCheckpoint tiny "$out/tiny.safetensors" \
      && python3 tools/check_safetensors.py "$out/tiny.safetensors"; echo "checkpoint exit $?"; } \
    > "$out/checkpoint.txt" 2>&1
  rm -f "$out/tiny.safetensors"
  grep -q 'checkpoint exit 0' "$out/checkpoint.txt"
}

for s in $stages; do
  if ! declare -F "stage_$s" > /dev/null; then
    echo "unknown stage '$s' in STAGES; expected some of: tests attention peers model checkpoint gemm flow layers launch" >&2
    exit 2
  fi
done
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv > "$out/gpu.txt" 2>&1
: > "$out/stages.txt"
for s in $stages; do
  t0=$(date +%s)
  "stage_$s"
  rc=$?
  echo "$s exit $rc ($([ $rc -eq 124 ] && echo 'time limit, ')$(($(date +%s) - t0)) s)" >> "$out/stages.txt"
done
# the attention table needs both sides, which may come from different stages
[ -f "$out/AttentionCudaBench.json" ] && [ -f "$out/attention_peer.md" ] && python3 benchmarks/attention_report.py \
  "$out/AttentionCudaBench.json" "$out/attention_peer.md" > "$out/attention.md" 2>&1

echo "== $(tail -1 "$out/gpu.txt")"
cat "$out/stages.txt"
[ -f "$out/junit-gpu.txt" ] && grep -E 'tests (successful|failed|skipped|aborted)|junit exit' "$out/junit-gpu.txt"
[ -f "$out/checkpoint.txt" ] && grep -E 'sha256 of the file|checkpoint exit|package' "$out/checkpoint.txt"
[ -f "$out/flow.md" ] && grep -E 'Fused|copy' "$out/flow.md" | grep 67108864
for f in "$out"/*Bench.txt; do [ -f "$f" ] && grep -E '^[A-Za-z]+Bench\.' "$f" | tail -12; done
[ -f "$out/attention.md" ] && cat "$out/attention.md"
cat "$out"/*_peer.md 2>/dev/null | head -40
