#include "storage/schema.h"

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

#include <sqlite3.h>

#include "core/errors.h"
#include "storage/fts_tokenizer.h"
#include "storage/packed_content.h"

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

// Version 2: one record per story. Identity by site article ID (id_key), the new article
// fields, revisions, story clusters (MinHash signature + LSH band table) and full-text search.
//
// articles_fts is contentless: it holds only the index. Its text is the article's with đ/Đ
// folded to d/D (remove_diacritics does not fold them), and the triggers compute it with exactly
// the same expression on insert and on delete, which contentless tables require.
// story_signatures keeps the MinHash signature apart from the wide article rows, so checking a
// candidate reads a few hundred bytes; articles too short to sign have no row. story_bands has
// no band column: its key already mixes the band number in (storage/article_store.cpp).
// unsigned_articles lists rows whose signature the program has not computed yet (every row
// migrated from version 1); ArticleStore computes them when it opens the file.
constexpr std::string_view kSchemaV2 = R"sql(
ALTER TABLE articles ADD COLUMN id_key      TEXT    NOT NULL DEFAULT '';
ALTER TABLE articles ADD COLUMN lead_prefix TEXT    NOT NULL DEFAULT '';
ALTER TABLE articles ADD COLUMN section     TEXT    NOT NULL DEFAULT '';
ALTER TABLE articles ADD COLUMN html        TEXT    NOT NULL DEFAULT '';
ALTER TABLE articles ADD COLUMN cluster_id  INTEGER NOT NULL DEFAULT 0;
UPDATE articles SET cluster_id = id;

CREATE UNIQUE INDEX articles_id_key ON articles (id_key) WHERE id_key <> '';
CREATE INDEX articles_cluster_newest
    ON articles (cluster_id, coalesce(published, first_seen) DESC, canonical_url);

CREATE TABLE article_revisions (
    id          INTEGER PRIMARY KEY,
    article_id  INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    replaced    INTEGER NOT NULL,
    id_key      TEXT    NOT NULL,
    title       TEXT    NOT NULL,
    author      TEXT    NOT NULL,
    published   INTEGER,
    modified    INTEGER,
    lead        TEXT    NOT NULL,
    lead_prefix TEXT    NOT NULL,
    section     TEXT    NOT NULL,
    body        TEXT    NOT NULL CHECK (json_valid(body)),
    images      TEXT    NOT NULL CHECK (json_valid(images)),
    videos      TEXT    NOT NULL CHECK (json_valid(videos)),
    html        TEXT    NOT NULL
) STRICT;
CREATE INDEX article_revisions_by_article ON article_revisions (article_id, id);

CREATE TABLE story_signatures (
    article_id INTEGER PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE,
    signature  BLOB    NOT NULL
) STRICT;

CREATE TABLE unsigned_articles (
    article_id INTEGER PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE
) STRICT;
INSERT INTO unsigned_articles (article_id) SELECT id FROM articles;

CREATE TABLE story_bands (
    band_key   INTEGER NOT NULL,
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    PRIMARY KEY (band_key, article_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX story_bands_by_article ON story_bands (article_id);

CREATE VIRTUAL TABLE articles_fts USING fts5 (
    title, lead, body, content = '', tokenize = 'unicode61 remove_diacritics 2');

CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
    INSERT INTO articles_fts (rowid, title, lead, body) VALUES (
        new.id,
        replace(replace(new.title, 'đ', 'd'), 'Đ', 'D'),
        replace(replace(new.lead, 'đ', 'd'), 'Đ', 'D'),
        replace(replace(new.body, 'đ', 'd'), 'Đ', 'D'));
END;
CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, title, lead, body) VALUES (
        'delete', old.id,
        replace(replace(old.title, 'đ', 'd'), 'Đ', 'D'),
        replace(replace(old.lead, 'đ', 'd'), 'Đ', 'D'),
        replace(replace(old.body, 'đ', 'd'), 'Đ', 'D'));
END;
CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, lead, body ON articles BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, title, lead, body) VALUES (
        'delete', old.id,
        replace(replace(old.title, 'đ', 'd'), 'Đ', 'D'),
        replace(replace(old.lead, 'đ', 'd'), 'Đ', 'D'),
        replace(replace(old.body, 'đ', 'd'), 'Đ', 'D'));
    INSERT INTO articles_fts (rowid, title, lead, body) VALUES (
        new.id,
        replace(replace(new.title, 'đ', 'd'), 'Đ', 'D'),
        replace(replace(new.lead, 'đ', 'd'), 'Đ', 'D'),
        replace(replace(new.body, 'đ', 'd'), 'Đ', 'D'));
