# Whether to build libmforce_cuda, and for which GPUs.
#   MFORCE_CUDA=AUTO (default): when nvcc is found; ON: required; OFF: never.
#   MFORCE_CUDA_GENCODE: nvcc -gencode flags. Default: machine code for sm_80 (A100) and sm_90a
#   (H100, with the Hopper-only instructions), plus compute_90 PTX for newer GPUs.
set(MFORCE_CUDA "AUTO" CACHE STRING "build libmforce_cuda: AUTO, ON or OFF")
set(MFORCE_CUDA_GENCODE
    "-gencode=arch=compute_80,code=sm_80;-gencode=arch=compute_90a,code=sm_90a;-gencode=arch=compute_90,code=compute_90"
    CACHE STRING "nvcc -gencode flags for libmforce_cuda")
set(MFORCE_CUDA_ARCHS "sm_80 sm_90a compute_90" CACHE STRING "the architectures MFORCE_CUDA_GENCODE names (reported by mforce info)")

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
