#include "storage/sqlite_allocator.h"

#include <cstring>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "storage/sqlite.h"

namespace baofeed::storage {
namespace {

TEST(SqliteAllocator, ABlockHoldsAtLeastWhatWasAskedAndAtMostAnEighthMore) {
    for (int size = 0; size <= 70'000; size += 7) {
        void* block = sqlite_malloc(size);
        ASSERT_NE(block, nullptr) << size;
        const int usable = sqlite_size(block);
        EXPECT_GE(usable, size);
        EXPECT_EQ(usable, size <= 65'536 ? sqlite_roundup(size) : size);
        if (size > 64) {
            EXPECT_LE(usable, size + size / 8 + 1) << size;
        }
        std::memset(block, 0xAB, static_cast<std::size_t>(usable));
        sqlite_free(block);
    }
    EXPECT_EQ(sqlite_roundup(65), 72);
    EXPECT_EQ(sqlite_roundup(128), 128);
    EXPECT_EQ(sqlite_roundup(129), 144);
    EXPECT_EQ(sqlite_roundup(8192 + 200), 9216);
}

TEST(SqliteAllocator, AFreedBlockIsHandedOutAgainToTheSameThreadForTheSameClass) {
    void* first = sqlite_malloc(3000);
    const std::size_t cached = sqlite_cached_bytes();
    sqlite_free(first);
    EXPECT_EQ(sqlite_cached_bytes(), cached + static_cast<std::size_t>(sqlite_roundup(3000)));
    void* again = sqlite_malloc(2990);  // same class
    EXPECT_EQ(again, first);
    EXPECT_EQ(sqlite_cached_bytes(), cached);
    sqlite_free(again);
}

TEST(SqliteAllocator, AThreadKeepsAtMostEightMebibytesOfFreedBlocks) {
    std::thread([] {
        std::vector<void*> blocks;
        for (int i = 0; i < 4000; ++i) {  // 4000 x 9 KiB = 36 MiB
            blocks.push_back(sqlite_malloc(8192 + 200));
        }
        for (void* block : blocks) {
            sqlite_free(block);
        }
        EXPECT_LE(sqlite_cached_bytes(), 4U << 20);  // one class: at most 4 MiB
        EXPECT_GT(sqlite_cached_bytes(), 3U << 20);
        blocks.clear();
        for (int size = 200; size < 60'000; size += 997) {
            for (int i = 0; i < 200; ++i) {
                blocks.push_back(sqlite_malloc(size));
            }
        }
        for (void* block : blocks) {
            sqlite_free(block);
        }
        EXPECT_LE(sqlite_cached_bytes(), 8U << 20);
    }).join();
}

TEST(SqliteAllocator, ReallocKeepsTheBytesAndTheBlockWhenItStillFits) {
    auto* block = static_cast<char*>(sqlite_malloc(1000));
    std::memset(block, 'x', 1000);
    EXPECT_EQ(sqlite_realloc(block, 1020), block);  // 1000 -> 1024 bytes usable
    auto* grown = static_cast<char*>(sqlite_realloc(block, 100'000));
    ASSERT_NE(grown, nullptr);
    EXPECT_EQ(std::string(grown, 1000), std::string(1000, 'x'));
    EXPECT_EQ(sqlite_size(grown), 100'000);
    auto* shrunk = static_cast<char*>(sqlite_realloc(grown, 10));
    EXPECT_EQ(std::string(shrunk, 10), std::string(10, 'x'));
    EXPECT_EQ(sqlite_size(shrunk), 64);
    sqlite_free(shrunk);
    void* fresh = sqlite_realloc(nullptr, 10);  // as sqlite_malloc
    EXPECT_EQ(sqlite_size(fresh), 64);
    sqlite_free(fresh);
}

TEST(SqliteAllocator, BlocksFreedByAnotherThreadAndAtThreadExitAreFine) {
    std::vector<void*> blocks;
    for (int i = 0; i < 100; ++i) {
        blocks.push_back(sqlite_malloc(500 * i));
    }
    std::thread([&] {
        for (void* block : blocks) {
            sqlite_free(block);
        }
    }).join();  // the thread's cache frees them when it ends
}

TEST(SqliteAllocator, SqliteRunsOnItOnceADatabaseIsOpened) {
    const std::size_t cached = sqlite_cached_bytes();
    {
        Database db(":memory:");
        db.exec("CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB)");
        db.exec(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) "
            "INSERT INTO t SELECT i, randomblob(i % 5000) FROM n");
        EXPECT_EQ(db.query_int("SELECT count(*) FROM t"), 20000);
        // randomblob(0) is one byte long.
        EXPECT_EQ(db.query_int("SELECT sum(length(v)) FROM t"), 49'990'000 + 4);
    }
#if defined(__SANITIZE_ADDRESS__)
    EXPECT_FALSE(sqlite_allocator_installed());  // AddressSanitizer sees SQLite's own mallocs
    EXPECT_EQ(sqlite_cached_bytes(), cached);    // SQLite freed nothing into the cache
#else
    ASSERT_TRUE(sqlite_allocator_installed());
    EXPECT_GT(sqlite_cached_bytes(), cached);  // the pages and records SQLite freed
#endif
}

}  // namespace
}  // namespace baofeed::storage
