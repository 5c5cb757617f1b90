#!/usr/bin/env bash
# The whole GPU check in one call on the GPU machine (see ../shared/gpu/README.md):
#   bash benchmarks/pack-gpu.sh       # here, on the build machine (sm_90a bundle under 64 MiB)
#   run: bash benchmarks/run-gpu.sh   # there, with carry [".device"] and timeout_s above DEADLINE
# Stages run in the order of STAGES (space-separated; default below: correctness first, then what
# the open issues' minimums need, then the rest). Two limits keep one call inside the device
# budget: each stage has its own (STAGE_SECONDS, default 180, for the tests; BENCH_SECONDS,
# default 150, for each other stage; MODEL_SECONDS and FLOW_SECONDS, default twice that), and the
# whole run has DEADLINE seconds (default 540): a stage gets at most what is left of it less a
# reserve for the summary, and stages that no longer fit are recorded as skipped. So the run always
# ends with its archive and summary, even when the stages were too many for one call.
# What comes back: the device tool returns at most 8 files from $OUT, so the logs and JSON are
# written to a work folder (GPU_WORK, default /tmp/mforce-gpu) and archived after every stage to
# $OUT/gpu-logs.tgz; stages.txt (each stage's exit status and wall time, written as it ends) and
# summary.txt (the short table printed last) sit beside it. OUT defaults to ./gpu-out.
# JMH runs with -foe false, so that one failing benchmark does not lose the other parameter sets'
# results; a stage whose log shows a <failure>, or that wrote no JSON, exits 1.
set -uo pipefail
start=$(date +%s)
out=${OUT:-gpu-out}
work=${GPU_WORK:-/tmp/mforce-gpu}
all_stages="tests attention peers model gemm checkpoint flow layers launch guidance gemm_backward"
stages=${STAGES:-$all_stages}
deadline=${DEADLINE:-540}
reserve=20  # seconds kept for the archive and the summary
test_seconds=${STAGE_SECONDS:-180}
bench_seconds=${BENCH_SECONDS:-150}
jmh_opts=${JMH_OPTS:--f 1 -wi 2 -i 3 -w 1s -r 1s}
export PYTHONUNBUFFERED=1  # a peer stopped at its limit still leaves what it printed
mkdir -p "$out" "$work"
run=".device/run.sh"

left() { echo $((deadline - reserve - ($(date +%s) - start))); }
# limit SECONDS CMD...: runs CMD for at most SECONDS, or what is left before the deadline
limit() {
  local seconds=$1 room
  shift
  room=$(left)
  ((room < seconds)) && seconds=$room
  ((seconds < 5)) && return 124
  timeout -k 10 "$seconds" "$@"
}
# jmh BENCHMARK SECONDS ARGS...: its JSON and log as BENCHMARK.json and .txt
jmh() { jmh_as "$1" "$@"; }
# jmh_as FILE BENCHMARK SECONDS ARGS...: the same, as FILE.json and FILE.txt
jmh_as() {
  local file=$1 name=$2 seconds=$3
  shift 3
  rm -f "$work/$file.json"  # a result left by an earlier call must not stand in for this one
  # shellcheck disable=SC2086  # jmh_opts is a list of options
  limit "$seconds" bash "$run" java org.openjdk.jmh.Main "$name" -foe false $jmh_opts -rf json \
    -rff "$work/$file.json" "$@" > "$work/$file.txt" 2>&1
  local rc=$?
  if ((rc == 0)) && { grep -q '<failure>' "$work/$file.txt" || [ ! -s "$work/$file.json" ]; }; then
    rc=1
  fi
  return $rc
}

