#include "storage/sqlite_allocator.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include <sqlite3.h>

#include "core/allocator.h"  // BAOFEED_ASAN

namespace baofeed::storage {

namespace {

// In front of every block: its usable size and size class. 16 bytes keep the block as aligned
// as malloc's.
struct Header {
    std::size_t size;
    std::size_t size_class;
};
static_assert(sizeof(Header) == 16);

constexpr std::size_t kLargest = 64 * 1024;    // larger blocks are not cached
constexpr std::size_t kClasses = 1 + 8 * 10;   // 64 bytes, then 8 per doubling up to 64 KiB
constexpr std::size_t kUncached = kClasses;    // size_class of a larger block
constexpr std::size_t kClassBytes = 4 << 20;   // a thread keeps at most this much of a class
constexpr std::size_t kThreadBytes = 8 << 20;  // and this much in all

// The class of a block of `n` bytes (n <= kLargest) and its usable size: 64 bytes for n <= 64,
// else n rounded up to the next eighth of its power of two (2^(p-1) < n <= 2^p, steps of
// 2^(p-4)).
std::size_t class_of(std::size_t n, std::size_t& rounded) {
    if (n <= 64) {
        rounded = 64;
        return 0;
    }
    const auto p = static_cast<std::size_t>(std::bit_width(n - 1));
    const std::size_t step = std::size_t{1} << (p - 4);
    const std::size_t units = (n + step - 1) / step;  // 9 .. 16
    rounded = units * step;
    return 1 + (p - 7) * 8 + (units - 9);
}

Header* header_of(void* block) {
    return static_cast<Header*>(block) - 1;
}

// Freed blocks of this thread by class, each list linked through the blocks' first bytes.
struct ThreadCache {
    std::array<void*, kClasses> head{};
    std::array<std::size_t, kClasses> bytes_of{};
    std::size_t bytes = 0;
    ThreadCache() = default;
    ThreadCache(const ThreadCache&) = delete;
    ThreadCache& operator=(const ThreadCache&) = delete;
    ~ThreadCache();
};

// Set when this thread's cache is destroyed (thread exit): SQLite memory freed later on the
// thread, by another thread-local's destructor, goes straight to free().
thread_local bool t_cache_gone = false;

ThreadCache* thread_cache() {
    if (t_cache_gone) {
        return nullptr;
    }
    thread_local ThreadCache cache;
    return &cache;
}

ThreadCache::~ThreadCache() {
    t_cache_gone = true;
    for (void* block : head) {
        while (block != nullptr) {
            void* next = nullptr;
            std::memcpy(&next, block, sizeof next);
            std::free(header_of(block));
            block = next;
        }
    }
}

void* allocate(std::size_t size, std::size_t size_class) {
    auto* header = static_cast<Header*>(std::malloc(sizeof(Header) + size));
    if (header == nullptr) {
        return nullptr;
    }
    header->size = size;
    header->size_class = size_class;
    return header + 1;
}

}  // namespace

void* sqlite_malloc(int size) {
    if (size < 0) {
        return nullptr;
    }
    const auto n = static_cast<std::size_t>(size);
    if (n > kLargest) {
        return allocate(n, kUncached);
    }
    std::size_t rounded = 0;
    const std::size_t size_class = class_of(n, rounded);
    if (ThreadCache* cache = thread_cache(); cache != nullptr && cache->head[size_class]) {
        void* block = cache->head[size_class];
        std::memcpy(&cache->head[size_class], block, sizeof(void*));
        cache->bytes_of[size_class] -= rounded;
        cache->bytes -= rounded;
        return block;
    }
    return allocate(rounded, size_class);
}

void sqlite_free(void* block) {
    if (block == nullptr) {
        return;
    }
    Header* header = header_of(block);
    if (header->size_class != kUncached) {
        ThreadCache* cache = thread_cache();
        const std::size_t size_class = header->size_class;
        if (cache != nullptr && cache->bytes_of[size_class] + header->size <= kClassBytes &&
            cache->bytes + header->size <= kThreadBytes) {
            std::memcpy(block, &cache->head[size_class], sizeof(void*));
            cache->head[size_class] = block;
            cache->bytes_of[size_class] += header->size;
            cache->bytes += header->size;
            return;
        }
    }
    std::free(header);
}

void* sqlite_realloc(void* block, int size) {
    if (block == nullptr) {
        return sqlite_malloc(size);
    }
    if (size < 0) {
        return nullptr;
    }
    const auto n = static_cast<std::size_t>(size);
    const std::size_t have = header_of(block)->size;
    if (n <= have && n >= have / 2) {
        return block;  // fits, and not mostly wasted
    }
    void* moved = sqlite_malloc(size);
    if (moved == nullptr) {
        return nullptr;  // SQLite keeps `block`
    }
    std::memcpy(moved, block, std::min(have, n));
    sqlite_free(block);
    return moved;
}

int sqlite_size(void* block) {
    return block == nullptr ? 0 : static_cast<int>(header_of(block)->size);
}

int sqlite_roundup(int size) {
    if (size < 0 || static_cast<std::size_t>(size) > kLargest) {
        return size;
    }
    std::size_t rounded = 0;
    class_of(static_cast<std::size_t>(size), rounded);
    return static_cast<int>(rounded);
}

std::size_t sqlite_cached_bytes() {
    const ThreadCache* cache = thread_cache();
    return cache == nullptr ? 0 : cache->bytes;
}

namespace {
std::atomic<bool> installed{false};
}  // namespace

bool sqlite_allocator_installed() {
    return installed.load();
}

void install_sqlite_allocator() {
#if !defined(BAOFEED_ASAN)
    static std::once_flag once;
    std::call_once(once, [] {
        static const sqlite3_mem_methods methods = {
            .xMalloc = sqlite_malloc,
            .xFree = sqlite_free,
            .xRealloc = sqlite_realloc,
            .xSize = sqlite_size,
            .xRoundup = sqlite_roundup,
            .xInit = [](void*) { return SQLITE_OK; },
            .xShutdown = [](void*) {},
            .pAppData = nullptr,
        };
        // SQLITE_MISUSE when SQLite is initialized already: it keeps its own allocator.
        if (sqlite3_config(SQLITE_CONFIG_MALLOC, &methods) == SQLITE_OK) {
            sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
            installed.store(true);
        }
    });
#endif
}

}  // namespace baofeed::storage