END;

INSERT INTO articles_fts (rowid, title, lead, body)
    SELECT id,
           replace(replace(title, 'đ', 'd'), 'Đ', 'D'),
           replace(replace(lead, 'đ', 'd'), 'Đ', 'D'),
           replace(replace(body, 'đ', 'd'), 'Đ', 'D')
    FROM articles;
)sql";

// Version 3: crawl state. Revisit time per article, conditional-GET state, robots.txt cache,
// the frontier of discovered URLs, compressed raw pages, and tombstones of pruned articles.
// raw_pages.html is compressed data (zlib until version 4, then zstd frames: told apart by their
// magic bytes) of `size` bytes of UTF-8; raw pages are keyed by canonical URL and outlive nothing:
// prune() deletes them with their article or by age.
constexpr std::string_view kSchemaV3 = R"sql(
ALTER TABLE articles ADD COLUMN checked INTEGER NOT NULL DEFAULT 0;
UPDATE articles SET checked = updated;
CREATE INDEX articles_by_first_seen ON articles (first_seen);

CREATE TABLE fetch_states (
    url           TEXT    PRIMARY KEY,
    etag          TEXT    NOT NULL,
    last_modified TEXT    NOT NULL,
    fetched_at    INTEGER NOT NULL,
    status        INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX fetch_states_by_time ON fetch_states (fetched_at);

CREATE TABLE robots (
    origin        TEXT    PRIMARY KEY,
    body          TEXT    NOT NULL,
    status        INTEGER NOT NULL,
    fetched_at    INTEGER NOT NULL,
    expires       INTEGER NOT NULL,
    etag          TEXT    NOT NULL,
    last_modified TEXT    NOT NULL
) STRICT;

CREATE TABLE frontier (
    url        TEXT    PRIMARY KEY,
    site       TEXT    NOT NULL,
    discovered INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX frontier_by_site ON frontier (site, discovered, url);

CREATE TABLE raw_pages (
    id            INTEGER PRIMARY KEY,
    canonical_url TEXT    NOT NULL,
    page          INTEGER NOT NULL CHECK (page >= 1),
    site          TEXT    NOT NULL,
    url           TEXT    NOT NULL,
    fetched_at    INTEGER NOT NULL,
    size          INTEGER NOT NULL,
    html          BLOB    NOT NULL,
    UNIQUE (canonical_url, page)
) STRICT;
CREATE INDEX raw_pages_by_site ON raw_pages (site, canonical_url);
CREATE INDEX raw_pages_by_time ON raw_pages (fetched_at);

CREATE TABLE tombstones (
    kind TEXT NOT NULL CHECK (kind IN ('url', 'id')),
    key  TEXT NOT NULL,
    PRIMARY KEY (kind, key)
) STRICT, WITHOUT ROWID;
)sql";

// Version 4: insert throughput at scale (issue 5).
// - Story signatures change format (textkey::kSignatureVersion 2: one-permutation hashing, 16
//   bands of 3): every stored signature is dropped and every article goes back to
//   unsigned_articles with recluster = 0, so ArticleStore recomputes its signature and LSH keys
//   when it opens the file but keeps the cluster it has. Rows still unsigned since version 1
//   keep recluster = 1 (they have no cluster yet). The file is consistent in between: an
//   article without signature is simply not found as a near-duplicate until it is signed.
// - story_bands (band_key, article_id) with an index by article is replaced by story_lsh, one
//   integer per (band, article): the high 32 bits of the band's bucket key, then the article
//   id in the low 32 bits, as the rowid. A bucket is one rowid range; each entry costs ~14
//   bytes instead of ~40 in two B-trees. Rows are deleted by the program (their keys are
//   recomputed from the stored signature) when a signature is replaced or an article pruned:
//   there is no foreign key to cascade.
// - articles_fts stays as it is (detail=full): detail=column would halve the index, but on a
//   contentless table bm25() then scores every row 0 (SQLite 3.40), and search ranks title
//   matches first.
constexpr std::string_view kSchemaV4 = R"sql(
DROP TABLE story_bands;
CREATE TABLE story_lsh (key INTEGER PRIMARY KEY) STRICT;
DELETE FROM story_signatures;
ALTER TABLE unsigned_articles ADD COLUMN recluster INTEGER NOT NULL DEFAULT 1;
INSERT OR IGNORE INTO unsigned_articles (article_id, recluster) SELECT id, 0 FROM articles;

)sql";

