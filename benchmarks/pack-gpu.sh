#!/usr/bin/env bash
# Packs .device/ for the H100 machine under its 64 MiB limit: the CUDA library for sm_90a only,
# without the FFmpeg natives (no GPU check reads or writes media), the OpenBLAS JNI libraries mforce
# does not load, and the JUnit jars that the console launcher already holds. Then, there:
#   bash benchmarks/run-gpu.sh
# Afterwards rebuild normally (mvn package) to get the all-architecture library back.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
# -Dmforce.cuda=ON: fail here if nvcc is missing, instead of packing a bundle without the CUDA library
mvn -q -B -DskipTests -Dmforce.cuda=ON -Dmforce.cuda.targets=h100 package
# JUnit's own jars too: the console launcher (.device/tools/junit-console.jar) carries the platform,
# Jupiter (params included) and opentest4j (checked: the gpu-tagged and CPU test classes run from
# the bundle without them).
DEVICE_EXCLUDE="ffmpeg-*-linux-x86_64.jar javacv-*.jar junit-jupiter-*.jar junit-platform-*.jar opentest4j-*.jar apiguardian-*.jar" \
  ../shared/gpu/pack.sh --no-build
# OpenBLAS: CpuGemm loads only openblas_nolapack (libjniopenblas_nolapack.so and libopenblas.so.0,
# which JavaCPP links as libopenblas_nolapack.so.0); the other presets' JNI libraries are 7 MB of
# the jar (checked: GemmTest and OverfitTest pass from the bundle without them, fresh JavaCPP cache)
zip -q -d .device/lib/openblas-*-linux-x86_64.jar 'org/bytedeco/openblas/linux-x86_64/libjniopenblas.so' \
  'org/bytedeco/openblas/linux-x86_64/libjniopenblas_full.so'
ls .device/classes/*/io/mforce/bindings/linux-x86_64/libmforce_cuda.so > /dev/null 2>&1 || {
  echo "pack-gpu: .device has no libmforce_cuda.so; the GPU run would find no CUDA library" >&2
  exit 1
}
# what travels is .device plus every tracked (and untracked, not ignored) file: 64 MiB in all
kib=$(( $(du -sk .device | cut -f1) + $(git ls-files -co --exclude-standard -z | du -ck --files0-from=- | tail -1 | cut -f1) ))
echo "pack-gpu: .device and the working tree: $((kib / 1024)) MiB of the 64 MiB a call may carry"
[ "$kib" -lt 63000 ] || { echo "pack-gpu: too large to travel; exclude more jars (DEVICE_EXCLUDE)" >&2; exit 1; }
