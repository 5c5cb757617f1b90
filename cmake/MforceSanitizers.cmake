# -DMFORCE_SANITIZE=address,undefined builds the CPU library with those sanitizers
# (run the JVM with LD_PRELOAD of the matching runtime, e.g. libasan.so).
set(MFORCE_SANITIZE "" CACHE STRING "comma-separated sanitizers for libmforce_cpu (e.g. address,undefined)")
function(mforce_sanitizers target)
  if(MFORCE_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=${MFORCE_SANITIZE} -fno-omit-frame-pointer)
    target_link_options(${target} PRIVATE -fsanitize=${MFORCE_SANITIZE})
  endif()
endfunction()