// Version 5: insert throughput at a million articles (issue 5). save() no longer touches a
// random TEXT index; its writes land in a few hot regions.
// - articles is rebuilt without UNIQUE (canonical_url), the index articles_id_key and the
//   json_valid CHECKs (the program writes the JSON; reading parses it): identity is kept by
//   identity_keys. The small columns come first, so reading them (identity, state, cluster)
//   does not walk the overflow pages of body and html. Ids are kept, so every table referring
//   to articles still matches.
// - identity_keys: one row per URL of an article and per id_key, keyed by its 64-bit hash
//   (XXH3 seed 1 of the URL, seed 2 of the id_key; storage/article_store.cpp), -> article id.
//   No foreign key (a cascade would need an index by article): the program deletes the rows of
//   pruned articles. A hash is verified against article_urls / articles.id_key before use.
//   Rows of articles migrated from version 4 are computed by ArticleStore when it opens the
//   file (unkeyed_articles lists them; until then those articles are not found by URL).
// - article_urls is keyed by (article_id, url): an article's URLs are appended together.
// - story_lsh keys become (time bucket << 52) | (band hash << 32) | article id: the time bucket
//   is coalesce(published, first_seen) in weeks since 2000-01-01 (0 .. 4095, clamped), the band
//   hash the top 20 bits of the band's mixed key (version 4 kept 32). A chronological crawl
//   appends into the newest buckets; stories are compared with those of their own and the two
//   neighbouring weeks only (at least 7 days either side).
// - articles_fts is no longer filled by triggers: ArticleStore::index_pending() indexes the
//   articles with id > search_state.indexed_upto and those listed in search_pending (updated
//   since they were indexed; their old text left the index when they were updated). The
//   version 4 triggers had indexed every row.
constexpr std::string_view kSchemaV5 = R"sql(
CREATE TABLE articles_v5 (
    id            INTEGER PRIMARY KEY,
    canonical_url TEXT    NOT NULL,
    site          TEXT    NOT NULL,
    id_key        TEXT    NOT NULL DEFAULT '',
    published     INTEGER,
    modified      INTEGER,
    first_seen    INTEGER NOT NULL,
    updated       INTEGER NOT NULL,
    checked       INTEGER NOT NULL DEFAULT 0,
    cluster_id    INTEGER NOT NULL DEFAULT 0,
    content_hash  INTEGER NOT NULL,
    title         TEXT    NOT NULL,
    author        TEXT    NOT NULL,
    lead_prefix   TEXT    NOT NULL DEFAULT '',
    section       TEXT    NOT NULL DEFAULT '',
    lead          TEXT    NOT NULL,
    images        TEXT    NOT NULL,
    videos        TEXT    NOT NULL,
    body          TEXT    NOT NULL,
    html          TEXT    NOT NULL DEFAULT ''
) STRICT;
INSERT INTO articles_v5 (id, canonical_url, site, title, author, published, modified, lead,
                         body, images, videos, content_hash, first_seen, updated, id_key,
                         lead_prefix, section, html, cluster_id, checked)
    SELECT id, canonical_url, site, title, author, published, modified, lead, body, images,
           videos, content_hash, first_seen, updated, id_key, lead_prefix, section, html,
           cluster_id, checked
    FROM articles ORDER BY id;
DROP TABLE articles;
ALTER TABLE articles_v5 RENAME TO articles;
CREATE INDEX articles_newest
    ON articles (coalesce(published, first_seen) DESC, canonical_url);
CREATE INDEX articles_site_newest
    ON articles (site, coalesce(published, first_seen) DESC, canonical_url);
