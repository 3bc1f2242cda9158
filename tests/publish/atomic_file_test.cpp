#include "publish/atomic_file.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/errors.h"
#include "publish/test_support.h"

namespace baofeed::publish {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::vector<std::string> names_in(const fs::path& dir) {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir)) {
        names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
}

TEST(WriteAtomically, CreatesMissingParentDirectories) {
    testing::TempDir dir;
    const fs::path path = dir.path() / "a" / "b" / "feed.rss";
    EXPECT_EQ(write_atomically(path, "<rss/>\n"), WriteResult::written);
    EXPECT_EQ(testing::read_file(path), "<rss/>\n");
    EXPECT_THAT(names_in(path.parent_path()), ElementsAre("feed.rss"));
}

TEST(WriteAtomically, WritesFileWithMode0644) {
    testing::TempDir dir;
    const fs::path path = dir.path() / "feed.rss";
    const mode_t old_umask = ::umask(077);
    write_atomically(path, "x");
    ::umask(old_umask);
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0644u);
}

TEST(WriteAtomically, LeavesFileUntouchedWhenBytesAreTheSame) {
    testing::TempDir dir;
    const fs::path path = dir.path() / "feed.rss";
    ASSERT_EQ(write_atomically(path, "same bytes"), WriteResult::written);
    const auto old_time = fs::file_time_type::clock::now() - std::chrono::hours(24);
    fs::last_write_time(path, old_time);
    struct stat before {};
    ASSERT_EQ(::stat(path.c_str(), &before), 0);

    EXPECT_EQ(write_atomically(path, "same bytes"), WriteResult::unchanged);

    struct stat after {};
    ASSERT_EQ(::stat(path.c_str(), &after), 0);
    EXPECT_EQ(fs::last_write_time(path), old_time);
    EXPECT_EQ(after.st_ino, before.st_ino);  // not replaced by a new file either
    EXPECT_THAT(names_in(dir.path()), ElementsAre("feed.rss"));
}

TEST(WriteAtomically, ReplacesDifferentContent) {
    testing::TempDir dir;
    const fs::path path = dir.path() / "feed.rss";
    testing::write_file(path, "old content that is longer");
    struct stat before {};
    ASSERT_EQ(::stat(path.c_str(), &before), 0);

    EXPECT_EQ(write_atomically(path, "new"), WriteResult::written);

    EXPECT_EQ(testing::read_file(path), "new");
    struct stat after {};
    ASSERT_EQ(::stat(path.c_str(), &after), 0);
    EXPECT_NE(after.st_ino, before.st_ino);  // a new file renamed over the old one
    EXPECT_THAT(names_in(dir.path()), ElementsAre("feed.rss"));
}

TEST(WriteAtomically, ReplacesContentOfTheSameSize) {
    testing::TempDir dir;
    const fs::path path = dir.path() / "feed.rss";
    testing::write_file(path, "aaaa");
    EXPECT_EQ(write_atomically(path, "aaab"), WriteResult::written);
    EXPECT_EQ(testing::read_file(path), "aaab");
}

TEST(WriteAtomically, WritesLargeAndEmptyContent) {
    testing::TempDir dir;
    std::string big(3 * 1024 * 1024 + 17, 'x');
    big[big.size() / 2] = 'y';
    EXPECT_EQ(write_atomically(dir.path() / "big", big), WriteResult::written);
    EXPECT_EQ(testing::read_file(dir.path() / "big"), big);
    EXPECT_EQ(write_atomically(dir.path() / "big", big), WriteResult::unchanged);
    EXPECT_EQ(write_atomically(dir.path() / "empty", ""), WriteResult::written);
    EXPECT_EQ(write_atomically(dir.path() / "empty", ""), WriteResult::unchanged);
    EXPECT_EQ(fs::file_size(dir.path() / "empty"), 0u);
}

TEST(WriteAtomically, ThrowsWhenParentIsARegularFile) {
    testing::TempDir dir;
    testing::write_file(dir.path() / "file", "x");
    const fs::path path = dir.path() / "file" / "sub" / "feed.rss";
    try {
        write_atomically(path, "bytes");
        FAIL() << "expected PublishError";
    } catch (const PublishError& e) {
        EXPECT_THAT(e.what(), StartsWith("publish: " + path.string() + ": "));
    }
    EXPECT_THAT(names_in(dir.path()), ElementsAre("file"));
}

TEST(WriteAtomically, ThrowsAndRemovesTempFileWhenTargetIsADirectory) {
    // The temp file is written and fsynced before rename fails: it must not be left behind.
    testing::TempDir dir;
    fs::create_directory(dir.path() / "feed.rss");
    try {
        write_atomically(dir.path() / "feed.rss", "bytes");
        FAIL() << "expected PublishError";
    } catch (const PublishError& e) {
        EXPECT_THAT(e.what(), StartsWith("publish: "));
        EXPECT_THAT(e.what(), HasSubstr("rename"));
        EXPECT_THAT(e.what(), HasSubstr("directory"));  // the errno text, EISDIR
    }
    EXPECT_THAT(names_in(dir.path()), ElementsAre("feed.rss"));
    EXPECT_TRUE(fs::is_directory(dir.path() / "feed.rss"));
}

TEST(WriteAtomically, ThrowsWhenDirectoryIsNotWritable) {
    if (::geteuid() == 0) {
        GTEST_SKIP() << "root ignores directory permissions";
    }
    testing::TempDir dir;
    const fs::path locked = dir.path() / "locked";
    fs::create_directory(locked);
    fs::permissions(locked, fs::perms::owner_read | fs::perms::owner_exec);
    EXPECT_THROW(write_atomically(locked / "feed.rss", "bytes"), PublishError);
    fs::permissions(locked, fs::perms::owner_all);
    EXPECT_TRUE(names_in(locked).empty());
}

TEST(WriteAtomically, ThrowsOnPathWithoutFileName) {
    testing::TempDir dir;
    EXPECT_THROW(write_atomically(dir.path() / "sub/", "bytes"), PublishError);
}

TEST(WriteAtomically, ManyWritesLeaveOnlyTheTarget) {
    testing::TempDir dir;
    const fs::path path = dir.path() / "feed.rss";
    for (int i = 0; i < 20; ++i) {
        write_atomically(path, "version " + std::to_string(i % 3));
    }
    EXPECT_EQ(testing::read_file(path), "version 1");
    EXPECT_THAT(names_in(dir.path()), ElementsAre("feed.rss"));
}

}  // namespace
}  // namespace baofeed::publish
