// Which malloc the running process uses.
#pragma once

#include <string>

// BAOFEED_ASAN is defined (1) when this translation unit is built with AddressSanitizer, whose
// malloc then serves the process (GCC defines __SANITIZE_ADDRESS__; clang has the feature test).
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BAOFEED_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(BAOFEED_ASAN)
#define BAOFEED_ASAN 1
#endif

namespace baofeed {

// The allocator that serves malloc in this process, with its version, as the process finds it at
// run time: "jemalloc 5.3.0-0-g54eaed1d..." when jemalloc's mallctl() is linked in (the build's
// BAOFEED_ALLOCATOR=jemalloc, or LD_PRELOAD), "AddressSanitizer malloc" in a sanitizer build,
// else "glibc 2.36 malloc". For `baofeed --version` and the benchmarks' reports. Thread-safe.
std::string allocator_name();

}  // namespace baofeed
