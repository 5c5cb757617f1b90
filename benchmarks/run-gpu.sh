#!/usr/bin/env bash
# The whole GPU check in one call on the GPU machine (see ../shared/gpu/README.md):
#   ../shared/gpu/pack.sh            # here, on the build machine
#   run: bash benchmarks/run-gpu.sh  # there, with carry [".device"]; results under $OUT
# GPU tests first, then JMH for every kernel family on CUDA, then the PyTorch peers; a short
# table is printed last. Logs and JSON land in $OUT (or ./gpu-out when OUT is unset).
set -uo pipefail
out=${OUT:-gpu-out}
mkdir -p "$out"
run=".device/run.sh"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv > "$out/gpu.txt" 2>&1
bash "$run" junit --scan-class-path --include-tag gpu --details=summary > "$out/junit-gpu.txt" 2>&1
echo "junit exit $?" >> "$out/junit-gpu.txt"
jmh() { bash "$run" java org.openjdk.jmh.Main "$@" -p device=cuda -f 1 -wi 3 -i 5 -w 1s -r 1s; }
jmh FlowBench -rf json -rff "$out/flow.json" > "$out/flow-jmh.txt" 2>&1
jmh GemmBench -rf json -rff "$out/gemm.json" > "$out/gemm-jmh.txt" 2>&1
jmh LaunchBench -rf json -rff "$out/launch.json" > "$out/launch-jmh.txt" 2>&1
python3 benchmarks/peers/gemm_peer.py > "$out/gemm-peer.md" 2> "$out/gemm-peer.err"
python3 benchmarks/flow_report.py "$out/flow.json" > "$out/flow.md" 2> "$out/flow-report.err"
for f in benchmarks/peers/*_peer.py; do
  case "$f" in *gemm_peer.py) ;; *) python3 "$f" > "$out/$(basename "$f" .py).md" 2>&1 ;; esac
done
echo "== $(cat "$out/gpu.txt" | tail -1)"
tail -15 "$out/junit-gpu.txt"
cat "$out/flow.md" | grep -E 'Fused|copy' | head -20
grep -E 'matmul' "$out/gemm-jmh.txt" | tail -12
cat "$out/gemm-peer.md"
