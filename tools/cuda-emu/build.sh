#!/bin/sh
# Builds an emulator driver with the host compiler (-w: the CUDA sources compiled as host C++
# warn about what only nvcc understands: launch bounds, unused device helpers).
#   build.sh OUTPUT            the attention driver (driver.cpp + emu.cpp + cuda-kernels/attention)
#   build.sh --kernels OUTPUT  the driver of every other CUDA kernel (kernels.cpp + emu.cpp +
#                              cuda-kernels/*.cu) and, beside it, the CPU reference it compares
#                              with (libcpu_reference.so, from native/src/cpu)
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$here/../..
cxx=${CXX:-g++}
if [ "$1" != "--kernels" ]; then
  exec "$cxx" -std=c++17 -O1 -w -DMFORCE_VERSION='"emu"' -I"$here" -I"$root/cuda-kernels" \
    -I"$root/native/include" -x c++ "$here/driver.cpp" -x none "$here/emu.cpp" "$root/native/src/common/error.cpp" \
    -o "$1"
fi

out=$2
dir=$(dirname "$out")
work=$out.build
rm -rf "$work"
mkdir -p "$work/src"

# The CPU implementation as its own library, as libmforce_cpu is: its inline helpers (compiled
# without __CUDA_ARCH__) stay apart from the emulated CUDA code's (compiled with it).
"$cxx" -std=c++17 -O1 -w -fPIC -shared -fvisibility=hidden -ffp-contract=off -DMFORCE_VERSION='"emu"' \
  -I"$root/native/include" -I"$root/native/src/cpu" "$root/native/src/common/error.cpp" \
  "$root"/native/src/cpu/parallel.cpp "$root"/native/src/cpu/flow.cpp "$root"/native/src/cpu/kv_cache.cpp \
  "$root"/native/src/cpu/layers.cpp "$root"/native/src/cpu/optim.cpp "$root"/native/src/cpu/rng.cpp \
  "$root"/native/src/cpu/rope.cpp "$root"/native/src/cpu/runtime_ops.cpp -pthread -o "$dir/libcpu_reference.so" &
pids=$!

# The CUDA sources, unchanged but for two constructs g++ cannot take as they are
# (cuda_runtime.h says what they become):
#   kernel<<<cfg>>>(args)    ->  emu::Launch(cfg)([](auto... a) { kernel(a...); }, args)
#   __shared__ T name[N]...; ->  auto& name = emu::shared<T[N]..., __COUNTER__>();
# The sources keep every launch configuration on one line. common.cu's host helpers come from
# emu.cpp instead.
for f in "$root"/cuda-kernels/*.cu "$root"/cuda-kernels/*.cuh; do
  sed -E -e 's/([A-Za-z_][A-Za-z0-9_:]*(<[^<>]*>)?)<<<(.*)>>>\(/emu::Launch(\3)([](auto... a) { \1(a...); }, /' \
    -e 's/__shared__ ([A-Za-z_0-9:]+) ([A-Za-z_0-9]+)((\[[^]]*\])+);/auto\& \2 = ::emu::shared<\1\3, __COUNTER__>();/' \
    "$f" > "$work/src/$(basename "$f")"
done
if grep -n -e '<<<' -e '__shared__' "$work"/src/*; then
  echo "build.sh: a launch or shared array above was not rewritten (keep each on one line)" >&2
  exit 1
fi
rm "$work/src/common.cu"

# Device code as nvcc compiles it for the GPU (__CUDA_ARCH__: the 16-byte vector loads and the
# _rn intrinsics of mforce/detail); -fsanitize=alignment stops at a misaligned vector access.
flags="-std=c++17 -O1 -w -D__CUDA_ARCH__=900 -DMFORCE_CUDA_ARCHS=\"emu\" -fsanitize=alignment -fno-sanitize-recover=all"
objs=""
for f in "$work"/src/*.cu; do
  "$cxx" $flags -include cuda_runtime.h -I"$here" -I"$work/src" -I"$root/native/include" -x c++ -c "$f" \
    -o "${f%.cu}.o" &
  pids="$pids $!"
  objs="$objs ${f%.cu}.o"
done
"$cxx" $flags -I"$here" -I"$root/native/include" -c "$here/kernels.cpp" -o "$work/kernels.o" &
pids="$pids $!"
"$cxx" $flags -I"$here" -I"$root/native/include" -c "$here/emu.cpp" -o "$work/emu.o" &
pids="$pids $!"
for pid in $pids; do wait "$pid"; done
"$cxx" -fsanitize=alignment "$work/kernels.o" "$work/emu.o" $objs -L"$dir" -lcpu_reference -Wl,-rpath,'$ORIGIN' \
  -o "$out"
