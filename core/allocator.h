// Which malloc the running process uses.
#pragma once

#include <string>

namespace baofeed {

// The allocator that serves malloc in this process, with its version, as the process finds it at
// run time: "jemalloc 5.3.0-0-g54eaed1d..." when jemalloc's mallctl() is linked in (the build's
// BAOFEED_ALLOCATOR=jemalloc, or LD_PRELOAD), "AddressSanitizer malloc" in a sanitizer build,
// else "glibc 2.36 malloc". For `baofeed --version` and the benchmarks' reports. Thread-safe.
std::string allocator_name();

}  // namespace baofeed
