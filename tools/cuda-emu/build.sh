#!/bin/sh
# Builds the emulator's driver (driver.cpp + emu.cpp + the CUDA attention sources of this
# checkout) with the host compiler: build.sh OUTPUT. -w: the CUDA sources compiled as host C++
# warn about what only nvcc understands (launch bounds, unused device helpers).
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$here/../..
exec "${CXX:-g++}" -std=c++17 -O1 -w -DMFORCE_VERSION='"emu"' -I"$here" -I"$root/cuda-kernels" \
  -I"$root/native/include" -x c++ "$here/driver.cpp" -x none "$here/emu.cpp" "$root/native/src/common/error.cpp" \
  -o "$1"