stage_tests() {
  limit "$test_seconds" bash "$run" junit --scan-class-path --include-tag gpu --details=tree > "$work/junit-gpu.txt" 2>&1
  local rc=$?
  echo "junit exit $rc" >> "$work/junit-gpu.txt"
  return $rc
}
# the 64M-element rows: those the flow report and the bandwidth comparison read
# (the table too when some kernel failed: the others' rows are in the JSON)
stage_flow() {
  rm -f "$work/flow.md"
  jmh FlowBench "${FLOW_SECONDS:-$((2 * bench_seconds))}" -p device=cuda -p elements=67108864
  local rc=$?
  [ -s "$work/FlowBench.json" ] && python3 benchmarks/flow_report.py "$work/FlowBench.json" > "$work/flow.md" 2>&1
  return $rc
}
# the shapes of benchmarks/gemm_shapes.py, which peers/gemm_peer.py times too: the layers'
# forward (issue #4's minimum), and in a stage of its own, last, their backward's two GEMMs
stage_gemm() {
  jmh GemmBench "$bench_seconds" -p device=cuda -p op=forward -p shape="$(python3 benchmarks/gemm_shapes.py)"
}
stage_gemm_backward() {
  jmh_as GemmBackwardBench GemmBench "$bench_seconds" -p device=cuda -p op=dx,dw \
    -p shape="$(python3 benchmarks/gemm_shapes.py)"
}
stage_launch() { jmh LaunchBench "$bench_seconds" -p device=cuda; }
# CFG's two passes as one against the two in turn, same run (small: the paper model's guided caches
# and condition keys are twice its Few-mode session's)
stage_guidance() { jmh GuidanceBench "$bench_seconds" -p device=cuda -p config=small -p streams=1,8; }
stage_layers() { jmh LayerBench "$bench_seconds" -p device=cuda -p dtype=F32,BF16; }
stage_attention() { jmh AttentionCudaBench "$bench_seconds"; }
# 7 trials (a training step; a streaming chunk at 3 sizes, eager and graph), each building the model
stage_model() { jmh ModelBench "${MODEL_SECONDS:-$((2 * bench_seconds))}" -p device=cuda; }
# the peers share the stage's BENCH_SECONDS; each one's exit status ends its .err
stage_peers() {
  local f name one rc=0 end=$(($(date +%s) + bench_seconds))
  for f in benchmarks/peers/*_peer.py; do
    name=$(basename "$f" .py)
    limit $((end - $(date +%s))) python3 "$f" > "$work/$name.md" 2> "$work/$name.err"
    one=$?
    echo "$name exit $one" >> "$work/$name.err"
    ((one == 0)) || rc=$one
  done
  return $rc
}
# a tiny checkpoint written by mforce, read back by Python (the safetensors package where installed,
# the script alone otherwise); the file itself is not kept
stage_checkpoint() {
  { limit "$bench_seconds" bash "$run" java io.mforce.model.checkpoint.SampleCheckpoint tiny \
      "$work/tiny.safetensors" && python3 tools/check_safetensors.py "$work/tiny.safetensors"
    echo "checkpoint exit $?"; } > "$work/checkpoint.txt" 2>&1
  rm -f "$work/tiny.safetensors"
  grep -q 'checkpoint exit 0' "$work/checkpoint.txt"
}

archive() {
  cp "$work/stages.txt" "$out/stages.txt"
  tar czf "$out/gpu-logs.tgz.part" -C "$work" . && mv "$out/gpu-logs.tgz.part" "$out/gpu-logs.tgz"
}

summary() {
  echo "== $(tail -1 "$work/gpu.txt")"
  cat "$work/stages.txt"
  [ -f "$work/junit-gpu.txt" ] && grep -E 'tests (successful|failed|skipped|aborted)|junit exit' "$work/junit-gpu.txt"
  [ -f "$work/checkpoint.txt" ] && grep -E 'sha256 of the file|checkpoint exit|package' "$work/checkpoint.txt"
  [ -f "$work/flow.md" ] && grep -E 'Fused|copy' "$work/flow.md" | grep 67108864
  for f in "$work"/*Bench.txt; do [ -f "$f" ] && grep -E '^[A-Za-z]+Bench\.' "$f" | tail -12; done
  [ -f "$work/attention.md" ] && cat "$work/attention.md"
  [ -f "$work/gemm.md" ] && cat "$work/gemm.md"
  cat "$work"/*_peer.md 2> /dev/null | head -40
  # each peer's exit status, and the end of its error output when it failed
  for f in "$work"/*_peer.err; do
    [ -f "$f" ] || continue
    tail -1 "$f"
    tail -1 "$f" | grep -q ' exit 0$' || tail -4 "$f" | sed '$d'
  done
}

for s in $stages; do
  if ! declare -F "stage_$s" > /dev/null; then
    echo "unknown stage '$s' in STAGES; expected some of: $all_stages" >&2
    exit 2
  fi
done
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv > "$work/gpu.txt" 2>&1
: > "$work/stages.txt"
unfinished=""  # stages skipped or stopped at their limit: the STAGES of a follow-up call
for s in $stages; do
  if (($(left) < 15)); then
    echo "$s skipped (deadline: ${deadline} s for the whole run)" >> "$work/stages.txt"
    unfinished="$unfinished $s"
    continue
  fi
  t0=$(date +%s)
  "stage_$s"
  rc=$?
  ((rc == 124)) && unfinished="$unfinished $s"
  echo "$s exit $rc ($( ((rc == 124)) && echo 'time limit, ')$(($(date +%s) - t0)) s)" >> "$work/stages.txt"
  archive
done
[ -n "$unfinished" ] && echo "unfinished: STAGES=\"${unfinished# }\"" >> "$work/stages.txt"
# the attention table joins two stages' output; with one side missing the report says which
# (neither table from an earlier call on a warm machine may stand in for this one's)
rm -f "$work/attention.md" "$work/gemm.md"
if [ -f "$work/AttentionCudaBench.json" ] || [ -f "$work/attention_peer.md" ]; then
  python3 benchmarks/attention_report.py "$work/AttentionCudaBench.json" "$work/attention_peer.md" \
    > "$work/attention.md" 2>&1
fi
# the same for the GEMM table (issue #4: within 10% of PyTorch)
if [ -f "$work/GemmBench.json" ] || [ -f "$work/GemmBackwardBench.json" ] || [ -f "$work/gemm_peer.md" ]; then
  python3 benchmarks/gemm_report.py "$work/GemmBench.json,$work/GemmBackwardBench.json" "$work/gemm_peer.md" \
    > "$work/gemm.md" 2>&1
fi
summary > "$work/summary.txt" 2>&1
cp "$work/summary.txt" "$out/summary.txt"
archive
cat "$out/summary.txt"
