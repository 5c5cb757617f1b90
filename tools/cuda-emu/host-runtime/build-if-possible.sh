#!/bin/sh
# Builds the host runtime into DIR (../build.sh --host-runtime DIR) where this machine can: a C++
# compiler and the CUDA toolkit's headers. Elsewhere it says why and leaves no libmforce_cuda.so
# in DIR, so that the GPU tests run against it skip (no CUDA device) instead of failing.
#   build-if-possible.sh DIR
dir=$1
here=$(cd "$(dirname "$0")" && pwd)
headers=${CUDA_HOME:-/usr/local/cuda}/include/cuda_runtime_api.h
rm -f "$dir/libmforce_cuda.so"
if ! command -v "${CXX:-g++}" > /dev/null 2>&1; then
  echo "host emulator not built: no ${CXX:-g++}; the GPU tests on it will skip"
  exit 0
fi
if [ ! -f "$headers" ]; then
  echo "host emulator not built: no CUDA headers ($headers; set CUDA_HOME); the GPU tests on it will skip"
  exit 0
fi
mkdir -p "$dir"
exec sh "$here/../build.sh" --host-runtime "$dir"
