// The baofeed subcommands, as functions of their options. Each returns the process exit code.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace baofeed::app {

// Exit codes, documented in README "Exit codes".
inline constexpr int kExitOk = 0;
inline constexpr int kExitFatal = 1;       // bad config, database or output: nothing published
inline constexpr int kExitUsage = 2;       // bad command line
inline constexpr int kExitSiteBroken = 3;  // feeds written, but at least one site gave nothing
inline constexpr int kExitLocked = 4;      // another run holds the lock: this one did nothing

struct RunOptions {
    std::filesystem::path config;
};

struct ArticlesOptions {
    std::filesystem::path config;
    std::optional<std::string> site;
    std::size_t limit = 0;  // 0 = all
    bool json = false;
};

struct ReparseOptions {
    std::filesystem::path config;
    std::optional<std::string> site;
};

struct SearchOptions {
    std::filesystem::path config;
    std::string query;
    std::optional<std::string> site;
    std::size_t limit = 20;
    bool json = false;
};

// Throws ConfigError, StorageError, PublishError: main reports them.
int run_command(const RunOptions& options);
int articles_command(const ArticlesOptions& options);
// Re-extracts stored articles from their raw pages with the current rules (no fetching), saves
// the changes and rewrites the feeds.
int reparse_command(const ReparseOptions& options);
int search_command(const SearchOptions& options);

}  // namespace baofeed::app
