#!/usr/bin/env bash
# Packs .device/ for the H100 machine under its 64 MiB limit: the CUDA library for sm_90a only,
# and without the FFmpeg natives (no GPU check reads or writes media). Then, there:
#   bash benchmarks/run-gpu.sh
# Afterwards rebuild normally (mvn package) to get the all-architecture library back.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
mvn -q -B -DskipTests -Dmforce.cuda.targets=h100 package
DEVICE_EXCLUDE="ffmpeg-*-linux-x86_64.jar javacv-*.jar" ../shared/gpu/pack.sh --no-build
