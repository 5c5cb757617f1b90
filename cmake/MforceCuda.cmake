# Whether to build libmforce_cuda, and for which GPUs.
#   MFORCE_CUDA=AUTO (default): when nvcc is found; ON: required; OFF: never.
#   The nvcc -gencode flags: machine code for sm_80 (A100) and sm_90a (H100, with the
#   Hopper-only instructions), plus compute_90 PTX for newer GPUs.
set(MFORCE_CUDA "AUTO" CACHE STRING "build libmforce_cuda: AUTO, ON or OFF")
#   MFORCE_CUDA_TARGETS picks a preset: "all" (the default above) or "h100" (sm_90a only: a
#   smaller library for bundles that only run on the H100 machine).
set(MFORCE_CUDA_TARGETS "all" CACHE STRING "all (sm_80, sm_90a, compute_90 PTX) or h100 (sm_90a only)")
# -lineinfo maps SASS to source lines for Nsight Compute; the h100 bundle leaves it out for size.
set(MFORCE_CUDA_LINEINFO "-lineinfo")
if(MFORCE_CUDA_TARGETS STREQUAL "h100")
  set(MFORCE_CUDA_GENCODE "-gencode=arch=compute_90a,code=sm_90a")
  set(MFORCE_CUDA_ARCHS "sm_90a")
  set(MFORCE_CUDA_LINEINFO "")
elseif(MFORCE_CUDA_TARGETS STREQUAL "all")
  set(MFORCE_CUDA_GENCODE
      "-gencode=arch=compute_80,code=sm_80;-gencode=arch=compute_90a,code=sm_90a;-gencode=arch=compute_90,code=compute_90")
  set(MFORCE_CUDA_ARCHS "sm_80 sm_90a compute_90")
else()
  message(FATAL_ERROR "MFORCE_CUDA_TARGETS=${MFORCE_CUDA_TARGETS}: expected all or h100")
endif()

set(MFORCE_BUILD_CUDA OFF)
if(NOT MFORCE_CUDA STREQUAL "OFF")
  include(CheckLanguage)
  if(NOT CMAKE_CUDA_COMPILER AND EXISTS /usr/local/cuda/bin/nvcc)
    set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
  endif()
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    set(MFORCE_BUILD_CUDA ON)
  elseif(MFORCE_CUDA STREQUAL "ON")
    message(FATAL_ERROR "MFORCE_CUDA=ON but no CUDA compiler (nvcc) was found")
  else()
    message(STATUS "mforce: nvcc not found, building the CPU library only")
  endif()
endif()
