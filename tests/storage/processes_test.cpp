// Several processes on one database file, and processes killed with SIGKILL mid-write: the file
// stays consistent, every committed batch is whole, and re-running the work loses and
// duplicates nothing.
#include <chrono>
#include <csignal>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>
#include <sys/types.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>

#include "storage/article_store.h"
#include "storage/fts_tokenizer.h"
#include "storage/sample_articles.h"
#include "storage/sqlite.h"
#include "storage/temp_dir.h"

namespace baofeed::storage {
namespace {

using testing::at;
using testing::make_article;
using testing::TempDir;

constexpr int kBatch = 10;

// Runs `work` in a child process; returns its pid. The child exits 0 when `work` returns, 1 when
// it throws.
template <typename Work>
pid_t spawn(Work work) {
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    if (pid == 0) {
        int code = 0;
        try {
            work();
        } catch (const std::exception& e) {
            std::fprintf(stderr, "child %d: %s\n", static_cast<int>(::getpid()), e.what());
            code = 1;
        }
        ::_exit(code);
    }
    return pid;
}

int wait_exit_code(pid_t pid) {
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid) {
        return -1;
    }
    if (WIFEXITED(status)) {
        return WEXITSTATUS(status);
    }
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
}

Article numbered(const std::string& prefix, int i) {
    Article a = make_article("https://x.vn/" + prefix + "-" + std::to_string(i) + ".html");
    a.title = "Bài số " + std::to_string(i) + " của " + prefix;
    a.body = {"Nội dung riêng của bài " + std::to_string(i) + " thuộc nhóm " + prefix + "."};
    return a;
}

// The crawler's job: save `total` articles in batches, skipping those already stored.
void run_job(const std::string& path, int total) {
    ArticleStore store(path);
    std::vector<Article> batch;
    for (int i = 0; i < total; ++i) {
        Article a = numbered("job", i);
        if (store.knows_url(a.canonical_url)) {
            continue;
        }
        batch.push_back(std::move(a));
        if (batch.size() == kBatch) {
            store.save(batch, at(1000 + i));
            batch.clear();
        }
    }
    if (!batch.empty()) {
        store.save(batch, at(5000));
    }
}

void expect_intact(const std::string& path) {
    Database check(path);
    register_fts_tokenizer(check);  // articles_fts is tokenized by it since version 8
    EXPECT_EQ(check.query_text("PRAGMA integrity_check"), "ok");
    EXPECT_EQ(check.query_int("SELECT count(*) FROM pragma_foreign_key_check"), 0);
    if (check.query_int("PRAGMA user_version") >= 2) {  // a kill may stop the migrations early
        EXPECT_NO_THROW(check.exec(
            "INSERT INTO articles_fts (articles_fts, rank) VALUES ('integrity-check', 1)"));
    }
}

TEST(Processes, TwoProcessesWritingManyBatchesToOneFileNeverCorruptItOrLoseAWrite) {
    TempDir dir;
    const std::string path = dir.file("shared.db");
    { ArticleStore create(path); }
    constexpr int kBatches = 30;
    auto writer = [&path](const std::string& prefix) {
        ArticleStore store(path);
        for (int b = 0; b < kBatches; ++b) {
            std::vector<Article> batch;
            for (int i = 0; i < kBatch - 1; ++i) {
                batch.push_back(numbered(prefix, b * kBatch + i));
            }
            // Both processes also save the same story: it must stay one record.
            batch.push_back(numbered("shared", b));
            store.save(batch, at(b));
            store.knows_url(batch.front().canonical_url);
        }
    };
    const pid_t a = spawn([&] { writer("a"); });
    const pid_t b = spawn([&] { writer("b"); });
    ASSERT_GT(a, 0);
    ASSERT_GT(b, 0);
    EXPECT_EQ(wait_exit_code(a), 0);
    EXPECT_EQ(wait_exit_code(b), 0);

    expect_intact(path);
    ArticleStore store(path);
    EXPECT_EQ(store.list(std::nullopt, 0).size(),
              static_cast<std::size_t>(2 * kBatches * (kBatch - 1) + kBatches));
    for (int i = 0; i < kBatches; ++i) {
        EXPECT_TRUE(store.knows_url(numbered("shared", i).canonical_url)) << i;
    }
}

TEST(Processes, ARunKilledAtManyPointsLeavesWholeBatchesAndTheNextRunCompletesTheWork) {
    TempDir dir;
    const std::string path = dir.file("killed.db");
    constexpr int kTotal = 400;
    // Kill points from "while creating and migrating the file" to "deep in the saves".
    const std::vector<int> delays_ms = {1, 2, 4, 6, 8, 10, 13, 16, 20, 25, 30, 40, 50};
    for (const int delay : delays_ms) {
        const pid_t pid = spawn([&] { run_job(path, kTotal); });
        ASSERT_GT(pid, 0);
        std::this_thread::sleep_for(std::chrono::milliseconds(delay));
        ::kill(pid, SIGKILL);
        const int code = wait_exit_code(pid);
        EXPECT_TRUE(code == 128 + SIGKILL || code == 0) << "delay " << delay << ": " << code;
        if (!std::filesystem::exists(path)) {
            continue;  // killed before the file existed
        }
        expect_intact(path);
        ArticleStore store(path);  // completes any migration the kill interrupted
        const std::size_t stored = store.list(std::nullopt, 0).size();
        EXPECT_EQ(stored % kBatch, 0U) << "a batch was cut in half at delay " << delay;
    }
    run_job(path, kTotal);
    expect_intact(path);
    ArticleStore store(path);
    EXPECT_EQ(store.list(std::nullopt, 0).size(), static_cast<std::size_t>(kTotal));
    for (int i = 0; i < kTotal; ++i) {
        ASSERT_TRUE(store.knows_url(numbered("job", i).canonical_url)) << i;
    }
}

}  // namespace
}  // namespace baofeed::storage