CREATE INDEX articles_cluster_newest
    ON articles (cluster_id, coalesce(published, first_seen) DESC, canonical_url);
CREATE INDEX articles_by_first_seen ON articles (first_seen);

CREATE TABLE article_urls_v5 (
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    url        TEXT    NOT NULL,
    first_seen INTEGER NOT NULL,
    PRIMARY KEY (article_id, url)
) STRICT, WITHOUT ROWID;
INSERT INTO article_urls_v5 (article_id, url, first_seen)
    SELECT article_id, url, first_seen FROM article_urls ORDER BY article_id, url;
DROP TABLE article_urls;
ALTER TABLE article_urls_v5 RENAME TO article_urls;

CREATE TABLE identity_keys (
    key        INTEGER PRIMARY KEY,
    article_id INTEGER NOT NULL
) STRICT;
CREATE TABLE unkeyed_articles (
    article_id INTEGER PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE
) STRICT;
INSERT INTO unkeyed_articles (article_id) SELECT id FROM articles;

CREATE TABLE story_lsh_v5 (key INTEGER PRIMARY KEY) STRICT;
INSERT INTO story_lsh_v5 (key)
    SELECT (max(0, min(4095, (coalesce(a.published, a.first_seen) - 946684800) / 604800)) << 52)
           | (((l.key >> 44) & 1048575) << 32) | (l.key & 4294967295)
    FROM story_lsh l JOIN articles a ON a.id = (l.key & 4294967295)
    ORDER BY 1;
DROP TABLE story_lsh;
ALTER TABLE story_lsh_v5 RENAME TO story_lsh;

CREATE TABLE search_state (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    indexed_upto  INTEGER NOT NULL
) STRICT;
INSERT INTO search_state (id, indexed_upto) SELECT 1, coalesce(max(id), 0) FROM articles;
CREATE TABLE search_pending (
    article_id INTEGER PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE
) STRICT;
)sql";

// Version 6: an article's body and html stored as one zstd frame (writer throughput). html
// repeats the text of body, so the two compress together about 4x: the writer thread writes that
// many fewer pages (WAL and checkpoint); the compression runs in ArticleStore::prepare(), on the
// parse threads.
// - articles and article_revisions gain `packed` (BLOB, NULL by default). Rows written since have
//   body = '', html = '' and packed = one zstd frame (level 1) of the body JSON and the html
//   (layout: storage/packed_content.h). Rows written before keep packed NULL and their plain body
//   and html, and are read from those: every reader takes packed when it is not NULL, else the
//   plain columns. An article is packed when it is next inserted, updated or filled in; a revision
//   keeps the form its row had.
// - article_revisions is rebuilt (ids kept) without the json_valid CHECKs of version 2, as
//   articles was in version 5: a revision of a packed row has body = ''.
// - articles_fts is unchanged. Its text comes from baofeed_body(packed, body), an SQL function
//   the program registers on its connection (the body JSON of either kind of row), so an entry
//   indexed before the migration is deleted later with exactly the text it was indexed with.
constexpr std::string_view kSchemaV6 = R"sql(
ALTER TABLE articles ADD COLUMN packed BLOB;

CREATE TABLE article_revisions_v6 (
    id          INTEGER PRIMARY KEY,
    article_id  INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    replaced    INTEGER NOT NULL,
    id_key      TEXT    NOT NULL,
    title       TEXT    NOT NULL,
    author      TEXT    NOT NULL,
    published   INTEGER,
    modified    INTEGER,
    lead        TEXT    NOT NULL,
    lead_prefix TEXT    NOT NULL,
    section     TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    images      TEXT    NOT NULL,
    videos      TEXT    NOT NULL,
    html        TEXT    NOT NULL,
    packed      BLOB
) STRICT;
INSERT INTO article_revisions_v6 (id, article_id, replaced, id_key, title, author, published,
                                  modified, lead, lead_prefix, section, body, images, videos, html)
    SELECT id, article_id, replaced, id_key, title, author, published, modified, lead,
           lead_prefix, section, body, images, videos, html
    FROM article_revisions ORDER BY id;
DROP TABLE article_revisions;
ALTER TABLE article_revisions_v6 RENAME TO article_revisions;
CREATE INDEX article_revisions_by_article ON article_revisions (article_id, id);
)sql";

