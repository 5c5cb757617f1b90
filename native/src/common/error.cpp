// The thread-local error message behind mf_last_error(), shared by both backends.
#include <cstdarg>
#include <cstdio>

#include "mforce/common.h"

namespace {
thread_local char last_error[1024] = "";
}

extern "C" {

const char* mf_last_error(void) { return last_error; }

void mf_set_error(const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(last_error, sizeof last_error, fmt, args);
  va_end(args);
}

const char* mf_version(void) { return MFORCE_VERSION; }

}  // extern "C"
