#!/bin/sh
# Builds the emulator with the host compiler (-w: the CUDA sources compiled as host C++ warn about
# what only nvcc understands, such as unused device helpers). See README.md.
#   build.sh OUTPUT                 the attention driver (driver.cpp + emu.cpp + cuda-kernels/attention)
#   build.sh --kernels OUTPUT       the driver of every other CUDA kernel (kernels.cpp + emu.cpp +
#                                   cuda-kernels/*.cu) and, beside it, the CPU reference it compares
#                                   with (libcpu_reference.so, from native/src/cpu)
#   build.sh --host-runtime DIR     libmforce_cuda.so of every emulated kernel, with host stand-ins
#                                   for libcudart.so.13 and libcublasLt.so.13 (host-runtime/), so that
#                                   the Java layer's CUDA path runs on this machine; needs the CUDA
#                                   toolkit's headers (CUDA_HOME, default /usr/local/cuda)
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$here/../..
cxx=${CXX:-g++}
# The two drivers build with AddressSanitizer where the compiler has it (EMU_ASAN=0: without; the
# host runtime never, it runs inside a JVM): a kernel that reads or writes the guard bytes around
# a buffer (emu::guard), or past any other object, stops the run and names the access.
asan=""
if [ "$1" != "--host-runtime" ] && [ "${EMU_ASAN:-1}" != 0 ]; then
  probe=$(mktemp -d)
  if echo 'int main() { return 0; }' | "$cxx" -fsanitize=address -x c++ - -o "$probe/a" 2> /dev/null && "$probe/a"; then
    asan="-fsanitize=address -fno-omit-frame-pointer"
  else
    echo "build.sh: $cxx cannot build with AddressSanitizer; the driver checks writes outside buffers only" >&2
  fi
  rm -rf "$probe"
fi
# Every build stops at a misaligned access (a 16-byte vector load or store at an address that is
# not a multiple of 16), as a GPU would fault, instead of reporting it and going on.
checks="-fsanitize=alignment -fno-sanitize-recover=all $asan"
mode=$1
if [ "$mode" = "--host-runtime" ]; then
  dir=$2
  work=$dir/build
else
  [ "$mode" = "--kernels" ] && out=$2 || out=$1
  dir=$(dirname "$out")
  work=$out.build
fi
rm -rf "$work"
mkdir -p "$work/src/attention"
pids=""

