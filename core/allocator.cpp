#include "core/allocator.h"

#include <cstddef>
#include <dlfcn.h>
#include <gnu/libc-version.h>

namespace baofeed {

std::string allocator_name() {
#if defined(BAOFEED_ASAN)
    return "AddressSanitizer malloc";
#else
    // jemalloc's introspection entry point; looked up rather than declared so that core/ builds
    // and runs with either allocator.
    using Mallctl = int (*)(const char*, void*, std::size_t*, void*, std::size_t);
    if (void* symbol = dlsym(RTLD_DEFAULT, "mallctl")) {
        const auto mallctl = reinterpret_cast<Mallctl>(symbol);
        const char* version = nullptr;
        std::size_t size = sizeof(version);
        if (mallctl("version", static_cast<void*>(&version), &size, nullptr, 0) == 0 &&
            version != nullptr) {
            return std::string("jemalloc ") + version;
        }
        return "jemalloc";
    }
    return std::string("glibc ") + gnu_get_libc_version() + " malloc";
#endif
}

}  // namespace baofeed
