#!/usr/bin/env bash
# The whole GPU check in one call on the GPU machine (see ../shared/gpu/README.md):
#   bash benchmarks/pack-gpu.sh       # here, on the build machine (sm_90a bundle under 64 MiB)
#   run: bash benchmarks/run-gpu.sh   # there, with carry [".device"]; results under $OUT
# GPU tests first, then JMH for every kernel family on CUDA, then the PyTorch peers; a short
# table is printed last. Logs and JSON land in $OUT (or ./gpu-out when OUT is unset).
# STAGES (space-separated: tests flow gemm launch layers attention model peers checkpoint) picks a subset.
set -uo pipefail
out=${OUT:-gpu-out}
stages=${STAGES:-tests flow gemm launch layers attention model peers checkpoint}
mkdir -p "$out"
run=".device/run.sh"
has() { case " $stages " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
jmh() { local name=$1; shift; bash "$run" java org.openjdk.jmh.Main "$name" -f 1 -wi 3 -i 5 -w 1s -r 1s \
  -rf json -rff "$out/$name.json" "$@" > "$out/$name.txt" 2>&1; }
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv > "$out/gpu.txt" 2>&1
if has tests; then
  bash "$run" junit --scan-class-path --include-tag gpu --details=tree > "$out/junit-gpu.txt" 2>&1
  echo "junit exit $?" >> "$out/junit-gpu.txt"
fi
has flow && jmh FlowBench -p device=cuda
has gemm && jmh GemmBench -p device=cuda
has launch && jmh LaunchBench -p device=cuda
has layers && jmh LayerBench -p device=cuda -p dtype=F32,BF16
has attention && jmh AttentionCudaBench
has model && [ -n "$(ls .device/classes/*/io/mforce/bench/ModelBench.class 2>/dev/null)" ] && jmh ModelBench -p device=cuda
if has peers; then
  for f in benchmarks/peers/*_peer.py; do
    python3 "$f" > "$out/$(basename "$f" .py).md" 2> "$out/$(basename "$f" .py).err"
  done
fi
# a tiny checkpoint written by mforce, read back by Python (the safetensors package where installed,
# the script alone otherwise); the file itself is not kept
if has checkpoint; then
  { bash "$run" java io.mforce.model.checkpoint.SampleCheckpoint tiny "$out/tiny.safetensors" \
      && python3 tools/check_safetensors.py "$out/tiny.safetensors"; echo "checkpoint exit $?"; } \
    > "$out/checkpoint.txt" 2>&1
  rm -f "$out/tiny.safetensors"
fi
[ -f "$out/FlowBench.json" ] && python3 benchmarks/flow_report.py "$out/FlowBench.json" > "$out/flow.md" 2>&1
[ -f "$out/AttentionCudaBench.json" ] && [ -f "$out/attention_peer.md" ] && python3 benchmarks/attention_report.py \
  "$out/AttentionCudaBench.json" "$out/attention_peer.md" > "$out/attention.md" 2>&1
echo "== $(tail -1 "$out/gpu.txt")"
[ -f "$out/junit-gpu.txt" ] && grep -E 'tests (successful|failed|skipped|aborted)|junit exit' "$out/junit-gpu.txt"
[ -f "$out/checkpoint.txt" ] && grep -E 'sha256 of the file|checkpoint exit|package' "$out/checkpoint.txt"
[ -f "$out/flow.md" ] && grep -E 'Fused|copy' "$out/flow.md" | grep 67108864
for f in "$out"/*Bench.txt; do [ -f "$f" ] && grep -E '^[A-Za-z]+Bench\.' "$f" | tail -12; done
[ -f "$out/attention.md" ] && cat "$out/attention.md"
cat "$out"/*_peer.md 2>/dev/null | head -40
