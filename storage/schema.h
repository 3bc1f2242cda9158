// The article database schema: per-connection settings and migrations keyed by
// PRAGMA user_version. Internal to storage/.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "storage/sqlite.h"

namespace baofeed::storage {

// One schema step: SQL that takes a database from version - 1 to `version`.
struct Migration {
    int version;
    std::string_view sql;
    // The step rebuilds tables (CREATE new, copy, DROP old, RENAME): it runs with foreign keys
    // off and fails when PRAGMA foreign_key_check finds a violation before its commit.
    bool rebuilds_tables = false;
};

// The program's migrations, in order; versions are 1, 2, 3, ... without gaps.
std::span<const Migration> migrations();

// The version the program's migrations lead to.
int latest_version();

// The page cache of a connection, as configure_connection sets it.
inline constexpr std::int64_t kConnectionCacheBytes = std::int64_t{4} << 20;

// WAL frames (pages) after which a commit checkpoints the WAL: configure_connection's
// wal_autocheckpoint, and ArticleStore's WalCheckpointer threshold. 16,000 frames are 125 MiB
// of 8 KiB pages. A checkpoint copies each page once however many commits rewrote it since the
// last one, and a batch of new articles rewrites the same hot pages as the batch before (the
// new identity keys, the week's LSH keys, the right edge of each index): at a million benchmark
// articles, 16,000 instead of 4,000 halved the checkpointer's CPU (6 to 3 us an article) and
// raised the insert rate by 6-9%; 32,000 gained nothing more. A run that saves a few hundred
// articles never reaches it: its WAL is checkpointed when the run closes the database.
inline constexpr int kWalCheckpointPages = 16'000;

// Settings that do not persist in the file and must be set on every connection:
// busy_timeout=10000 ms, foreign_keys=ON, journal_mode=WAL (persistent, but set every time so a
// new file gets it), synchronous=NORMAL; and for speed cache_size=kConnectionCacheBytes (a store
// that saves grows its own: StoreOptions::cache_share), no memory map,
// wal_autocheckpoint=kWalCheckpointPages (ArticleStore moves the checkpoints to a thread of its
// own).
// Throws StorageError when WAL cannot be enabled on a
// file (":memory:" databases keep their in-memory journal).
void configure_connection(Database& db);

// PRAGMA user_version.
int user_version(Database& db);

// Applies every migration whose version is above the file's, in order, each in its own
// IMMEDIATE transaction that also sets user_version, so a failure leaves the file at the last
// completed version. Safe against another connection migrating the same file concurrently (the
// version is re-read under the write lock). Throws StorageError when the file's version is
// newer than the last migration ("schema version N is newer than this program's M").
// REQUIRES: `steps` sorted by version, starting at 1, without gaps. Returns the final version.
int apply_migrations(Database& db, std::span<const Migration> steps);

// apply_migrations(db, migrations()), after registering on `db` what the migrations use: the SQL
// functions of register_content_functions (storage/packed_content.h; version 9 calls
// baofeed_content_hash) and the FTS5 tokenizer "baofeed" (register_fts_tokenizer,
// storage/fts_tokenizer.h; version 8 creates articles_fts with it). A caller of
// apply_migrations() with steps past version 7 registers them itself (without the tokenizer,
// step 8 fails with "no such tokenizer: baofeed" and the file stays at 7).
int migrate(Database& db);

}  // namespace baofeed::storage
