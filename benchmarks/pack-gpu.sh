#!/usr/bin/env bash
# Packs .device/ for the H100 machine under its 64 MiB limit: the CUDA library for sm_90a only,
# without the FFmpeg natives (no GPU check reads or writes media) and without JUnit jars that
# the console launcher already holds. Then, there:
#   bash benchmarks/run-gpu.sh
# Afterwards rebuild normally (mvn package) to get the all-architecture library back.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
mvn -q -B -DskipTests -Dmforce.cuda.targets=h100 package
# JUnit's own jars too: the console launcher (.device/tools/junit-console.jar) carries the platform,
# Jupiter (params included) and opentest4j (checked: the gpu-tagged and CPU test classes run from
# the bundle without them).
DEVICE_EXCLUDE="ffmpeg-*-linux-x86_64.jar javacv-*.jar junit-jupiter-*.jar junit-platform-*.jar opentest4j-*.jar apiguardian-*.jar" \
  ../shared/gpu/pack.sh --no-build
