#!/usr/bin/env bash
# The paper's Table 3 (long-horizon quality per time window) at toy scale, on the CPU: from one
# teacher-forcing run, each stage-3 method is trained for the same number of steps with the same
# settings, then 8 streams of 25 s per method are generated in its 4-step Few mode and scored per
# window (0-5 s, 5-15 s, 15-25 s) against their reference clips; the teacher-forcing model itself
# is scored in the Multi mode (4 steps, and 16 steps with CFG). The table is printed at the end
# (tools/eval_table.py). Usage:
#   tools/toy-table3.sh TF_RUN OUT_DIR [STEPS [TRAIN_OPTION...]]
#   e.g. tools/toy-table3.sh runs/demo runs/table3 300
#        tools/toy-table3.sh runs/demo runs/table3-cn 300 --context-noise 0.1
# Train options after STEPS go to every stage-3 run (their streams take the run's context noise).
# Each run folder, sample (MP4, PNG) and score file (*-eval.json) lands in OUT_DIR; a method whose
# run folder already holds ema.safetensors is not trained again.
set -euo pipefail
tf=${1:?usage: tools/toy-table3.sh TF_RUN OUT_DIR [STEPS]}
out=${2:?usage: tools/toy-table3.sh TF_RUN OUT_DIR [STEPS]}
steps=${3:-300}
shift $(($# < 3 ? $# : 3))
root=$(cd "$(dirname "$0")/.." && pwd)
mforce="$root/mforce"
methods="shortcut-teacher-forcing dmd-teacher-forcing self-forcing mutual-forcing"
mkdir -p "$out"
for m in $methods; do
  if [ ! -f "$out/$m/ema.safetensors" ]; then
    "$mforce" train --stage "$m" --init "$tf" --steps "$steps" --guidance 2 --out "$out/$m" "$@"
  fi
done
streams() {  # name run mode steps guidance
  "$mforce" generate --run "$2" --mode "$3" --steps "$4" --guidance "$5" --clips 8 --seconds 25 \
    --eval "$out/$1-eval.json" --out "$out/$1.mp4" --png "$out/$1.png"
}
for m in $methods; do
  streams "$m" "$out/$m" few 4 1
done
streams tf-multi4 "$tf" multi 4 1
streams tf-multi16-cfg "$tf" multi 16 1.5
python3 "$root/tools/eval_table.py" "$out"/*-eval.json