// Version 7: raw pages compressed against a per-site dictionary (less CPU on the parse threads,
// less for the writer to write: a news page compresses to about 40% of its zstd level 1 size).
// - raw_dictionaries: a dictionary is the bytes of one page of a site (a zstd raw-content
//   dictionary), kept as one plain zstd frame in `content`. Its id is a hash of those bytes
//   (XXH3-64, top bit cleared: storage/raw_page_compressor.h), so the parse threads name it
//   without asking the database, and the same bytes are never stored twice. `created` (unix
//   seconds) is when a run last made it: the crawler reuses a site's newest dictionary across
//   runs and makes a new one when it is half the raw-page retention old.
// - raw_pages gains `dictionary`: the dictionary its frame was compressed against, NULL for a
//   frame compressed without one (every row written before, which are read as they were). The
//   foreign key makes a page without its dictionary impossible: the dictionary is inserted in
//   the transaction of the first page that needs it. prune() deletes the dictionaries that no raw
//   page references, except the newest of each site (the next run reuses it); the index by
//   dictionary serves that and the foreign key.
constexpr std::string_view kSchemaV7 = R"sql(
CREATE TABLE raw_dictionaries (
    id      INTEGER PRIMARY KEY,
    site    TEXT    NOT NULL,
    created INTEGER NOT NULL,
    content BLOB    NOT NULL
) STRICT;
CREATE INDEX raw_dictionaries_by_site ON raw_dictionaries (site, created, id);

ALTER TABLE raw_pages ADD COLUMN dictionary INTEGER REFERENCES raw_dictionaries (id);
CREATE INDEX raw_pages_by_dictionary ON raw_pages (dictionary);
)sql";

// Version 8: the search index is tokenized by baofeed's own FTS5 tokenizer "baofeed"
// (storage/fts_tokenizer.h) instead of unicode61 over the text with đ/Đ replaced (indexing was
// about a tenth of a crawl's CPU). The tokenizer splits as unicode61 does and folds as its
// remove_diacritics 2 does, đ included, so each column is indexed as stored, without replace():
// on 5,000 crawled articles (94 MB of text), indexing took 1.35 s of CPU instead of 2.1 s, and
// gave the very same terms.
// - articles_fts is dropped, created again with tokenize = 'baofeed' and rebuilt from scratch:
//   indexed_upto goes back to 0 and search_pending is emptied, so the next
//   ArticleStore::index_pending() indexes every article (in its chunks of 50,000, a transaction
//   each; search() runs it first). The old entries are not carried over: a contentless index
//   forgets an entry only when given exactly the tokens it was indexed with, and the two
//   tokenizers differ on rare input (bytes that are not UTF-8, characters unassigned in Unicode
//   6.1, Ǡ ǡ).
// - migrate() registers the tokenizer on its connection first (the CREATE needs it). A connection
// without it (the sqlite3 shell) cannot use articles_fts; every other table
//   stays readable.
constexpr std::string_view kSchemaV8 = R"sql(
DROP TABLE articles_fts;
CREATE VIRTUAL TABLE articles_fts USING fts5 (
    title, lead, body, content = '', tokenize = 'baofeed');
UPDATE search_state SET indexed_upto = 0;
DELETE FROM search_pending;
)sql";

// Version 9: the content hash (storage/content_hash.h) hashes the fields with length prefixes
// instead of as a JSON array, which escaped and validated every byte of the html on the parse
// threads (~3% of a crawl's CPU). Every stored article is rehashed from its row by the SQL
// function baofeed_content_hash() (storage/packed_content.h), which reads the columns exactly
// as save() wrote them, so an unchanged article fetched again is still unchanged; rows saved
// without lead_prefix, section and html keep a core hash, as before. Revisions hold no hash.
constexpr std::string_view kSchemaV9 = R"sql(
UPDATE articles SET content_hash = baofeed_content_hash(
    title, author, published, modified, lead, lead_prefix, section, images, videos,
    packed, body, html);
)sql";

