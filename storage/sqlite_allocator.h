// SQLite's memory allocator in this process. Internal to storage/.
//
// SQLite allocates and frees the same few sizes over and over while it writes: a record buffer of
// every row inserted (an article row is ~3 KB), a scratch area for every page split, a page
// (8 KiB + header) for every page a batch changes beyond the page cache, freed again at the
// commit. glibc's malloc serves those sizes from its general bins, with splitting, coalescing and
// a lock; at a million articles that was 15% of the writer's time. This allocator puts a small
// cache per thread in front of it: freed blocks of up to 64 KiB are kept by size class (eight
// classes per power of two, so a block is at most 12.5% larger than asked) and handed out again
// to the same thread, without a lock. A thread keeps at most 1 MiB of each class and 8 MiB in
// all; the rest goes back to malloc. Blocks freed by another thread join that thread's cache.
// Larger blocks go straight to malloc. It also turns SQLite's memory statistics off (a global
// mutex per allocation; baofeed does not read them). The programs run on jemalloc
// (BAOFEED_ALLOCATOR), whose own thread caches took most of that cost away; in front of it this
// cache still saves the writer ~2 us of its ~36 an article at a million articles.
#pragma once

#include <cstddef>

namespace baofeed::storage {

// Installs the allocator (sqlite3_config SQLITE_CONFIG_MALLOC and SQLITE_CONFIG_MEMSTATUS 0)
// once per process. It must run before SQLite's first use in the process (Database's constructor
// calls it); when SQLite was already initialized, it changes nothing and SQLite keeps its
// default allocator. Builds with AddressSanitizer keep the default allocator, so that it sees
// every block SQLite uses. Thread-safe.
void install_sqlite_allocator();
// True once install_sqlite_allocator() has installed it.
bool sqlite_allocator_installed();

// The allocator's functions, for tests. sqlite_size() is the usable size of a block (>= the
// size asked); sqlite_roundup(n) the size sqlite_malloc(n) gives.
void* sqlite_malloc(int size);
void sqlite_free(void* block);
void* sqlite_realloc(void* block, int size);
int sqlite_size(void* block);
int sqlite_roundup(int size);

// Bytes this thread's cache holds in freed blocks (for tests).
std::size_t sqlite_cached_bytes();

}  // namespace baofeed::storage