# The CUDA sources, unchanged but for three constructs g++ cannot take as they are
# (cuda_runtime.h says what they become):
#   kernel<<<cfg>>>(args)    ->  emu::Launch(cfg)([](auto... a) { kernel(a...); }, args)
#   __shared__ T name[N]...; ->  auto& name = emu::shared<T[N]..., __COUNTER__>();
#   __launch_bounds__(N) kernel(params) {  ->  kernel(params) { emu::launch_bounds(N);
# The sources keep every launch configuration on one line (a kernel's signature may span lines).
# common.cu's host helpers come from emu.cpp instead.
for f in "$root"/cuda-kernels/*.cu "$root"/cuda-kernels/*.cuh "$root"/cuda-kernels/attention/*; do
  sed -E -e 's/([A-Za-z_][A-Za-z0-9_:]*(<[^<>]*>)?)<<<(.*)>>>\(/emu::Launch(\3)([](auto... a) { \1(a...); }, /' \
    -e 's/__shared__ ([A-Za-z_0-9:]+) ([A-Za-z_0-9]+)((\[[^]]*\])+);/auto\& \2 = ::emu::shared<\1\3, __COUNTER__>();/' \
    "$f" | perl -0pe 's/__launch_bounds__\(([^()]*)\)(\s*\w+\s*\([^{};]*\)\s*)\{/$2\{ ::emu::launch_bounds($1);/g' \
    > "$work/src/${f#"$root"/cuda-kernels/}"
done
if grep -rn -e '<<<' -e '__shared__' -e '__launch_bounds__' "$work/src" | grep -v 'extern __shared__'; then
  echo "build.sh: a launch, shared array or launch bound above was not rewritten (keep each launch on one line)" >&2
  exit 1
fi
rm "$work/src/common.cu"
if [ "$mode" != "--kernels" ] && [ "$mode" != "--host-runtime" ]; then
  exec "$cxx" -std=c++17 -O1 -w $checks -DMFORCE_VERSION='"emu"' -I"$here" -I"$work/src" \
    -I"$root/native/include" -x c++ "$here/driver.cpp" -x none "$here/emu.cpp" "$root/native/src/common/error.cpp" \
    -o "$out"
fi

# Device code as nvcc compiles it for the GPU (__CUDA_ARCH__: the 16-byte vector loads and the
# _rn intrinsics of mforce/detail).
flags="-std=c++17 -O1 -w -fPIC -D__CUDA_ARCH__=900 -DMFORCE_CUDA_ARCHS=\"emu\" $checks"
include="-I$here -I$work/src -I$root/native/include"
objs=""
compile() {  # compile SOURCE OBJECT [extra flags]: in the background
  src=$1 obj=$2
  shift 2
  "$cxx" $flags "$@" $include -x c++ -c "$src" -o "$obj" &
  pids="$pids $!"
  objs="$objs $obj"
}
for f in "$work"/src/*.cu; do
  compile "$f" "${f%.cu}.o" -include cuda_runtime.h
done
compile "$here/emu.cpp" "$work/emu.o"

if [ "$mode" = "--kernels" ]; then
  # The CPU implementation as its own library, as libmforce_cpu is: its inline helpers (compiled
  # without __CUDA_ARCH__) stay apart from the emulated CUDA code's (compiled with it).
  "$cxx" -std=c++17 -O1 -w -fPIC -shared -fvisibility=hidden -ffp-contract=off $asan -DMFORCE_VERSION='"emu"' \
    -I"$root/native/include" -I"$root/native/src/cpu" "$root/native/src/common/error.cpp" \
    "$root"/native/src/cpu/parallel.cpp "$root"/native/src/cpu/flow.cpp "$root"/native/src/cpu/kv_cache.cpp \
    "$root"/native/src/cpu/layers.cpp "$root"/native/src/cpu/optim.cpp "$root"/native/src/cpu/rng.cpp \
    "$root"/native/src/cpu/rope.cpp "$root"/native/src/cpu/runtime_ops.cpp "$root"/native/src/cpu/host_math.cpp \
    -pthread -o "$dir/libcpu_reference.so" &
  pids="$pids $!"
  compile "$here/kernels.cpp" "$work/kernels.o"
  for pid in $pids; do wait "$pid"; done
  "$cxx" $checks $objs -L"$dir" -lcpu_reference -Wl,-rpath,'$ORIGIN' -o "$out"
  exit 0
fi

# --host-runtime: the attention kernels too (their PTX twins included first), then the libraries.
cuda_include=${CUDA_HOME:-/usr/local/cuda}/include
if [ ! -f "$cuda_include/cuda_runtime_api.h" ]; then
  echo "build.sh: no CUDA headers at $cuda_include (set CUDA_HOME)" >&2
  exit 1
fi
for f in "$work"/src/attention/*.cu; do
  compile "$f" "${f%.cu}.o" -include attention_ptx_emu.h -I"$work/src/attention"
done
compile "$here/host-runtime/info.cpp" "$work/info.o"
# mf_set_error and mf_last_error come from libmforce_cpu at run time (already loaded: it loads this
# library); a copy of error.cpp under that soname stands in for it at link time only
"$cxx" -std=c++17 -O1 -w -fPIC -shared -DMFORCE_VERSION=\"emu\" -I"$root/native/include" "$root/native/src/common/error.cpp" \
  -Wl,-soname,libmforce_cpu.so -o "$work/libmforce_cpu.so" &
pids="$pids $!"
"$cxx" -std=c++17 -O1 -w -fPIC -shared -I"$cuda_include" "$here/host-runtime/cudart.cpp" \
  -Wl,--version-script="$here/host-runtime/cudart.map" -Wl,-soname,libcudart.so.13 -o "$dir/libcudart.so.13" &
pids="$pids $!"
for pid in $pids; do wait "$pid"; done
"$cxx" -std=c++17 -O1 -w -fPIC -shared "$here/host-runtime/cublaslt.cpp" -L"$dir" -l:libcudart.so.13 \
  -Wl,--version-script="$here/host-runtime/cublaslt.map" -Wl,-soname,libcublasLt.so.13 -Wl,-rpath,'$ORIGIN' \
  -o "$dir/libcublasLt.so.13"
# the presets' JNI libraries also name libcublas.so.13 and the driver's libcuda.so.1, whose
# functions mforce never calls: empty libraries (with the version node the JNI library asks for)
echo 'libcublas.so.13 { local: *; };' > "$work/cublas.map"
"$cxx" -shared -x c /dev/null -Wl,--version-script="$work/cublas.map" -Wl,-soname,libcublas.so.13 -o "$dir/libcublas.so.13"
"$cxx" -shared -x c /dev/null -Wl,-soname,libcuda.so.1 -o "$dir/libcuda.so.1"
"$cxx" -shared $checks $objs -L"$dir" -L"$work" -l:libcudart.so.13 -lmforce_cpu -Wl,-rpath,'$ORIGIN' \
  -o "$dir/libmforce_cuda.so"