// Version 10: identity keys in two levels (insert throughput at a million articles, issue 5).
// identity_keys of a large database is a B-tree of random 64-bit keys: every key inserted lands
// on a page of its own, so a batch of 1,000 new articles dirtied ~2,300 pages (9 MB of WAL) at a
// million articles. New keys now go to identity_recent, a small table of the same shape, and
// ArticleStore moves them into identity_keys in key order, many per page, once identity_recent
// holds StoreOptions::identity_merge_rows rows (in the transaction of the save() that finds it
// so). A key is in at most one of the two tables; a lookup reads identity_recent, then
// identity_keys. Existing keys stay where they are.
constexpr std::string_view kSchemaV10 = R"sql(
CREATE TABLE identity_recent (
    key        INTEGER PRIMARY KEY,
    article_id INTEGER NOT NULL
) STRICT;
)sql";

// Version 11: a Bloom filter of identity_keys (storage/identity_filter.h), so that a new key -- by
// far the common case: a new article's URLs -- is inserted without reading the page of
// identity_keys it would be on (a random read per key at a million articles). One row, written
// by ArticleStore in the transaction that moves identity_recent into identity_keys (the only
// statement that inserts into identity_keys since version 10): the filter then covers every key
// of identity_keys. `generation` grows with each write, so a connection holding the filter in
// memory sees that another one replaced it. Deleted keys stay in the filter (a false positive
// costs the read the filter saves, no more). No row: no filter, every new key is checked against
// identity_keys, as in version 10; the first merge builds it.
constexpr std::string_view kSchemaV11 = R"sql(
CREATE TABLE identity_filter (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    generation INTEGER NOT NULL,
    keys       INTEGER NOT NULL,
    capacity   INTEGER NOT NULL,
    bits       BLOB    NOT NULL
) STRICT;
)sql";

// Version 12: the listing indexes (newest first, of all articles, of a site, of a cluster) no
// longer end with canonical_url: an entry is the time (and the site or cluster) and the rowid,
// ~20 bytes instead of ~90, and every new article writes three such entries. Ties of the same time
// are now listed by id, the first saved first (they were by canonical_url).
constexpr std::string_view kSchemaV12 = R"sql(
DROP INDEX articles_newest;
DROP INDEX articles_site_newest;
DROP INDEX articles_cluster_newest;
CREATE INDEX articles_newest ON articles (coalesce(published, first_seen) DESC);
CREATE INDEX articles_site_newest ON articles (site, coalesce(published, first_seen) DESC);
CREATE INDEX articles_cluster_newest
    ON articles (cluster_id, coalesce(published, first_seen) DESC);
)sql";

// Version 13: story_lsh has 12 rows per signed article instead of 16 (textkey::kBands: the LSH
// takes 12 bands of 3 signature values, no longer 16). The signatures themselves are unchanged.
// Every row goes, and every signed article goes back to unsigned_articles with recluster = 0:
// ArticleStore signs it again when it opens the file (its clusters stay as they are), writing its
// 12 rows; until then it is not found as a near-duplicate, as after version 4.
constexpr std::string_view kSchemaV13 = R"sql(
DELETE FROM story_lsh;
INSERT OR IGNORE INTO unsigned_articles (article_id, recluster)
    SELECT article_id, 0 FROM story_signatures;
)sql";

