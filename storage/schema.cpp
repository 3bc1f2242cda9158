#include "storage/schema.h"

#include <stdexcept>
#include <string>

#include "core/errors.h"

namespace baofeed::storage {

namespace {

// Version 1. Conventions for later versions: STRICT tables; times are unix seconds (INTEGER);
// text fields are NOT NULL ('' when absent) except dates, which are NULL when unknown; JSON
// columns hold arrays. The two listing indexes match list()'s ORDER BY expression exactly.
constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE articles (
    id            INTEGER PRIMARY KEY,
    canonical_url TEXT    NOT NULL UNIQUE,
    site          TEXT    NOT NULL,
    title         TEXT    NOT NULL,
    author        TEXT    NOT NULL,
    published     INTEGER,
    modified      INTEGER,
    lead          TEXT    NOT NULL,
    body          TEXT    NOT NULL CHECK (json_valid(body)),
    images        TEXT    NOT NULL CHECK (json_valid(images)),
    videos        TEXT    NOT NULL CHECK (json_valid(videos)),
    content_hash  INTEGER NOT NULL,
    first_seen    INTEGER NOT NULL,
    updated       INTEGER NOT NULL
) STRICT;

CREATE INDEX articles_newest
    ON articles (coalesce(published, first_seen) DESC, canonical_url);
CREATE INDEX articles_site_newest
    ON articles (site, coalesce(published, first_seen) DESC, canonical_url);

CREATE TABLE article_urls (
    url        TEXT    PRIMARY KEY,
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    first_seen INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX article_urls_by_article ON article_urls (article_id, first_seen, url);
)sql";

constexpr Migration kMigrations[] = {
    {1, kSchemaV1},
};

void check_sequence(std::span<const Migration> steps) {
    int expected = 1;
    for (const Migration& step : steps) {
        if (step.version != expected) {
            throw std::logic_error("storage: migrations must be numbered 1, 2, 3, ... in order");
        }
        ++expected;
    }
}

[[noreturn]] void refuse_newer(const Database& db, int found, int latest) {
    throw StorageError(storage_message(db.path(),
                                       "schema version " + std::to_string(found) +
                                           " is newer than this program's " +
                                           std::to_string(latest),
                                       "migrate"));
}

}  // namespace

std::span<const Migration> migrations() {
    return kMigrations;
}

int latest_version() {
    return migrations().empty() ? 0 : migrations().back().version;
}

void configure_connection(Database& db) {
    // busy_timeout first: switching to WAL may have to wait for another connection.
    db.query_int("PRAGMA busy_timeout = 10000");
    db.exec("PRAGMA foreign_keys = ON");
    const std::string mode = db.query_text("PRAGMA journal_mode = WAL");
    if (mode != "wal" && mode != "memory") {
        throw StorageError(
            storage_message(db.path(), "journal_mode is '" + mode + "', not 'wal'", "configure"));
    }
    db.exec("PRAGMA synchronous = NORMAL");
}

int user_version(Database& db) {
    return static_cast<int>(db.query_int("PRAGMA user_version"));
}

int apply_migrations(Database& db, std::span<const Migration> steps) {
    check_sequence(steps);
    const int latest = steps.empty() ? 0 : steps.back().version;
    int current = user_version(db);
    if (current > latest) {
        refuse_newer(db, current, latest);
    }
    for (const Migration& step : steps) {
        if (step.version <= current) {
            continue;
        }
        Transaction tx(db);
        // Another connection may have migrated while we waited for the write lock.
        current = user_version(db);
        if (current > latest) {
            refuse_newer(db, current, latest);
        }
        if (step.version <= current) {
            continue;  // tx rolls back an empty transaction
        }
        db.exec(step.sql);
        db.exec("PRAGMA user_version = " + std::to_string(step.version));
        tx.commit();
        current = step.version;
    }
    return current;
}

int migrate(Database& db) {
    return apply_migrations(db, migrations());
}

}  // namespace baofeed::storage