constexpr Migration kMigrations[] = {
    {1, kSchemaV1},       {2, kSchemaV2},   {3, kSchemaV3},   {4, kSchemaV4}, {5, kSchemaV5, true},
    {6, kSchemaV6, true}, {7, kSchemaV7},   {8, kSchemaV8},   {9, kSchemaV9}, {10, kSchemaV10},
    {11, kSchemaV11},     {12, kSchemaV12}, {13, kSchemaV13},
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

// Turns foreign key enforcement off for its lifetime when `off`, and back on after.
class ForeignKeysOff {
  public:
    ForeignKeysOff(Database& db, bool off) : db_(db), off_(off) {
        if (off_) {
            db_.exec("PRAGMA foreign_keys = OFF");
        }
    }
    ~ForeignKeysOff() {
        if (off_) {
            try {
                db_.exec("PRAGMA foreign_keys = ON");
            } catch (...) {  // NOLINT(bugprone-empty-catch): a destructor must not throw
            }
        }
    }
    ForeignKeysOff(const ForeignKeysOff&) = delete;
    ForeignKeysOff& operator=(const ForeignKeysOff&) = delete;

  private:
    Database& db_;
    bool off_;
};

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

namespace {

// PRAGMA journal_mode = WAL, tried again for up to 10 s while it reports SQLITE_BUSY: when two
// connections open a new file at once, one may find the other switching it and get SQLITE_BUSY
// at once, without its busy handler being called.
std::string switch_to_wal(Database& db) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
        sqlite3_stmt* raw = nullptr;
        int rc = sqlite3_prepare_v2(db.handle(), "PRAGMA journal_mode = WAL", -1, &raw, nullptr);
        std::string mode;
        if (rc == SQLITE_OK) {
            rc = sqlite3_step(raw);
            if (rc == SQLITE_ROW) {
                const unsigned char* text = sqlite3_column_text(raw, 0);
                mode = text == nullptr ? "" : reinterpret_cast<const char*>(text);
                rc = SQLITE_OK;
            }
        }
        sqlite3_finalize(raw);
        if (rc == SQLITE_OK) {
            return mode;
        }
        if ((rc & 0xFF) != SQLITE_BUSY || std::chrono::steady_clock::now() >= deadline) {
            throw StorageError(
                storage_message(db.path(), sqlite3_errstr(rc), "step: PRAGMA journal_mode = WAL"));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

}  // namespace

void configure_connection(Database& db) {
    // busy_timeout first: switching to WAL may have to wait for another connection.
    db.query_int("PRAGMA busy_timeout = 10000");
    db.exec("PRAGMA foreign_keys = ON");
    // Pages of 8 KiB for a new file (no effect on an existing one, which keeps its size; it has
    // to come before WAL mode, which writes the file's first page): an article row (~3 KB with
    // its packed text) wastes less of a page, and a batch's commit writes half as many WAL
    // frames. A 100,000-article benchmark file is ~12% smaller than with 4 KiB pages.
    db.exec("PRAGMA page_size = 8192");
    const std::string mode = switch_to_wal(db);
    if (mode != "wal" && mode != "memory") {
        throw StorageError(
            storage_message(db.path(), "journal_mode is '" + mode + "', not 'wal'", "configure"));
    }
    db.exec("PRAGMA synchronous = NORMAL");
    // Performance only (none changes what is stored): a 4 MiB page cache per connection keeps
    // the hot index pages (the right edge of the growing indexes, a week of LSH keys) in memory;
    // the rest of a large file is read from the OS's cache. 16 MiB filled up with article and
    // raw page rows written once and never read again: the benchmark crawl's peak memory was
    // 15 MB higher for the same speed, and 128 MiB inserted only 3% faster at 300,000 articles.
    // The store that saves grows its cache with the file (StoreOptions::cache_share): at a
    // million articles, 32 MiB cut the writer's time by about a tenth (43 to 39 us an article).
    // The WAL is checkpointed every kWalCheckpointPages pages (schema.h) instead of SQLite's
    // 1,000, so index pages rewritten by consecutive batches are copied into the database once
    // (ArticleStore does it on a thread of its own: WalCheckpointer). No memory map: its pages
    // count toward the process's resident memory, which a cron job on a small server should keep
    // low.
    db.exec("PRAGMA cache_size = -" + std::to_string(kConnectionCacheBytes / 1024));
    db.exec("PRAGMA wal_autocheckpoint = " + std::to_string(kWalCheckpointPages));
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
        // A step that rebuilds a table runs with foreign keys off (outside the transaction:
        // SQLite ignores the pragma inside one), so dropping the old table does not cascade;
        // the references are checked before the commit.
        ForeignKeysOff fk_off(db, step.rebuilds_tables);
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
        if (step.rebuilds_tables &&
            db.query_int("SELECT count(*) FROM pragma_foreign_key_check") != 0) {
            throw StorageError(storage_message(db.path(), "foreign key violation",
                                               "migrate to " + std::to_string(step.version)));
        }
        db.exec("PRAGMA user_version = " + std::to_string(step.version));
        tx.commit();
        current = step.version;
    }
    return current;
}

int migrate(Database& db) {
    register_content_functions(db);  // version 9 calls baofeed_content_hash()
    register_fts_tokenizer(db);      // version 8 creates articles_fts with it
    return apply_migrations(db, migrations());
}

}  // namespace baofeed::storage
