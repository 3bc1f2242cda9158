#include "storage/article_store.h"

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <cstdint>
#include <limits>
#include <set>
#include <span>
#include <stdexcept>
#include <unordered_map>
#include <utility>
#include <zlib.h>
#include <zstd.h>

#include <nlohmann/json.hpp>
#include <xxhash.h>

#include "core/errors.h"
#include "core/text.h"
#include "core/textkey.h"
#include "storage/content_hash.h"
#include "storage/fts_tokenizer.h"
#include "storage/identity_filter.h"
#include "storage/packed_content.h"
#include "storage/raw_page_compressor.h"
#include "storage/schema.h"
#include "storage/sqlite.h"

namespace baofeed::storage {

namespace {

using nlohmann::json;

std::int64_t to_unix(Timestamp t) {
    return static_cast<std::int64_t>(t.time_since_epoch().count());
}

Timestamp from_unix(std::int64_t seconds) {
    return Timestamp(std::chrono::seconds(seconds));
}

std::optional<std::int64_t> to_unix(const std::optional<Timestamp>& t) {
    if (!t.has_value()) {
        return std::nullopt;
    }
    return to_unix(*t);
}

std::optional<Timestamp> from_unix(const std::optional<std::int64_t>& seconds) {
    if (!seconds.has_value()) {
        return std::nullopt;
    }
    return from_unix(*seconds);
}

// LIMIT value: 0 means no limit (-1 in SQLite).
std::int64_t sql_limit(std::size_t limit) {
    constexpr auto kMax = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
    return limit == 0 ? std::int64_t{-1} : static_cast<std::int64_t>(std::min(limit, kMax));
}

std::span<const std::byte> as_bytes(std::string_view text) {
    return std::as_bytes(std::span<const char>(text.data(), text.size()));
}

// Text is UTF-8 by contract; should a stray invalid byte slip through, it becomes U+FFFD
// instead of an exception in the middle of a batch.
std::string dump(const json& value) {
    return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

// Appends `text` as a JSON string, byte for byte as dump() writes it (the stored content hash
// of every schema version depends on these bytes): '"' and '\\' escaped, \b \f \n \r \t, other
// control characters as \u00xx, everything else (UTF-8 included) as is. Invalid UTF-8 goes
// through nlohmann, which replaces it.
void append_json_string(std::string& out, std::string_view text) {
    static constexpr char kHex[] = "0123456789abcdef";
    const std::size_t start = out.size();
    out.push_back('"');
    std::size_t run = 0;  // start of the pending run of bytes that need no escape
    // Valid text (all text the parsers make) only needs a look at '"', '\\' and control
    // characters: found sixteen bytes at a time, no per-character validation.
    const bool valid = text.size() >= 32 && text::is_valid_utf8(text);
    for (std::size_t i = valid ? text::find_byte(text, 0, 0x20, "\"\\") : 0; i < text.size();
         i = valid ? text::find_byte(text, i + 1, 0x20, "\"\\") : i + 1) {
        const auto byte = static_cast<unsigned char>(text[i]);
        if (byte >= 0x80) {  // validated while copying: invalid UTF-8 goes through nlohmann
            const std::size_t len = text::valid_sequence_length(text, i);
            if (len == 0) {
                out.resize(start);
                out += dump(json(std::string(text)));
                return;
            }
            i += len - 1;
            continue;
        }
        if (byte >= 0x20 && byte != '"' && byte != '\\') {
            continue;
        }
        out.append(text.substr(run, i - run));
        run = i + 1;
        switch (byte) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\b':
                out += "\\b";
                break;
            case '\f':
                out += "\\f";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                out += "\\u00";
                out.push_back(kHex[byte >> 4U]);
                out.push_back(kHex[byte & 0xFU]);
        }
    }
    out.append(text.substr(run));
    out.push_back('"');
}

std::string json_strings(const std::vector<std::string>& items) {
    std::size_t size = 2;
    for (const std::string& item : items) {
        size += item.size() + 3;
    }
    std::string out;
    out.reserve(size);
    out.push_back('[');
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i > 0) {
            out.push_back(',');
        }
        append_json_string(out, items[i]);
    }
    out.push_back(']');
    return out;
}

// Objects as nlohmann writes them: keys in sorted order.
std::string images_json(const std::vector<Image>& images) {
    std::string out = "[";
    for (std::size_t i = 0; i < images.size(); ++i) {
        out += i > 0 ? ",{\"caption\":" : "{\"caption\":";
        append_json_string(out, images[i].caption);
        out += ",\"src\":";
        append_json_string(out, images[i].src);
        out.push_back('}');
    }
    out.push_back(']');
    return out;
}

std::string videos_json(const std::vector<Video>& videos) {
    std::string out = "[";
    for (std::size_t i = 0; i < videos.size(); ++i) {
        out += i > 0 ? ",{\"caption\":" : "{\"caption\":";
        append_json_string(out, videos[i].caption);
        out += ",\"poster\":";
        append_json_string(out, videos[i].poster);
        out += ",\"src\":";
        append_json_string(out, videos[i].src);
        out.push_back('}');
    }
    out.push_back(']');
    return out;
}

// The serialized content columns of one article, plus the hash that decides "changed?".
struct Content {
    std::string body;
    std::string images;
    std::string videos;
    std::int64_t hash = 0;
    // The hash without the fields added in schema version 2 (== hash when they are empty).
    std::int64_t core_hash = 0;
};

std::optional<std::int64_t> unix_or_null(const std::optional<Timestamp>& t) {
    return t.has_value() ? std::optional<std::int64_t>(to_unix(*t)) : std::nullopt;
}

Content serialize(const Article& article) {
    Content content;
    content.body = json_strings(article.body);
    content.images = images_json(article.images);
    content.videos = videos_json(article.videos);
    const ContentHashes hashes =
        content_hashes(HashedFields{.title = article.title,
                                    .author = article.author,
                                    .published = unix_or_null(article.published),
                                    .modified = unix_or_null(article.modified),
                                    .lead = article.lead,
                                    .body_json = content.body,
                                    .images_json = content.images,
                                    .videos_json = content.videos,
                                    .lead_prefix = article.lead_prefix,
                                    .section = article.section,
                                    .html = article.html});
    content.hash = hashes.hash;
    content.core_hash = hashes.core_hash;
    return content;
}

// Reads a JSON array of strings. Fast path for what json_strings() writes without escapes;
// anything else goes through nlohmann.
std::vector<std::string> parse_body(const std::string& text) {
    std::vector<std::string> out;
    if (text.find('\\') == std::string::npos && text.size() >= 2 && text.front() == '[' &&
        text.back() == ']') {
        std::size_t i = 1;
        const std::size_t end = text.size() - 1;
        bool ok = true;
        while (i < end) {
            if (text[i] != '"') {
                ok = false;
                break;
            }
            const std::size_t close = text.find('"', i + 1);
            if (close == std::string::npos || close >= end) {
                ok = false;
                break;
            }
            out.emplace_back(text, i + 1, close - i - 1);
            i = close + 1;
            if (i < end) {
                if (text[i] != ',') {
                    ok = false;
                    break;
                }
                ++i;
                if (i == end) {
                    ok = false;  // trailing comma
                }
            }
        }
        if (ok) {
            return out;
        }
    }
    return json::parse(text).get<std::vector<std::string>>();
}

std::vector<Image> parse_images(const std::string& text) {
    std::vector<Image> images;
    for (const json& item : json::parse(text)) {
        images.push_back(Image{.src = item.at("src").get<std::string>(),
                               .caption = item.at("caption").get<std::string>()});
    }
    return images;
}

std::vector<Video> parse_videos(const std::string& text) {
    std::vector<Video> videos;
    for (const json& item : json::parse(text)) {
        videos.push_back(Video{.src = item.at("src").get<std::string>(),
                               .poster = item.at("poster").get<std::string>(),
                               .caption = item.at("caption").get<std::string>()});
    }
    return videos;
}

// LSH keys (schema version 5). A band's hash mixes the band number into textkey's key
// (splitmix64 finaliser), so equal keys of different bands never meet; the writer's memory keeps
// its top 32 bits, story_lsh the top 20 of those. A story_lsh row is (time bucket << 52) | (band
// hash << 32) | article id; the time bucket is the story date (published, else first_seen) in weeks
// since 2000-01-01, clamped to 0 .. 4095. Stories are compared with those of their own week and the
// two neighbouring ones. Persisted: changing the mix, the packing or the bucket width needs a
// migration (the version 5 migration in schema.cpp does the same arithmetic in SQL).
constexpr std::uint64_t kIdBits = 0xFFFF'FFFFULL;   // the article id part of a story_lsh key
constexpr std::int64_t kBucketEpoch = 946'684'800;  // 2000-01-01T00:00:00Z
constexpr std::int64_t kBucketSeconds = 7 * 86'400;
constexpr std::uint32_t kMaxBucket = 4095;
constexpr unsigned kBucketShift = 52;
constexpr unsigned kBandShift = 32;
constexpr std::size_t kWindow = 3;  // buckets compared: the story's and its two neighbours

std::int64_t mix_band(std::size_t band, std::int64_t key) {
    std::uint64_t x = std::bit_cast<std::uint64_t>(key) ^
                      ((static_cast<std::uint64_t>(band) + 1) * 0x9E3779B97F4A7C15ULL);
    x = (x ^ (x >> 30U)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27U)) * 0x94D049BB133111EBULL;
    x = x ^ (x >> 31U);
    return std::bit_cast<std::int64_t>(x);
}

using BandHashes = std::array<std::uint32_t, textkey::kBands>;

// The top 32 bits of each band's mixed key.
BandHashes band_hashes_of(const textkey::Signature& signature) {
    BandHashes out{};
    const std::vector<std::int64_t> keys = textkey::band_keys(signature);
    for (std::size_t band = 0; band < out.size() && band < keys.size(); ++band) {
        out[band] = static_cast<std::uint32_t>(
            std::bit_cast<std::uint64_t>(mix_band(band, keys[band])) >> 32U);
    }
    return out;
}

// The part of a band hash story_lsh keeps: its top 20 bits.
std::uint32_t stored_band(std::uint32_t band_hash) {
    return band_hash >> 12U;
}

std::uint32_t time_bucket(std::int64_t story_seconds) {
    if (story_seconds < kBucketEpoch) {
        return 0;
    }
    return static_cast<std::uint32_t>(std::min<std::int64_t>(
        (story_seconds - kBucketEpoch) / kBucketSeconds, std::int64_t{kMaxBucket}));
}

// The buckets a story of `bucket` is compared with (the edge buckets repeat themselves).
std::array<std::uint32_t, kWindow> window_of(std::uint32_t bucket) {
    return {bucket == 0 ? 0 : bucket - 1, bucket, bucket == kMaxBucket ? kMaxBucket : bucket + 1};
}

// The first story_lsh key of (bucket, band hash): the article ids follow in the low 32 bits.
std::int64_t lsh_base(std::uint32_t bucket, std::uint32_t band_hash) {
    return std::bit_cast<std::int64_t>(
        (static_cast<std::uint64_t>(bucket) << kBucketShift) |
        (static_cast<std::uint64_t>(stored_band(band_hash)) << kBandShift));
}

// Identity keys (schema version 5): XXH3 of the URL with seed 1, of the id_key with seed 2.
// Persisted.
std::uint64_t url_hash(std::string_view url) {
    return XXH3_64bits_withSeed(url.data(), url.size(), 1);
}

std::uint64_t id_hash(std::string_view id_key) {
    return XXH3_64bits_withSeed(id_key.data(), id_key.size(), 2);
}

std::int64_t story_time(const std::optional<Timestamp>& published, std::int64_t fallback) {
    return published.has_value() ? to_unix(*published) : fallback;
}

// Plain words -> an FTS5 query that can only mean "all these words": each white-space separated
// token becomes one quoted string (inner quotes doubled), so operators, column filters and
// prefix stars in the input are just text. "" when there is no token. Case, diacritics and đ are
// left to the tokenizer, which folds the query as it folded the text.
std::string fts_query(std::string_view words) {
    auto is_space = [](char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
    };
    std::string query;
    std::size_t i = 0;
    for (;;) {
        while (i < words.size() && is_space(words[i])) {
            ++i;
        }
        if (i == words.size()) {
            return query;
        }
        if (!query.empty()) {
            query.push_back(' ');
        }
        query.push_back('"');
        for (; i < words.size() && !is_space(words[i]); ++i) {
            if (words[i] == '"') {
                query.push_back('"');
            }
            query.push_back(words[i]);
        }
        query.push_back('"');
    }
}

// Raw pages are zstd frames (level 1): written on every run, read only by `reparse`; zstd's
// fastest level compresses news HTML about 4-5x at about a third of zlib level 1's CPU, and
// about 10x against a page of the same site as dictionary (schema version 7). Rows written
// before version 4 (zlib streams) are still read: the two formats are told apart by their first
// bytes (a zstd frame starts with the magic number 28 B5 2F FD, a zlib stream with 0x78).
bool is_zstd_frame(const std::vector<std::byte>& data) {
    return data.size() >= 4 && data[0] == std::byte{0x28} && data[1] == std::byte{0xB5} &&
           data[2] == std::byte{0x2F} && data[3] == std::byte{0xFD};
}

// The failure to read the raw page fetched from `url`.
[[noreturn]] void raw_page_corrupt(const std::string& path, const std::string& url,
                                   std::string_view why) {
    throw StorageError(
        storage_message(path, "raw page " + url + ": " + std::string(why), "raw page"));
}

// The page of `size` bytes compressed into `data`, against `dictionary` when it is not null.
// `dctx` is the reading thread's context.
std::string decompress_text(const std::vector<std::byte>& data, std::int64_t size,
                            const ZSTD_DDict* dictionary, ZSTD_DCtx* dctx, const std::string& path,
                            const std::string& url) {
    if (size < 0) {
        raw_page_corrupt(path, url, "corrupt size");
    }
    std::string out(static_cast<std::size_t>(size), '\0');
    if (dictionary != nullptr || is_zstd_frame(data)) {
        const std::size_t got =
            dictionary != nullptr
                ? ZSTD_decompress_usingDDict(dctx, out.data(), out.size(), data.data(), data.size(),
                                             dictionary)
                : ZSTD_decompressDCtx(dctx, out.data(), out.size(), data.data(), data.size());
        if (ZSTD_isError(got) != 0U || got != out.size()) {
            raw_page_corrupt(path, url, "corrupt zstd frame");
        }
        return out;
    }
    uLongf out_size = static_cast<uLongf>(out.size());
    const int rc =
        uncompress(reinterpret_cast<Bytef*>(out.data()), &out_size,
                   reinterpret_cast<const Bytef*>(data.data()), static_cast<uLong>(data.size()));
    if (rc != Z_OK || out_size != out.size()) {
        raw_page_corrupt(path, url, "corrupt zlib stream");
    }
    return out;
}

struct DCtxFree {
    void operator()(ZSTD_DCtx* dctx) const noexcept { ZSTD_freeDCtx(dctx); }
};
struct DDictFree {
    void operator()(ZSTD_DDict* ddict) const noexcept { ZSTD_freeDDict(ddict); }
};
// Digested dictionaries kept by a store for reading raw pages: reparse reads the pages of a few
// sites, each against one of a few dictionaries.
constexpr std::size_t kMaxCachedDictionaries = 16;

std::string_view as_text(const std::vector<std::byte>& blob) {
    return {reinterpret_cast<const char*>(blob.data()), blob.size()};
}

void check_raw_page(const RawPage& page) {
    if (page.canonical_url.empty() || page.page < 1) {
        throw std::invalid_argument(
            "storage: save_raw_pages: a page needs a canonical_url and a page number >= 1");
    }
}

// The body JSON and the html of a row of articles or article_revisions: unpacked from column
// `packed` when it is not NULL (schema version 6), else the plain columns `body` and `html`
// (rows written before; html is not read when `html` < 0). Throws StorageError naming `path`
// and the article's `url` when the frame is corrupt.
UnpackedContent body_and_html(const Statement& rows, int body, int html, int packed,
                              const std::string& path, const std::string& url) {
    if (rows.column_is_null(packed)) {
        return UnpackedContent{.body_json = rows.column_text(body),
                               .html = html >= 0 ? rows.column_text(html) : std::string()};
    }
    const std::vector<std::byte> blob = rows.column_blob(packed);
    std::optional<UnpackedContent> content =
        unpack_content(std::string_view(reinterpret_cast<const char*>(blob.data()), blob.size()));
    if (!content.has_value()) {
        throw StorageError(storage_message(path, "corrupt packed body/html", url));
    }
    return std::move(*content);
}

// Columns read by Impl::read_row, in this order, from `articles a`.
constexpr std::string_view kArticleColumns =
    "a.id, a.canonical_url, a.site, a.id_key, a.title, a.author, a.published, a.modified, "
    "a.lead, a.lead_prefix, a.section, a.body, a.images, a.videos, a.html, a.packed, "
    "a.first_seen, a.updated, a.checked, a.cluster_id, "
    "(SELECT count(*) FROM article_revisions r WHERE r.article_id = a.id)";

std::string select_articles(std::string_view from_where_order) {
    std::string sql = "SELECT ";
    sql.append(kArticleColumns);
    sql.append(" ");
    sql.append(from_where_order);
    return sql;
}

// Must match the articles_newest / articles_site_newest / articles_cluster_newest indexes: their
// expression, then the rowid (schema version 12), so that no listing sorts.
constexpr std::string_view kNewestFirst =
    "ORDER BY coalesce(a.published, a.first_seen) DESC, a.id ASC";

// The SQL lookup of LSH candidates: one rowid range of story_lsh per (bucket, band) of the
// window (?1 .. ?36, kProbes, are the ranges' first keys), article ids only. The LIMIT bounds the
// work of one lookup even for a bucket crowded by boilerplate.
constexpr int kProbes = static_cast<int>(kWindow) * textkey::kBands;
constexpr std::size_t kMaxCandidates = 1000;

std::string candidates_sql() {
    std::string sql;
    for (int i = 1; i <= kProbes; ++i) {
        const std::string p = "?" + std::to_string(i);
        sql.append(i > 1 ? " UNION ALL " : "");
        sql.append("SELECT key & 4294967295 FROM story_lsh WHERE key BETWEEN " + p + " AND " + p +
                   " + 4294967295");
    }
    sql.append(" LIMIT " + std::to_string(kMaxCandidates));
    return sql;
}

// "INSERT ... VALUES (?1), (?2), ..." or "DELETE ... IN (?1, ?2, ...)" over kBands keys.
std::string lsh_sql(std::string_view head, std::string_view open, std::string_view close,
                    std::string_view tail) {
    std::string sql(head);
    for (int i = 1; i <= textkey::kBands; ++i) {
        sql.append(i > 1 ? ", " : "");
        sql.append(open);
        sql.append("?" + std::to_string(i));
        sql.append(close);
    }
    sql.append(tail);
    return sql;
}

// The text articles_fts indexes for an article `a`: its title, lead and body JSON, as they are
// (the tokenizer folds đ since schema version 8; earlier versions indexed the text with đ/Đ
// replaced). The body is the JSON text of the packed frame, else of the plain column (rows
// written before schema version 6): the same text for a row indexed before and deleted after the
// migration to version 6. The same expression on insert and on delete, as a contentless table
// requires.
std::string fts_values() {
    return "a.title, a.lead, baofeed_body(a.packed, a.body)";
}

Database& open_and_migrate(Database& db) {
    configure_connection(db);
    register_content_functions(db);  // before any statement that uses baofeed_body()
    register_fts_tokenizer(db);      // before articles_fts is created or used
    migrate(db);
    return db;
}

// Articles added to the search index per transaction by index_pending().
constexpr int kIndexChunk = 50'000;

struct Candidate {
    std::int64_t id = 0;
    double similarity = 0;
};

// The writer's in-memory copy of the story_lsh rows of recent time buckets, so that save()
// finds the candidates of a story without 36 B-tree probes. A bucket is loaded (one range scan)
// once save()'s SQL lookups in it would have paid for that (count_probe), so a short run
// saving a few articles of a busy week does not load it; at
// most kMaxBuckets are kept (the least recently used goes). Each is an open-addressing table of
// (band hash << 32 | article id) with load factor 1/4 .. 1/2: 16 to 32 bytes per LSH row, so
// 192 to 384 bytes per article of the loaded weeks (4 weeks of 10,000 articles: <= 16 MB).
// Entries hold the full 32-bit band hashes of the articles that story_lsh lists in the bucket
// (load() reads their signatures): candidates here are those of story_lsh less the ones whose
// band hashes agree in story_lsh's 20 bits only. Kept so as long as the store keeps it so: save()
// adds the rows it writes, drops the bucket of an article whose rows it deletes, and everything
// when a transaction fails or another connection has written (PRAGMA data_version).
class LshCache {
  public:
    static constexpr std::size_t kMaxBuckets = 4;
    static constexpr std::int64_t kLoadRatio = 16;

    struct Table {
        std::vector<std::uint64_t> slots;
        std::size_t count = 0;
        std::uint64_t last_use = 0;
    };

    Table* find(std::uint32_t bucket) {
        auto it = tables_.find(bucket);
        if (it == tables_.end()) {
            return nullptr;
        }
        it->second.last_use = ++clock_;
        return &it->second;
    }

    // Counts a SQL lookup in `bucket`, which holds about `articles` articles (asked of
    // `count` on the first lookup only); true when the bucket should now be loaded: when the
    // lookups made would have paid for loading it (one lookup, 36 range probes, costs about
    // as much as loading 16 articles' rows).
    template <typename Count>
    bool count_probe(std::uint32_t bucket, Count count) {
        auto [it, fresh] = probes_.try_emplace(bucket, Probes{});
        if (fresh) {
            it->second.articles = count();
        }
        return ++it->second.lookups * kLoadRatio >= it->second.articles;
    }

    Table& create(std::uint32_t bucket) {
        if (tables_.size() >= kMaxBuckets) {
            auto oldest = std::min_element(
                tables_.begin(), tables_.end(),
                [](const auto& a, const auto& b) { return a.second.last_use < b.second.last_use; });
            tables_.erase(oldest);
        }
        probes_.erase(bucket);
        Table& table = tables_[bucket];
        table.slots.assign(1024, 0);
        table.count = 0;
        table.last_use = ++clock_;
        return table;
    }

    static void add(Table& table, std::uint32_t band_hash, std::uint64_t id) {
        if ((table.count + 1) * 2 > table.slots.size()) {
            std::vector<std::uint64_t> old(table.slots.size() * 2, 0);
            old.swap(table.slots);
            table.count = 0;
            for (const std::uint64_t entry : old) {
                if (entry != 0) {
                    insert(table, entry);
                }
            }
        }
        insert(table, (static_cast<std::uint64_t>(band_hash) << 32U) | id);
    }

    static void lookup(const Table& table, std::uint32_t band_hash,
                       std::vector<std::int64_t>& out) {
        const std::size_t mask = table.slots.size() - 1;
        for (std::size_t i = slot_of(band_hash, mask);; i = (i + 1) & mask) {
            const std::uint64_t entry = table.slots[i];
            if (entry == 0) {
                return;
            }
            if ((entry >> 32U) == band_hash) {
                out.push_back(static_cast<std::int64_t>(entry & kIdBits));
            }
        }
    }

    void drop(std::uint32_t bucket) { tables_.erase(bucket); }
    void clear() {
        tables_.clear();
        probes_.clear();
    }

  private:
    static std::size_t slot_of(std::uint32_t band_hash, std::size_t mask) {
        return static_cast<std::size_t>(
                   (static_cast<std::uint64_t>(band_hash) * 0x9E3779B97F4A7C15ULL) >> 20U) &
               mask;
    }
    static void insert(Table& table, std::uint64_t entry) {
        const std::size_t mask = table.slots.size() - 1;
        std::size_t i = slot_of(static_cast<std::uint32_t>(entry >> 32U), mask);
        while (table.slots[i] != 0) {
            if (table.slots[i] == entry) {
                return;
            }
            i = (i + 1) & mask;
        }
        table.slots[i] = entry;
        ++table.count;
    }

    std::unordered_map<std::uint32_t, Table> tables_;
    struct Probes {
        std::int64_t lookups = 0;
        std::int64_t articles = 0;
    };
    std::unordered_map<std::uint32_t, Probes> probes_;
    std::uint64_t clock_ = 0;
};

}  // namespace

struct ArticleStore::Impl {
    Impl(const std::string& path, StoreOptions tuning)
        : options(tuning),
          db(path),
          owner_of_key(open_and_migrate(db).prepare(
              "SELECT article_id FROM identity_recent WHERE key = ?1 "
              "UNION ALL SELECT article_id FROM identity_keys WHERE key = ?1")),
          has_url(db.prepare("SELECT 1 FROM article_urls WHERE article_id = ?1 AND url = ?2")),
          has_id_key(db.prepare("SELECT 1 FROM articles WHERE id = ?1 AND id_key = ?2")),
          add_key(db.prepare("INSERT OR IGNORE INTO identity_recent (key, article_id) "
                             "SELECT ?1, ?2 WHERE NOT EXISTS "
                             "(SELECT 1 FROM identity_keys WHERE key = ?1)")),
          add_new_key(db.prepare(
              "INSERT OR IGNORE INTO identity_recent (key, article_id) VALUES (?1, ?2)")),
          filter_generation(db.prepare("SELECT generation FROM identity_filter WHERE id = 1")),
          filter_row(db.prepare(
              "SELECT generation, keys, capacity, bits FROM identity_filter WHERE id = 1")),
          put_filter(db.prepare(
              "INSERT INTO identity_filter (id, generation, keys, capacity, bits) "
              "VALUES (1, 1, ?1, ?2, ?3) ON CONFLICT (id) DO UPDATE SET "
              "generation = generation + 1, keys = excluded.keys, capacity = excluded.capacity, "
              "bits = excluded.bits RETURNING generation")),
          recent_key_list(db.prepare("SELECT key FROM identity_recent")),
          merged_key_list(db.prepare("SELECT key FROM identity_keys")),
          count_merged_keys(db.prepare("SELECT count(*) FROM identity_keys")),
          delete_recent_key(
              db.prepare("DELETE FROM identity_recent WHERE key = ?1 AND article_id = ?2")),
          delete_merged_key(
              db.prepare("DELETE FROM identity_keys WHERE key = ?1 AND article_id = ?2")),
          count_recent_keys(db.prepare("SELECT count(*) FROM identity_recent")),
          merge_recent_keys(db.prepare("INSERT INTO identity_keys (key, article_id) "
                                       "SELECT key, article_id FROM identity_recent ORDER BY key")),
          clear_recent_keys(db.prepare("DELETE FROM identity_recent")),
          add_url(db.prepare("INSERT OR IGNORE INTO article_urls (article_id, url, first_seen) "
                             "VALUES (?1, ?2, ?3)")),
          tombstoned(db.prepare("SELECT 1 FROM tombstones WHERE kind = ?1 AND key = ?2")),
          next_id(db.prepare("SELECT coalesce(max(id), 0) + 1 FROM articles")),
          insert_article(db.prepare(
              "INSERT INTO articles (id, canonical_url, site, id_key, title, author, published, "
              "modified, lead, lead_prefix, section, body, images, videos, html, packed, "
              "content_hash, first_seen, updated, checked, cluster_id) "
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, '', ?13, ?14, '', ?12, ?15, "
              "?16, ?16, ?16, ?17)")),
          stored_state(
              db.prepare("SELECT content_hash, coalesce(published, first_seen), first_seen, "
                         "id_key = '' FROM articles WHERE id = ?1")),
          keep_revision(db.prepare(
              "INSERT INTO article_revisions (article_id, replaced, id_key, title, author, "
              "published, modified, lead, lead_prefix, section, body, images, videos, html, "
              "packed) SELECT id, ?2, id_key, title, author, published, modified, lead, "
              "lead_prefix, "
              "section, body, images, videos, html, packed FROM articles WHERE id = ?1")),
          update_article(db.prepare(
              "UPDATE articles SET id_key = CASE WHEN id_key = '' THEN ?4 ELSE id_key END, "
              "title = ?5, author = ?6, published = ?7, modified = ?8, lead = ?9, "
              "lead_prefix = ?10, section = ?11, body = '', images = ?13, videos = ?14, "
              "html = '', packed = ?12, content_hash = ?15, updated = ?16, checked = ?16, "
              "cluster_id = ?17 WHERE id = ?1")),
          enrich_article(db.prepare(
              "UPDATE articles SET lead_prefix = ?2, section = ?3, body = '', html = '', "
              "packed = ?4, content_hash = ?5, checked = ?6, "
              "id_key = CASE WHEN id_key = '' THEN ?7 ELSE id_key END WHERE id = ?1")),
          touch_article(
              db.prepare("UPDATE articles SET checked = ?2, "
                         "id_key = CASE WHEN id_key = '' THEN ?3 ELSE id_key END WHERE id = ?1")),
          leave_frontier(db.prepare("DELETE FROM frontier WHERE url = ?1")),
          candidates(db.prepare(candidates_sql())),
          load_bucket(db.prepare("SELECT key FROM story_lsh WHERE key BETWEEN ?1 AND ?2")),
          count_bucket(db.prepare("SELECT count(*) FROM articles WHERE "
                                  "coalesce(published, first_seen) >= ?1 AND "
                                  "coalesce(published, first_seen) < ?2")),
          cluster_of(db.prepare("SELECT cluster_id FROM articles WHERE id = ?1")),
          delete_lsh(db.prepare(lsh_sql("DELETE FROM story_lsh WHERE key IN (", "", "", ")"))),
          insert_lsh(
              db.prepare(lsh_sql("INSERT OR IGNORE INTO story_lsh (key) VALUES ", "(", ")", ""))),
          signature_of(db.prepare("SELECT signature FROM story_signatures WHERE article_id = ?1")),
          pruned_signatures(
              db.prepare("SELECT s.article_id, s.signature, coalesce(a.published, a.first_seen) "
                         "FROM story_signatures s JOIN articles a ON a.id = s.article_id "
                         "WHERE a.first_seen < ?1")),
          pruned_keys(db.prepare(
              "SELECT a.id, a.id_key, a.canonical_url FROM articles a WHERE a.first_seen < ?1")),
          pruned_urls(db.prepare("SELECT u.article_id, u.url FROM articles a "
                                 "JOIN article_urls u ON u.article_id = a.id "
                                 "WHERE a.first_seen < ?1")),
          any_frontier(db.prepare("SELECT EXISTS (SELECT 1 FROM frontier)")),
          any_tombstone(db.prepare("SELECT EXISTS (SELECT 1 FROM tombstones)")),
          data_version(db.prepare("PRAGMA data_version")),
          page_count(db.prepare("PRAGMA page_count")),
          upsert_signature(
              db.prepare("INSERT INTO story_signatures (article_id, signature) VALUES (?1, ?2) "
                         "ON CONFLICT (article_id) DO UPDATE SET signature = excluded.signature")),
          delete_signature(db.prepare("DELETE FROM story_signatures WHERE article_id = ?1")),
          unsigned_batch(
              db.prepare("SELECT a.id, a.title, a.lead, a.lead_prefix, a.body, u.recluster, "
                         "coalesce(a.published, a.first_seen), a.packed, a.canonical_url "
                         "FROM unsigned_articles u "
                         "JOIN articles a ON a.id = u.article_id ORDER BY u.article_id LIMIT 200")),
          mark_signed(db.prepare("DELETE FROM unsigned_articles WHERE article_id = ?1")),
          set_cluster(db.prepare("UPDATE articles SET cluster_id = ?2 WHERE id = ?1")),
          unkeyed_batch(db.prepare(
              "SELECT a.id, a.canonical_url, a.id_key, a.first_seen FROM unkeyed_articles k "
              "JOIN articles a ON a.id = k.article_id ORDER BY k.article_id LIMIT 1000")),
          urls_of(db.prepare("SELECT url FROM article_urls WHERE article_id = ?1 "
                             "ORDER BY first_seen, url")),
          mark_keyed(db.prepare("DELETE FROM unkeyed_articles WHERE article_id = ?1")),
          get_indexed_upto(db.prepare("SELECT indexed_upto FROM search_state")),
          set_indexed_upto(db.prepare("UPDATE search_state SET indexed_upto = ?1")),
          mark_search_pending(
              db.prepare("INSERT OR IGNORE INTO search_pending (article_id) VALUES (?1)")),
          unindex_one(db.prepare(
              "INSERT INTO articles_fts (articles_fts, rowid, title, lead, body) SELECT 'delete', "
              "a.id, " +
              fts_values() + " FROM articles a WHERE a.id = ?1")),
          index_new(db.prepare("INSERT INTO articles_fts (rowid, title, lead, body) SELECT a.id, " +
                               fts_values() +
                               " FROM articles a WHERE a.id > ?1 AND a.id <= ?2 ORDER BY a.id")),
          index_chunk_end(
              db.prepare("SELECT id FROM articles WHERE id > ?1 ORDER BY id LIMIT 1 OFFSET " +
                         std::to_string(kIndexChunk - 1))),
          index_changed(db.prepare(
              "INSERT INTO articles_fts (rowid, title, lead, body) SELECT a.id, " + fts_values() +
              " FROM search_pending p JOIN articles a ON a.id = p.article_id "
              "WHERE a.id <= ?1 ORDER BY a.id")),
          clear_search_pending(db.prepare("DELETE FROM search_pending")),
          max_id(db.prepare("SELECT coalesce(max(id), 0) FROM articles")),
          any_search_pending(db.prepare("SELECT EXISTS (SELECT 1 FROM search_pending)")),
          list_all(db.prepare(
              select_articles("FROM articles a " + std::string(kNewestFirst) + " LIMIT ?2"))),
          list_site(db.prepare(select_articles("FROM articles a WHERE a.site = ?1 " +
                                               std::string(kNewestFirst) + " LIMIT ?2"))),
          list_cluster(db.prepare(select_articles("FROM articles a WHERE a.cluster_id = ?1 " +
                                                  std::string(kNewestFirst) + " LIMIT ?2"))),
          find_by_id(db.prepare(select_articles("FROM articles a WHERE a.id = ?1"))),
          list_aliases(
              db.prepare("SELECT url FROM article_urls WHERE article_id = ?1 AND url <> ?2 "
                         "ORDER BY first_seen, url")),
          list_revisions(db.prepare(
              "SELECT a.canonical_url, a.site, r.id_key, r.title, r.author, r.published, "
              "r.modified, r.lead, r.lead_prefix, r.section, r.body, r.images, r.videos, r.html, "
              "r.packed FROM articles a JOIN article_revisions r ON r.article_id = a.id "
              "WHERE a.id = ?1 ORDER BY r.id")),
          search_rows(db.prepare(
              select_articles("FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid "
                              "WHERE articles_fts MATCH ?1 AND (?2 IS NULL OR a.site = ?2) "
                              "ORDER BY bm25(articles_fts, 10.0, 4.0, 1.0), a.id LIMIT ?3"))),
          canonical_url_of(db.prepare("SELECT canonical_url FROM articles WHERE id = ?1")),
          get_fetch_state(db.prepare(
              "SELECT etag, last_modified, fetched_at, status FROM fetch_states WHERE url = ?1")),
          put_fetch_state(
              db.prepare("INSERT INTO fetch_states (url, etag, last_modified, fetched_at, status) "
                         "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (url) DO UPDATE SET "
                         "etag = excluded.etag, last_modified = excluded.last_modified, "
                         "fetched_at = excluded.fetched_at, status = excluded.status")),
          get_robots(db.prepare("SELECT body, status, fetched_at, expires, etag, last_modified "
                                "FROM robots WHERE origin = ?1")),
          put_robots(db.prepare(
              "INSERT INTO robots (origin, body, status, fetched_at, expires, etag, "
              "last_modified) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (origin) DO "
              "UPDATE SET body = excluded.body, status = excluded.status, "
              "fetched_at = excluded.fetched_at, expires = excluded.expires, "
              "etag = excluded.etag, last_modified = excluded.last_modified")),
          add_frontier(db.prepare(
              "INSERT INTO frontier (url, site, discovered) SELECT ?1, ?2, ?3 "
              "WHERE NOT EXISTS (SELECT 1 FROM tombstones WHERE kind = 'url' AND key = ?1) "
              "ON CONFLICT (url) DO NOTHING")),
          list_frontier(db.prepare("SELECT site, url, discovered FROM frontier WHERE site = ?1 "
                                   "ORDER BY discovered, url LIMIT ?2")),
          delete_raw_pages(db.prepare("DELETE FROM raw_pages WHERE canonical_url = ?1")),
          insert_raw_page(db.prepare(
              "INSERT INTO raw_pages (canonical_url, page, site, url, fetched_at, size, html, "
              "dictionary) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (canonical_url, "
              "page) DO UPDATE SET site = excluded.site, url = excluded.url, "
              "fetched_at = excluded.fetched_at, size = excluded.size, html = excluded.html, "
              "dictionary = excluded.dictionary")),
          raw_dictionary_created(db.prepare("SELECT created FROM raw_dictionaries WHERE id = ?1")),
          refresh_raw_dictionary(
              db.prepare("UPDATE raw_dictionaries SET created = ?2 WHERE id = ?1")),
          insert_raw_dictionary(
              db.prepare("INSERT OR IGNORE INTO raw_dictionaries (id, site, created, content) "
                         "VALUES (?1, ?2, ?3, ?4)")),
          get_raw_dictionary(db.prepare("SELECT content FROM raw_dictionaries WHERE id = ?1")),
          latest_dictionary(
              db.prepare("SELECT id, created, content FROM raw_dictionaries WHERE site = ?1 "
                         "ORDER BY created DESC, id DESC LIMIT 1")),
          list_raw_pages(
              db.prepare("SELECT canonical_url, site, url, fetched_at, page, size, html, "
                         "dictionary FROM raw_pages WHERE canonical_url = ?1 ORDER BY page")),
          raw_articles_all(
              db.prepare("SELECT DISTINCT canonical_url FROM raw_pages ORDER BY canonical_url")),
          raw_articles_site(db.prepare("SELECT DISTINCT canonical_url FROM raw_pages "
                                       "WHERE site = ?1 ORDER BY canonical_url")),
          due_rows(db.prepare(select_articles(
              "FROM articles a WHERE a.site = ?1 AND coalesce(a.published, a.first_seen) > ?2 "
              "AND a.checked < ?3 " +
              std::string(kNewestFirst) + " LIMIT ?4"))),
          set_checked(db.prepare("UPDATE articles SET checked = ?2 WHERE id = ?1")),
          url_tombstoned(db.prepare("SELECT 1 FROM tombstones WHERE kind = 'url' AND key = ?1")) {
        key_unkeyed();
        sign_unsigned();
        if (db.query_text("PRAGMA journal_mode") == "wal") {
            checkpointer = std::make_unique<WalCheckpointer>(db, kWalCheckpointPages);
        }
    }
    ~Impl() { checkpointer.reset(); }

    SaveResult save_one(const PreparedArticle& article, std::int64_t now);
    std::optional<std::int64_t> resolve(const PreparedArticle& prepared, std::int64_t new_id,
                                        std::vector<std::size_t>& claimed, bool& claimed_id);
    void unclaim(const PreparedArticle& prepared, std::int64_t new_id,
                 std::vector<std::size_t>& claimed, bool& claimed_id);
    std::optional<std::int64_t> owner_of_url(std::string_view url);
    bool is_tombstoned(const Article& article);
    void add_identity(const PreparedArticle& article, std::int64_t id, std::int64_t now);
    bool add_url_key(std::uint64_t key, std::string_view url, std::int64_t id, std::int64_t now);
    void add_id_key(const std::string& id_key, std::int64_t id);
    bool insert_key(std::uint64_t key, std::int64_t id);
    void delete_key(std::uint64_t key, std::int64_t id);
    void merge_identity_keys();
    void read_key_filter();
    void write_key_filter(const std::vector<std::uint64_t>& moved);
    void forget_caches();
    std::optional<textkey::Signature> stored_signature(std::int64_t id);

    // For its lifetime, SQLite writes the transaction's changed pages to the WAL only when they
    // fill kBatchCacheBytes, not the 4 MiB page cache: a batch of 1,000 new articles changes
    // more pages than that, and each page written early (a "spill") was written again at the
    // commit, which then also read the WAL back to checksum it. Other transactions (the search
    // index, prune) keep spilling at the cache size, so their memory stays bounded by it.
    class RoomForABatch {
      public:
        explicit RoomForABatch(Impl& impl) : db_(impl.db), restore_(impl.default_spill) {
            db_.exec("PRAGMA cache_spill = " + std::to_string(impl.batch_spill));
        }
        ~RoomForABatch() {
            try {
                db_.exec("PRAGMA cache_spill = " + std::to_string(restore_));
            } catch (...) {  // NOLINT(bugprone-empty-catch): a destructor must not throw
            }
        }
        RoomForABatch(const RoomForABatch&) = delete;
        RoomForABatch& operator=(const RoomForABatch&) = delete;

      private:
        Database& db_;
        std::int64_t restore_;
    };
    static constexpr std::int64_t kBatchCacheBytes = 16 << 20;
    std::vector<Candidate> similar(const textkey::Signature& signature, const BandHashes& bands,
                                   std::uint32_t bucket, std::int64_t self, bool use_cache);
    std::int64_t choose_cluster(const textkey::Signature& signature, const BandHashes& bands,
                                std::uint32_t bucket, std::int64_t self);
    void sql_candidates(const BandHashes& bands, std::uint32_t bucket,
                        std::vector<std::int64_t>& ids);
    LshCache::Table& load(std::uint32_t bucket);
    std::int64_t articles_in_bucket(std::uint32_t bucket);
    void store_story_key(const textkey::Signature& signature, const BandHashes& bands,
                         std::uint32_t bucket, std::int64_t id);
    void flush_lsh_rows();
    // Defers story_lsh inserts to flush_lsh_rows() for its lifetime (one save() batch).
    class DeferredLshRows {
      public:
        explicit DeferredLshRows(Impl& impl) : impl_(impl) { impl_.defer_lsh_rows = true; }
        ~DeferredLshRows() { impl_.defer_lsh_rows = false; }
        DeferredLshRows(const DeferredLshRows&) = delete;
        DeferredLshRows& operator=(const DeferredLshRows&) = delete;

      private:
        Impl& impl_;
    };
    void delete_lsh_rows(std::int64_t id, const BandHashes& bands, std::uint32_t bucket);
    void remove_story_key(std::int64_t id, std::uint32_t bucket);
    void begin_batch();
    void size_page_cache();
    void key_unkeyed();
    void sign_unsigned();
    std::size_t index_pending();
    std::optional<std::int64_t> first_id(Statement& query);
    StoredArticle read_row(Statement& rows);
    std::vector<StoredArticle> read_rows(Statement& rows);
    const ZSTD_DDict* raw_dictionary(std::int64_t id, const std::string& url);
    ZSTD_DCtx* raw_decompression_context();

    StoreOptions options;
    // Declared first: destroyed after every statement below.
    Database db;
    Statement owner_of_key;
    Statement has_url;
    Statement has_id_key;
    Statement add_key;
    Statement add_new_key;
    Statement filter_generation;
    Statement filter_row;
    Statement put_filter;
    Statement recent_key_list;
    Statement merged_key_list;
    Statement count_merged_keys;
    Statement delete_recent_key;
    Statement delete_merged_key;
    Statement count_recent_keys;
    Statement merge_recent_keys;
    Statement clear_recent_keys;
    Statement add_url;
    Statement tombstoned;
    Statement next_id;
    Statement insert_article;
    Statement stored_state;
    Statement keep_revision;
    Statement update_article;
    Statement enrich_article;
    Statement touch_article;
    Statement leave_frontier;
    Statement candidates;
    Statement load_bucket;
    Statement count_bucket;
    Statement cluster_of;
    Statement delete_lsh;
    Statement insert_lsh;
    Statement signature_of;
    Statement pruned_signatures;
    Statement pruned_keys;
    Statement pruned_urls;
    Statement any_frontier;
    Statement any_tombstone;
    Statement data_version;
    Statement page_count;
    Statement upsert_signature;
    Statement delete_signature;
    Statement unsigned_batch;
    Statement mark_signed;
    Statement set_cluster;
    Statement unkeyed_batch;
    Statement urls_of;
    Statement mark_keyed;
    Statement get_indexed_upto;
    Statement set_indexed_upto;
    Statement mark_search_pending;
    Statement unindex_one;
    Statement index_new;
    Statement index_chunk_end;
    Statement index_changed;
    Statement clear_search_pending;
    Statement max_id;
    Statement any_search_pending;
    Statement list_all;
    Statement list_site;
    Statement list_cluster;
    Statement find_by_id;
    Statement list_aliases;
    Statement list_revisions;
    Statement search_rows;
    Statement canonical_url_of;
    Statement get_fetch_state;
    Statement put_fetch_state;
    Statement get_robots;
    Statement put_robots;
    Statement add_frontier;
    Statement list_frontier;
    Statement delete_raw_pages;
    Statement insert_raw_page;
    Statement raw_dictionary_created;
    Statement refresh_raw_dictionary;
    Statement insert_raw_dictionary;
    Statement get_raw_dictionary;
    Statement latest_dictionary;
    Statement list_raw_pages;
    Statement raw_articles_all;
    Statement raw_articles_site;
    Statement due_rows;
    Statement set_checked;
    Statement url_tombstoned;

    // Per save() transaction (BEGIN IMMEDIATE: no other connection writes meanwhile, and save()
    // itself adds no tombstone and no frontier entry): the next free article id, whether the
    // tombstone and frontier tables have any row at all, and the search index's high-water
    // mark. Set by begin_batch().
    std::int64_t next_free_id = 0;
    bool has_tombstones = true;
    bool has_frontier = true;
    std::int64_t indexed_upto = 0;
    LshCache lsh;
    std::int64_t seen_data_version = -1;
    // Rows in identity_recent (counted again when another connection has written).
    std::int64_t recent_keys = 0;
    // The Bloom filter of identity_keys as stored in identity_filter, with its generation; none
    // (-1) when the file has no filter yet or its row is corrupt: every new key is then checked
    // against identity_keys. Read again by begin_batch() when another connection has written.
    std::optional<IdentityFilter> key_filter;
    std::int64_t key_filter_generation = -1;
    // The file's page size; the page cache's limit (size_page_cache()), configure_connection's
    // at first.
    std::int64_t page_size = std::max<std::int64_t>(1, db.query_int("PRAGMA page_size"));
    std::int64_t cache_bytes = kConnectionCacheBytes;
    // PRAGMA cache_spill as configured, and during a save() batch (in pages).
    std::int64_t default_spill = db.query_int("PRAGMA cache_spill");
    std::int64_t batch_spill = kBatchCacheBytes / page_size;
    std::vector<std::int64_t> candidate_ids;  // reused by similar()
    std::vector<std::size_t> claimed_urls;    // reused by save_one()
    // Reading raw pages: the decompression context and the dictionaries read (by id; a
    // dictionary never changes: its id is the hash of its bytes).
    std::unique_ptr<ZSTD_DCtx, DCtxFree> raw_dctx;
    std::unordered_map<std::int64_t, std::unique_ptr<ZSTD_DDict, DDictFree>> raw_ddicts;
    // The story_lsh keys store_story_key() computed during a save() batch, not inserted yet
    // (defer_lsh_rows): flush_lsh_rows() inserts them in key order before the batch commits, so
    // that consecutive inserts descend to the same B-tree pages. Each article has kBands keys
    // spread over its week's range of the table; inserted as they came, they and the signature
    // row took a third of the writer's time. Flushed too before any statement reads or deletes
    // story_lsh rows (sql_candidates, load, delete_lsh_rows); dropped by forget_caches() after a
    // rollback.
    bool defer_lsh_rows = false;
    std::vector<std::int64_t> pending_lsh_rows;
    // Last: stopped before the statements and the connection go.
    std::unique_ptr<WalCheckpointer> checkpointer;
};

// Runs a bound single-column query; its first row's integer, if any. Resets the statement.
std::optional<std::int64_t> ArticleStore::Impl::first_id(Statement& query) {
    std::optional<std::int64_t> id;
    if (query.step()) {
        id = query.column_int64(0);
    }
    query.reset();
    return id;
}

// The article that has `url` among its URLs (hash lookup, verified against the URL itself).
std::optional<std::int64_t> ArticleStore::Impl::owner_of_url(std::string_view url) {
    std::optional<std::int64_t> id;
    {
        ScopedReset guard(owner_of_key);
        owner_of_key.bind(1, std::bit_cast<std::int64_t>(url_hash(url)));
        id = first_id(owner_of_key);
    }
    if (!id.has_value()) {
        return std::nullopt;
    }
    ScopedReset guard(has_url);
    has_url.bind(1, *id);
    has_url.bind(2, url);
    return first_id(has_url).has_value() ? id : std::nullopt;
}

// Identity, and the insert of a new article's keys in one go: each key of the article (id_key,
// canonical URL, other URLs, in that order) is inserted for `new_id`; the first that is already
// there and verified (its article really has that id_key / URL) names the record, and the keys
// inserted before it are deleted again. Most saves are of new articles: one B-tree descent per
// key instead of a lookup and then an insert. `claimed` gets the indexes of the URLs whose keys
// now name `new_id`, `claimed_id` whether the id_key's does.
std::optional<std::int64_t> ArticleStore::Impl::resolve(const PreparedArticle& prepared,
                                                        std::int64_t new_id,
                                                        std::vector<std::size_t>& claimed,
                                                        bool& claimed_id) {
    const Article& article = prepared.article;
    claimed.clear();
    claimed_id = false;
    auto claim = [&](std::uint64_t key) { return insert_key(key, new_id); };
    auto owner = [&](std::uint64_t key) {
        ScopedReset guard(owner_of_key);
        owner_of_key.bind(1, std::bit_cast<std::int64_t>(key));
        return first_id(owner_of_key);
    };
    std::optional<std::int64_t> found;
    if (!article.id_key.empty()) {
        if (claim(prepared.id_key_hash)) {
            claimed_id = true;
        } else if (const std::optional<std::int64_t> id = owner(prepared.id_key_hash)) {
            ScopedReset guard(has_id_key);
            has_id_key.bind(1, *id);
            has_id_key.bind(2, article.id_key);
            if (first_id(has_id_key).has_value()) {
                found = id;
            }
        }
    }
    for (std::size_t i = 0; !found.has_value() && i < prepared.url_keys.size(); ++i) {
        if (claim(prepared.url_keys[i])) {
            claimed.push_back(i);
        } else if (const std::optional<std::int64_t> id = owner(prepared.url_keys[i])) {
            ScopedReset guard(has_url);
            has_url.bind(1, *id);
            has_url.bind(2, prepared.identity_urls[i]);
            if (first_id(has_url).has_value()) {
                found = id;
            }
        }
    }
    if (found.has_value()) {
        unclaim(prepared, new_id, claimed, claimed_id);
    }
    return found;
}

// Deletes the keys resolve() inserted for `new_id`.
void ArticleStore::Impl::unclaim(const PreparedArticle& prepared, std::int64_t new_id,
                                 std::vector<std::size_t>& claimed, bool& claimed_id) {
    auto drop = [&](std::uint64_t key) { delete_key(key, new_id); };
    if (claimed_id) {
        drop(prepared.id_key_hash);
    }
    for (const std::size_t i : claimed) {
        drop(prepared.url_keys[i]);
    }
    claimed.clear();
    claimed_id = false;
}

bool ArticleStore::Impl::is_tombstoned(const Article& article) {
    if (!has_tombstones) {
        return false;
    }
    ScopedReset guard(tombstoned);
    auto check = [&](std::string_view kind, const std::string& key) {
        tombstoned.clear_bindings();
        tombstoned.bind(1, kind);
        tombstoned.bind(2, key);
        return first_id(tombstoned).has_value();
    };
    if (!article.id_key.empty() && check("id", article.id_key)) {
        return true;
    }
    if (check("url", article.canonical_url)) {
        return true;
    }
    return std::any_of(article.urls.begin(), article.urls.end(),
                       [&](const std::string& url) { return !url.empty() && check("url", url); });
}

// Candidate ids from the story_lsh table: 36 range probes (kProbes) in one statement.
void ArticleStore::Impl::sql_candidates(const BandHashes& bands, std::uint32_t bucket,
                                        std::vector<std::int64_t>& ids) {
    flush_lsh_rows();
    ScopedReset guard(candidates);
    int param = 1;
    for (const std::uint32_t b : window_of(bucket)) {
        for (const std::uint32_t band_hash : bands) {
            candidates.bind(param++, lsh_base(b, band_hash));
        }
    }
    while (candidates.step()) {
        ids.push_back(candidates.column_int64(0));
    }
}

// The articles with story_lsh rows in `bucket`, with their full band hashes, recomputed from
// their stored signatures: 32 bits of each band hash instead of story_lsh's 20, so a band
// matches by chance one time in 4 billion instead of one in a million (a busy week of 10,000
// articles gave each new article ~7 such candidates, each a signature read at random).
LshCache::Table& ArticleStore::Impl::load(std::uint32_t bucket) {
    flush_lsh_rows();
    std::vector<std::int64_t> ids;
    {
        ScopedReset guard(load_bucket);
        const std::int64_t first = lsh_base(bucket, 0);
        load_bucket.bind(1, first);
        load_bucket.bind(2, first | std::int64_t{0xF'FFFF'FFFF'FFFF});
        while (load_bucket.step()) {
            ids.push_back(std::bit_cast<std::int64_t>(
                std::bit_cast<std::uint64_t>(load_bucket.column_int64(0)) & kIdBits));
        }
    }
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    LshCache::Table& table = lsh.create(bucket);
    for (const std::int64_t id : ids) {
        const std::optional<textkey::Signature> signature = stored_signature(id);
        if (!signature.has_value() || signature->empty) {
            continue;  // story_lsh rows always come with a signature
        }
        for (const std::uint32_t band_hash : band_hashes_of(*signature)) {
            LshCache::add(table, band_hash, static_cast<std::uint64_t>(id));
        }
    }
    return table;
}

// Articles whose story date falls in `bucket` (an index range count).
std::int64_t ArticleStore::Impl::articles_in_bucket(std::uint32_t bucket) {
    ScopedReset guard(count_bucket);
    const std::int64_t from = kBucketEpoch + kBucketSeconds * std::int64_t{bucket};
    count_bucket.bind(1, bucket == 0 ? std::numeric_limits<std::int64_t>::min() : from);
    count_bucket.bind(
        2, bucket == kMaxBucket ? std::numeric_limits<std::int64_t>::max() : from + kBucketSeconds);
    return first_id(count_bucket).value_or(0);
}

std::vector<Candidate> ArticleStore::Impl::similar(const textkey::Signature& signature,
                                                   const BandHashes& bands, std::uint32_t bucket,
                                                   std::int64_t self, bool use_cache) {
    std::vector<Candidate> found;
    if (signature.empty) {
        return found;
    }
    std::vector<std::int64_t>& ids = candidate_ids;
    ids.clear();
    const auto window = window_of(bucket);
    bool cached = use_cache;
    if (use_cache) {
        for (const std::uint32_t b : window) {
            if (lsh.find(b) == nullptr &&
                lsh.count_probe(b, [&] { return articles_in_bucket(b); })) {
                load(b);
            }
            cached = cached && lsh.find(b) != nullptr;
        }
    }
    if (cached) {
        for (std::size_t w = 0; w < window.size(); ++w) {
            if (w > 0 && window[w] == window[w - 1]) {
                continue;
            }
            const LshCache::Table& table = *lsh.find(window[w]);
            for (const std::uint32_t band_hash : bands) {
                LshCache::lookup(table, band_hash, ids);
            }
        }
        if (ids.size() > kMaxCandidates) {
            ids.resize(kMaxCandidates);
        }
    } else {
        sql_candidates(bands, bucket, ids);
    }
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    for (const std::int64_t id : ids) {
        if (id == self) {
            continue;
        }
        const std::optional<textkey::Signature> other = stored_signature(id);
        if (!other.has_value() || other->empty) {
            continue;
        }
        const double score = textkey::similarity(signature, *other);
        if (score >= textkey::kSameStoryThreshold) {
            found.push_back(Candidate{.id = id, .similarity = score});
        }
    }
    // Most similar first; the older record first among equals.
    std::sort(found.begin(), found.end(), [](const Candidate& a, const Candidate& b) {
        return a.similarity != b.similarity ? a.similarity > b.similarity : a.id < b.id;
    });
    return found;
}

// The cluster an article joins: the best candidate's, else its own id `self`.
std::int64_t ArticleStore::Impl::choose_cluster(const textkey::Signature& signature,
                                                const BandHashes& bands, std::uint32_t bucket,
                                                std::int64_t self) {
    const std::vector<Candidate> found = similar(signature, bands, bucket, self, true);
    if (found.empty()) {
        return self;
    }
    ScopedReset guard(cluster_of);
    cluster_of.bind(1, found.front().id);
    return first_id(cluster_of).value_or(self);
}

// Sets the page cache to 1/cache_share of the file (StoreOptions::cache_share), in whole MiB.
void ArticleStore::Impl::size_page_cache() {
    std::int64_t pages = 0;
    {
        ScopedReset guard(page_count);
        pages = first_id(page_count).value_or(0);
    }
    const std::int64_t wanted =
        std::clamp(pages * page_size / std::max<std::int64_t>(1, options.cache_share),
                   kConnectionCacheBytes, std::max(kConnectionCacheBytes, options.max_cache_bytes));
    const std::int64_t rounded = wanted / (1 << 20) * (1 << 20);  // whole MiB: rarely set
    if (rounded != cache_bytes) {
        db.exec("PRAGMA cache_size = -" + std::to_string(rounded / 1024));
        cache_bytes = rounded;
    }
}

void ArticleStore::Impl::begin_batch() {
    {
        // Another connection's commit may have changed story_lsh under the cache.
        ScopedReset guard(data_version);
        const std::int64_t version = first_id(data_version).value_or(-1);
        if (version != seen_data_version) {
            lsh.clear();
            seen_data_version = version;
            ScopedReset count_guard(count_recent_keys);
            recent_keys = first_id(count_recent_keys).value_or(0);
            read_key_filter();
        }
    }
    if (recent_keys >= options.identity_merge_rows) {
        merge_identity_keys();
    }
    size_page_cache();
    {
        ScopedReset guard(next_id);
        next_free_id = first_id(next_id).value_or(1);
    }
    {
        ScopedReset guard(any_tombstone);
        has_tombstones = first_id(any_tombstone).value_or(1) != 0;
    }
    {
        ScopedReset guard(get_indexed_upto);
        indexed_upto = first_id(get_indexed_upto).value_or(0);
    }
    ScopedReset guard(any_frontier);
    has_frontier = first_id(any_frontier).value_or(1) != 0;
}

// Deletes the story_lsh rows of article `id` with `bands` in `bucket`.
void ArticleStore::Impl::delete_lsh_rows(std::int64_t id, const BandHashes& bands,
                                         std::uint32_t bucket) {
    flush_lsh_rows();
    ScopedReset guard(delete_lsh);
    for (int i = 0; i < textkey::kBands; ++i) {
        delete_lsh.bind(i + 1, lsh_base(bucket, bands[static_cast<std::size_t>(i)]) | id);
    }
    delete_lsh.run();
    lsh.drop(bucket);
}

// Removes the LSH rows of article `id` (story date in `bucket`), recomputed from its stored
// signature (the signature row itself stays: the caller replaces or deletes it).
void ArticleStore::Impl::remove_story_key(std::int64_t id, std::uint32_t bucket) {
    const std::optional<textkey::Signature> signature = stored_signature(id);
    if (signature.has_value() && !signature->empty) {
        delete_lsh_rows(id, band_hashes_of(*signature), bucket);
    }
}

// The signature stored for article `id`; nullopt when it has none (too short to sign).
std::optional<textkey::Signature> ArticleStore::Impl::stored_signature(std::int64_t id) {
    ScopedReset guard(signature_of);
    signature_of.bind(1, id);
    if (!signature_of.step()) {
        return std::nullopt;
    }
    const std::vector<std::byte> bytes = signature_of.column_blob(0);
    return textkey::from_bytes(
        std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

void ArticleStore::Impl::store_story_key(const textkey::Signature& signature,
                                         const BandHashes& bands, std::uint32_t bucket,
                                         std::int64_t id) {
    if (id <= 0 || static_cast<std::uint64_t>(id) > kIdBits) {
        throw StorageError(
            storage_message(db.path(), "article id out of the LSH key range", std::to_string(id)));
    }
    if (signature.empty) {
        ScopedReset guard(delete_signature);
        delete_signature.bind(1, id);
        delete_signature.run();
        return;
    }
    {
        ScopedReset guard(upsert_signature);
        const std::string bytes = textkey::to_bytes(signature);
        upsert_signature.bind(1, id);
        upsert_signature.bind_blob(2, as_bytes(bytes));
        upsert_signature.run();
    }
    for (const std::uint32_t band_hash : bands) {
        pending_lsh_rows.push_back(lsh_base(bucket, band_hash) | id);
    }
    if (!defer_lsh_rows) {
        flush_lsh_rows();
    }
    if (LshCache::Table* table = lsh.find(bucket)) {
        for (const std::uint32_t band_hash : bands) {
            LshCache::add(*table, band_hash, static_cast<std::uint64_t>(id));
        }
    }
}

// Inserts pending_lsh_rows in key order, kBands rows per statement (a last group of fewer
// repeats its last key: OR IGNORE), and empties it.
void ArticleStore::Impl::flush_lsh_rows() {
    if (pending_lsh_rows.empty()) {
        return;
    }
    std::sort(pending_lsh_rows.begin(), pending_lsh_rows.end());
    const std::size_t count = pending_lsh_rows.size();
    for (std::size_t first = 0; first < count; first += textkey::kBands) {
        ScopedReset guard(insert_lsh);
        for (int i = 0; i < textkey::kBands; ++i) {
            const std::size_t at = std::min(first + static_cast<std::size_t>(i), count - 1);
            insert_lsh.bind(i + 1, pending_lsh_rows[at]);
        }
        insert_lsh.run();
    }
    pending_lsh_rows.clear();
}

// Inserts the identity key of `url` for article `id` and records the URL, unless the key
// already names an article (the URL stays with it; a hash shared by two URLs, ~1e-7 over
// millions of URLs, leaves the second unrecorded). True when recorded.
bool ArticleStore::Impl::add_url_key(std::uint64_t key, std::string_view url, std::int64_t id,
                                     std::int64_t now) {
    if (!insert_key(key, id)) {
        return false;
    }
    ScopedReset guard(add_url);
    add_url.bind(1, id);
    add_url.bind(2, url);
    add_url.bind(3, now);
    add_url.run();
    return true;
}

void ArticleStore::Impl::add_id_key(const std::string& id_key, std::int64_t id) {
    insert_key(id_hash(id_key), id);
}

// Inserts identity key `key` for article `id` into identity_recent unless either table has it.
// True when inserted. A key the filter has never seen is not in identity_keys: only
// identity_recent is asked (its unique key), without reading a page of the large table.
bool ArticleStore::Impl::insert_key(std::uint64_t key, std::int64_t id) {
    Statement& insert =
        key_filter.has_value() && !key_filter->may_contain(key) ? add_new_key : add_key;
    ScopedReset guard(insert);
    insert.bind(1, std::bit_cast<std::int64_t>(key));
    insert.bind(2, id);
    insert.run();
    if (sqlite3_changes(db.handle()) == 0) {
        return false;
    }
    ++recent_keys;
    return true;
}

// Deletes identity key `key` of article `id` from whichever table holds it.
void ArticleStore::Impl::delete_key(std::uint64_t key, std::int64_t id) {
    for (Statement* del : {&delete_recent_key, &delete_merged_key}) {
        ScopedReset guard(*del);
        del->bind(1, std::bit_cast<std::int64_t>(key));
        del->bind(2, id);
        del->run();
        if (del == &delete_recent_key && sqlite3_changes(db.handle()) != 0) {
            --recent_keys;
            return;
        }
    }
}

// Moves identity_recent into identity_keys (key order: each page of identity_keys is written
// once for all the keys it receives). No key is in both, so nothing conflicts.
// The filter of identity_keys follows in the same transaction.
void ArticleStore::Impl::merge_identity_keys() {
    std::vector<std::uint64_t> moved;
    if (key_filter.has_value()) {
        moved.reserve(static_cast<std::size_t>(recent_keys));
        ScopedReset guard(recent_key_list);
        while (recent_key_list.step()) {
            moved.push_back(std::bit_cast<std::uint64_t>(recent_key_list.column_int64(0)));
        }
    }
    {
        ScopedReset guard(merge_recent_keys);
        merge_recent_keys.run();
    }
    {
        ScopedReset guard(clear_recent_keys);
        clear_recent_keys.run();
    }
    recent_keys = 0;
    write_key_filter(moved);
}

// Loads the stored filter of identity_keys unless the one in memory is of the same generation.
// A row that does not decode counts as none: the next merge writes a new one.
void ArticleStore::Impl::read_key_filter() {
    {
        ScopedReset guard(filter_generation);
        const std::optional<std::int64_t> generation = first_id(filter_generation);
        if (generation.has_value() && *generation == key_filter_generation &&
            key_filter.has_value()) {
            return;
        }
    }
    key_filter.reset();
    key_filter_generation = -1;
    ScopedReset guard(filter_row);
    if (!filter_row.step()) {
        return;
    }
    const std::int64_t keys = filter_row.column_int64(1);
    const std::int64_t capacity = filter_row.column_int64(2);
    if (keys < 0 || capacity < 0) {
        return;
    }
    key_filter =
        IdentityFilter::from_bytes(filter_row.column_blob_view(3), static_cast<std::size_t>(keys),
                                   static_cast<std::size_t>(capacity));
    if (key_filter.has_value()) {
        key_filter_generation = filter_row.column_int64(0);
    }
}

// Writes the filter after a merge: the filter in memory plus the keys `moved` into identity_keys
// while it has room for them, else a new one twice the size of identity_keys, built from all of
// its keys (also when there was none: a new file's first merge, or a file from version 10).
void ArticleStore::Impl::write_key_filter(const std::vector<std::uint64_t>& moved) {
    if (key_filter.has_value() && key_filter->keys() + moved.size() <= key_filter->capacity()) {
        for (const std::uint64_t key : moved) {
            key_filter->add(key);
        }
    } else {
        std::int64_t count = 0;
        {
            ScopedReset guard(count_merged_keys);
            count = first_id(count_merged_keys).value_or(0);
        }
        key_filter.emplace(
            std::max(options.identity_filter_min_keys, 2 * static_cast<std::size_t>(count)));
        ScopedReset guard(merged_key_list);
        while (merged_key_list.step()) {
            key_filter->add(std::bit_cast<std::uint64_t>(merged_key_list.column_int64(0)));
        }
    }
    ScopedReset guard(put_filter);
    put_filter.bind(1, static_cast<std::int64_t>(key_filter->keys()));
    put_filter.bind(2, static_cast<std::int64_t>(key_filter->capacity()));
    put_filter.bind_static_blob(3, key_filter->bytes());
    key_filter_generation = first_id(put_filter).value_or(-1);
}

// After a rollback or a change the caches did not follow: the LSH cache, the count of
// identity_recent and the key filter are read again by the next batch.
void ArticleStore::Impl::forget_caches() {
    lsh.clear();
    pending_lsh_rows.clear();
    seen_data_version = -1;
    key_filter.reset();
    key_filter_generation = -1;
}

// Records the URLs of `article` for record `id` (tombstoned URLs excepted) and takes them out
// of the frontier.
void ArticleStore::Impl::add_identity(const PreparedArticle& article, std::int64_t id,
                                      std::int64_t now) {
    for (std::size_t i = 0; i < article.url_keys.size(); ++i) {
        const std::string& url = article.identity_urls[i];
        if (has_tombstones) {
            ScopedReset guard(url_tombstoned);
            url_tombstoned.bind(1, url);
            if (first_id(url_tombstoned).has_value()) {
                continue;
            }
        }
        add_url_key(article.url_keys[i], url, id, now);
        if (has_frontier) {
            ScopedReset guard(leave_frontier);
            leave_frontier.bind(1, url);
            leave_frontier.run();
        }
    }
}

// Computes the identity keys of rows migrated from schema version 4, in batches of one
// transaction each (an interrupted run resumes where it stopped).
void ArticleStore::Impl::key_unkeyed() {
    if (db.query_int("SELECT EXISTS (SELECT 1 FROM unkeyed_articles)") == 0) {
        return;
    }
    for (;;) {
        Transaction tx(db);
        struct Row {
            std::int64_t id;
            std::string canonical_url;
            std::string id_key;
            std::int64_t first_seen;
        };
        std::vector<Row> rows;
        {
            ScopedReset guard(unkeyed_batch);
            while (unkeyed_batch.step()) {
                rows.push_back(Row{unkeyed_batch.column_int64(0), unkeyed_batch.column_text(1),
                                   unkeyed_batch.column_text(2), unkeyed_batch.column_int64(3)});
            }
        }
        if (rows.empty()) {
            return;
        }
        for (const Row& row : rows) {
            // The canonical URL first (it was found before aliases), then the site ID.
            insert_key(url_hash(row.canonical_url), row.id);
            {
                ScopedReset guard(add_url);
                add_url.bind(1, row.id);
                add_url.bind(2, row.canonical_url);
                add_url.bind(3, row.first_seen);
                add_url.run();
            }
            if (!row.id_key.empty()) {
                add_id_key(row.id_key, row.id);
            }
            std::vector<std::string> urls;
            {
                ScopedReset guard(urls_of);
                urls_of.bind(1, row.id);
                while (urls_of.step()) {
                    urls.push_back(urls_of.column_text(0));
                }
            }
            for (const std::string& url : urls) {
                insert_key(url_hash(url), row.id);
            }
            ScopedReset guard(mark_keyed);
            mark_keyed.bind(1, row.id);
            mark_keyed.run();
        }
        tx.commit();
    }
}

// Computes the signatures and clusters of rows migrated from earlier versions, oldest first,
// in batches of one transaction each (an interrupted run resumes where it stopped).
void ArticleStore::Impl::sign_unsigned() {
    // Checked outside a transaction first: opening an up-to-date file takes no write lock.
    if (db.query_int("SELECT EXISTS (SELECT 1 FROM unsigned_articles)") == 0) {
        return;
    }
    lsh.clear();
    for (;;) {
        Transaction tx(db);
        struct Unsigned {
            std::int64_t id = 0;
            Article article;
            bool recluster = true;
            std::int64_t story_seconds = 0;
        };
        std::vector<Unsigned> batch;
        {
            ScopedReset guard(unsigned_batch);
            while (unsigned_batch.step()) {
                Article article;
                article.title = unsigned_batch.column_text(1);
                article.lead = unsigned_batch.column_text(2);
                article.lead_prefix = unsigned_batch.column_text(3);
                const std::string url = unsigned_batch.column_text(8);
                try {
                    article.body = parse_body(
                        body_and_html(unsigned_batch, 4, -1, 7, db.path(), url).body_json);
                } catch (const json::exception& e) {
                    throw StorageError(storage_message(
                        db.path(), std::string("corrupt JSON column: ") + e.what(), url));
                }
                batch.push_back(Unsigned{.id = unsigned_batch.column_int64(0),
                                         .article = std::move(article),
                                         .recluster = unsigned_batch.column_int64(5) != 0,
                                         .story_seconds = unsigned_batch.column_int64(6)});
            }
        }
        if (batch.empty()) {
            return;  // tx rolls back an empty transaction
        }
        for (const Unsigned& row : batch) {
            const std::int64_t id = row.id;
            const std::uint32_t bucket = time_bucket(row.story_seconds);
            const textkey::Signature signature = textkey::signature(row.article);
            const BandHashes bands = signature.empty ? BandHashes{} : band_hashes_of(signature);
            remove_story_key(id, bucket);
            store_story_key(signature, bands, bucket, id);
            if (row.recluster) {
                // Rows migrated from version 1 have no cluster yet. Re-signed rows (version 4)
                // keep theirs: clusters are kept as assigned.
                const std::vector<Candidate> found = similar(signature, bands, bucket, id, false);
                std::int64_t cluster = id;
                if (!found.empty()) {
                    ScopedReset guard(cluster_of);
                    cluster_of.bind(1, found.front().id);
                    cluster = first_id(cluster_of).value_or(id);
                }
                ScopedReset guard(set_cluster);
                set_cluster.bind(1, id);
                set_cluster.bind(2, cluster);
                set_cluster.run();
            }
            ScopedReset guard(mark_signed);
            mark_signed.bind(1, id);
            mark_signed.run();
        }
        tx.commit();
    }
}

SaveResult ArticleStore::Impl::save_one(const PreparedArticle& prepared, std::int64_t now) {
    const Article& article = prepared.article;
    if (!prepared.valid || article.canonical_url.empty() || article.site.empty()) {
        throw std::invalid_argument("storage: save: an article needs a canonical_url and a site (" +
                                    article.canonical_url + ")");
    }
    std::vector<std::size_t>& claimed = claimed_urls;
    bool claimed_id = false;
    const std::optional<std::int64_t> found = resolve(prepared, next_free_id, claimed, claimed_id);
    if (!found.has_value() && is_tombstoned(article)) {
        unclaim(prepared, next_free_id, claimed, claimed_id);
        return SaveResult::unchanged;  // pruned once: never stored again as new
    }
    // `prepared` outlives the statements' runs below: its text is bound without a copy.
    auto bind_content = [&](Statement& stmt) {
        stmt.bind_static(4, article.id_key);
        stmt.bind_static(5, article.title);
        stmt.bind_static(6, article.author);
        stmt.bind(7, to_unix(article.published));
        stmt.bind(8, to_unix(article.modified));
        stmt.bind_static(9, article.lead);
        stmt.bind_static(10, article.lead_prefix);
        stmt.bind_static(11, article.section);
        stmt.bind_static_blob(12, as_bytes(prepared.packed));
        stmt.bind_static(13, prepared.images_json);
        stmt.bind_static(14, prepared.videos_json);
        stmt.bind(15, prepared.content_hash);
        stmt.bind(16, now);
    };

    if (!found.has_value()) {
        const std::int64_t id = next_free_id++;
        const std::uint32_t bucket = time_bucket(story_time(article.published, now));
        const std::int64_t cluster =
            choose_cluster(prepared.signature, prepared.band_hashes, bucket, id);
        {
            ScopedReset guard(insert_article);
            insert_article.bind(1, id);
            insert_article.bind_static(2, article.canonical_url);
            insert_article.bind_static(3, article.site);
            bind_content(insert_article);
            insert_article.bind(17, cluster);
            insert_article.run();
        }
        store_story_key(prepared.signature, prepared.band_hashes, bucket, id);
        // The URLs whose keys resolve() claimed become the record's (tombstoned ones excepted:
        // their keys go again); a URL whose key another record holds stays with it.
        for (const std::size_t i : claimed) {
            const std::string& url = prepared.identity_urls[i];
            if (has_tombstones) {
                ScopedReset guard(url_tombstoned);
                url_tombstoned.bind(1, url);
                if (first_id(url_tombstoned).has_value()) {
                    delete_key(prepared.url_keys[i], id);
                    continue;
                }
            }
            ScopedReset guard(add_url);
            add_url.bind(1, id);
            add_url.bind_static(2, url);
            add_url.bind(3, now);
            add_url.run();
        }
        if (has_frontier) {
            for (const std::string& url : prepared.identity_urls) {
                ScopedReset guard(leave_frontier);
                leave_frontier.bind(1, url);
                leave_frontier.run();
            }
        }
        return SaveResult::inserted;
    }

    const std::int64_t id = *found;
    std::int64_t stored_hash = 0;
    std::int64_t stored_story = 0;
    std::int64_t first_seen = now;
    bool learns_id_key = false;
    {
        ScopedReset guard(stored_state);
        stored_state.bind(1, id);
        if (stored_state.step()) {
            stored_hash = stored_state.column_int64(0);
            stored_story = stored_state.column_int64(1);
            first_seen = stored_state.column_int64(2);
            learns_id_key = stored_state.column_int64(3) != 0 && !article.id_key.empty();
        }
    }
    const std::uint32_t old_bucket = time_bucket(stored_story);
    SaveResult result = SaveResult::unchanged;
    if (stored_hash != prepared.content_hash && stored_hash == prepared.core_hash) {
        // The record was saved without lead_prefix/section/html (by schema version 1, or by a
        // parser that did not produce them) and only those are new: fill them in, no revision.
        // The body is the same (the core hash says so): the row is packed with the new html
        // (a row of an earlier version is packed now), and its body text in the search index
        // stays what baofeed_body() gives.
        {
            ScopedReset guard(enrich_article);
            enrich_article.bind(1, id);
            enrich_article.bind(2, article.lead_prefix);
            enrich_article.bind(3, article.section);
            enrich_article.bind_static_blob(4, as_bytes(prepared.packed));
            enrich_article.bind(5, prepared.content_hash);
            enrich_article.bind(6, now);
            enrich_article.bind(7, article.id_key);
            enrich_article.run();
        }
        // The lead prefix is not story text: the signature changes.
        remove_story_key(id, old_bucket);
        store_story_key(prepared.signature, prepared.band_hashes, old_bucket, id);
    } else if (stored_hash == prepared.content_hash) {
        ScopedReset guard(touch_article);
        touch_article.bind(1, id);
        touch_article.bind(2, now);
        touch_article.bind(3, article.id_key);
        touch_article.run();
    } else {
        {
            ScopedReset guard(keep_revision);
            keep_revision.bind(1, id);
            keep_revision.bind(2, now);
            keep_revision.run();
        }
        if (id <= indexed_upto) {
            // Indexed: its old text leaves the search index now (a contentless index needs
            // it), unless an earlier change already did; index_pending() adds the new text.
            ScopedReset guard(mark_search_pending);
            mark_search_pending.bind(1, id);
            mark_search_pending.run();
            if (sqlite3_changes(db.handle()) != 0) {
                ScopedReset unindex_guard(unindex_one);
                unindex_one.bind(1, id);
                unindex_one.run();
            }
        }
        const std::uint32_t bucket = time_bucket(story_time(article.published, first_seen));
        remove_story_key(id, old_bucket);
        const std::int64_t cluster =
            choose_cluster(prepared.signature, prepared.band_hashes, bucket, id);
        {
            ScopedReset guard(update_article);
            update_article.bind(1, id);
            bind_content(update_article);
            update_article.bind(17, cluster);
            update_article.run();
        }
        store_story_key(prepared.signature, prepared.band_hashes, bucket, id);
        result = SaveResult::updated;
    }
    if (learns_id_key) {
        add_id_key(article.id_key, id);
    }
    add_identity(prepared, id, now);
    return result;
}

std::size_t ArticleStore::Impl::index_pending() {
    // Checked without the write lock first: a search with nothing to index writes nothing.
    std::int64_t upto = 0;
    {
        ScopedReset guard(get_indexed_upto);
        upto = first_id(get_indexed_upto).value_or(0);
    }
    std::int64_t last = 0;
    {
        ScopedReset guard(max_id);
        last = first_id(max_id).value_or(0);
    }
    bool changed = false;
    {
        ScopedReset guard(any_search_pending);
        changed = first_id(any_search_pending).value_or(0) != 0;
    }
    if (last <= upto && !changed) {
        return 0;
    }
    // Chunks of kIndexChunk articles, one transaction each: the index of a million articles
    // written in one transaction grows the WAL by gigabytes; smaller chunks are slower (each
    // commit flushes and merges FTS5 segments: 10,000 ran at 60% of the speed of one chunk).
    std::size_t indexed = 0;
    for (;;) {
        Transaction tx(db);
        {
            ScopedReset guard(get_indexed_upto);
            upto = first_id(get_indexed_upto).value_or(0);
        }
        {
            ScopedReset guard(index_changed);
            index_changed.bind(1, upto);
            index_changed.run();
            indexed += static_cast<std::size_t>(sqlite3_changes64(db.handle()));
        }
        {
            ScopedReset guard(clear_search_pending);
            clear_search_pending.run();
        }
        std::optional<std::int64_t> chunk_end;
        {
            ScopedReset guard(index_chunk_end);
            index_chunk_end.bind(1, upto);
            chunk_end = first_id(index_chunk_end);
        }
        if (!chunk_end.has_value()) {
            ScopedReset guard(max_id);
            last = first_id(max_id).value_or(0);
        }
        const std::int64_t end = std::max(chunk_end.value_or(last), upto);
        {
            ScopedReset guard(index_new);
            index_new.bind(1, upto);
            index_new.bind(2, end);
            index_new.run();
            indexed += static_cast<std::size_t>(sqlite3_changes64(db.handle()));
        }
        {
            ScopedReset guard(set_indexed_upto);
            set_indexed_upto.bind(1, end);
            set_indexed_upto.run();
        }
        tx.commit();
        if (!chunk_end.has_value()) {
            return indexed;
        }
    }
}

namespace {

// The article's content from 15 consecutive columns starting at `first`: canonical_url, site,
// id_key, title, author, published, modified, lead, lead_prefix, section, body, images, videos,
// html, packed (the order of the articles and article_revisions selects). Throws StorageError
// naming `path` and the article when a JSON column or the packed frame is corrupt.
void read_content(Statement& rows, int first, const std::string& path, Article& article) {
    article.canonical_url = rows.column_text(first);
    article.site = rows.column_text(first + 1);
    article.id_key = rows.column_text(first + 2);
    article.title = rows.column_text(first + 3);
    article.author = rows.column_text(first + 4);
    article.published = from_unix(rows.column_optional_int64(first + 5));
    article.modified = from_unix(rows.column_optional_int64(first + 6));
    article.lead = rows.column_text(first + 7);
    article.lead_prefix = rows.column_text(first + 8);
    article.section = rows.column_text(first + 9);
    UnpackedContent content =
        body_and_html(rows, first + 10, first + 13, first + 14, path, article.canonical_url);
    try {
        article.body = parse_body(content.body_json);
        article.images = parse_images(rows.column_text(first + 11));
        article.videos = parse_videos(rows.column_text(first + 12));
    } catch (const json::exception& e) {
        throw StorageError(storage_message(path, std::string("corrupt JSON column: ") + e.what(),
                                           article.canonical_url));
    }
    article.html = std::move(content.html);
}

}  // namespace

StoredArticle ArticleStore::Impl::read_row(Statement& rows) {
    StoredArticle stored;
    Article& article = stored.article;
    const std::int64_t id = rows.column_int64(0);
    read_content(rows, 1, db.path(), article);
    stored.first_seen = from_unix(rows.column_int64(16));
    stored.updated = from_unix(rows.column_int64(17));
    stored.checked = from_unix(rows.column_int64(18));
    stored.cluster = rows.column_int64(19);
    stored.revisions = static_cast<int>(rows.column_int64(20));

    article.urls.push_back(article.canonical_url);
    ScopedReset guard(list_aliases);
    list_aliases.bind(1, id);
    list_aliases.bind(2, article.canonical_url);
    while (list_aliases.step()) {
        article.urls.push_back(list_aliases.column_text(0));
    }
    return stored;
}

std::vector<StoredArticle> ArticleStore::Impl::read_rows(Statement& rows) {
    std::vector<StoredArticle> out;
    while (rows.step()) {
        out.push_back(read_row(rows));
    }
    return out;
}

ArticleStore::ArticleStore(const std::string& path, StoreOptions options)
    : impl_(std::make_unique<Impl>(path, options)) {}

ArticleStore::~ArticleStore() = default;

int ArticleStore::latest_schema_version() {
    return latest_version();
}

int ArticleStore::schema_version() const {
    return user_version(impl_->db);
}

std::int64_t ArticleStore::page_cache_bytes() const {
    const std::int64_t size = impl_->db.query_int("PRAGMA cache_size");
    return size < 0 ? -size * 1024 : size * impl_->page_size;
}

PreparedArticle ArticleStore::prepare(Article article) {
    PreparedArticle prepared;
    prepared.valid = !article.canonical_url.empty() && !article.site.empty();
    auto add_url = [&](const std::string& url) {
        if (url.empty() || std::find(prepared.identity_urls.begin(), prepared.identity_urls.end(),
                                     url) != prepared.identity_urls.end()) {
            return;
        }
        prepared.identity_urls.push_back(url);
        prepared.url_keys.push_back(url_hash(url));
    };
    add_url(article.canonical_url);
    for (const std::string& url : article.urls) {
        add_url(url);
    }
    prepared.id_key_hash = article.id_key.empty() ? 0 : id_hash(article.id_key);
    Content content = serialize(article);
    prepared.packed = pack_content(content.body, article.html);
    prepared.images_json = std::move(content.images);
    prepared.videos_json = std::move(content.videos);
    prepared.content_hash = content.hash;
    prepared.core_hash = content.core_hash;
    prepared.signature = textkey::signature(article);
    if (!prepared.signature.empty) {
        prepared.band_hashes = band_hashes_of(prepared.signature);
    }
    // Queued batches hold body and html once, compressed.
    std::vector<std::string>().swap(article.body);
    std::string().swap(article.html);
    prepared.article = std::move(article);
    return prepared;
}

std::vector<SaveResult> ArticleStore::save(const std::vector<Article>& articles, Timestamp now) {
    std::vector<PreparedArticle> prepared;
    prepared.reserve(articles.size());
    for (const Article& article : articles) {
        prepared.push_back(prepare(article));
    }
    return save(prepared, now);
}

std::vector<SaveResult> ArticleStore::save(const std::vector<PreparedArticle>& articles,
                                           Timestamp now) {
    std::vector<SaveResult> results;
    results.reserve(articles.size());
    const Impl::RoomForABatch room(*impl_);
    Transaction tx(impl_->db);
    try {
        impl_->begin_batch();
        const std::int64_t seconds = to_unix(now);
        {
            const Impl::DeferredLshRows deferred(*impl_);
            for (const PreparedArticle& article : articles) {
                results.push_back(impl_->save_one(article, seconds));
            }
            impl_->flush_lsh_rows();
        }
        tx.commit();
    } catch (...) {
        impl_->forget_caches();  // they may hold rows the rollback removes
        throw;
    }
    return results;
}

void ArticleStore::checkpoint() {
    if (impl_->checkpointer) {
        impl_->checkpointer->checkpoint_now();
    }
}

void ArticleStore::in_transaction(const std::function<void()>& work) {
    try {
        Transaction tx(impl_->db);
        work();
        tx.commit();
    } catch (...) {
        impl_->forget_caches();  // they may hold rows the rollback removes
        throw;
    }
}

std::size_t ArticleStore::index_pending() {
    return impl_->index_pending();
}

bool ArticleStore::knows_url(std::string_view url) const {
    return impl_->owner_of_url(url).has_value();
}

std::vector<StoredArticle> ArticleStore::list(std::optional<std::string_view> site,
                                              std::size_t limit) const {
    Statement& rows = site.has_value() ? impl_->list_site : impl_->list_all;
    ScopedReset guard(rows);
    if (site.has_value()) {
        rows.bind(1, *site);
    }
    rows.bind(2, sql_limit(limit));
    return impl_->read_rows(rows);
}

std::optional<StoredArticle> ArticleStore::find(std::string_view url) const {
    const std::optional<std::int64_t> id = impl_->owner_of_url(url);
    if (!id.has_value()) {
        return std::nullopt;
    }
    Statement& rows = impl_->find_by_id;
    ScopedReset guard(rows);
    rows.bind(1, *id);
    if (!rows.step()) {
        return std::nullopt;
    }
    return impl_->read_row(rows);
}

std::vector<Article> ArticleStore::revisions(std::string_view canonical_url) const {
    const std::optional<std::int64_t> id = impl_->owner_of_url(canonical_url);
    if (!id.has_value()) {
        return {};
    }
    Statement& rows = impl_->list_revisions;
    ScopedReset guard(rows);
    rows.bind(1, *id);
    std::vector<Article> out;
    while (rows.step()) {
        Article article;
        read_content(rows, 0, impl_->db.path(), article);
        article.urls = {article.canonical_url};
        out.push_back(std::move(article));
    }
    return out;
}

std::vector<StoredArticle> ArticleStore::cluster(std::int64_t cluster_id, std::size_t limit) const {
    Statement& rows = impl_->list_cluster;
    ScopedReset guard(rows);
    rows.bind(1, cluster_id);
    rows.bind(2, sql_limit(limit));
    return impl_->read_rows(rows);
}

std::vector<std::string> ArticleStore::near_duplicates(const Article& article,
                                                       std::size_t limit) const {
    std::int64_t self = 0;  // no article has id 0
    std::int64_t story_seconds =
        story_time(article.published, to_unix(std::chrono::time_point_cast<std::chrono::seconds>(
                                          std::chrono::system_clock::now())));
    if (const std::optional<std::int64_t> owner = impl_->owner_of_url(article.canonical_url)) {
        ScopedReset guard(impl_->stored_state);
        impl_->stored_state.bind(1, *owner);
        ScopedReset url_guard(impl_->canonical_url_of);
        impl_->canonical_url_of.bind(1, *owner);
        if (impl_->canonical_url_of.step() &&
            impl_->canonical_url_of.column_text(0) == article.canonical_url) {
            self = *owner;
            if (!article.published.has_value() && impl_->stored_state.step()) {
                story_seconds = impl_->stored_state.column_int64(2);  // its first_seen
            }
        }
    }
    const textkey::Signature signature = textkey::signature(article);
    const BandHashes bands = signature.empty ? BandHashes{} : band_hashes_of(signature);
    const std::vector<Candidate> found =
        impl_->similar(signature, bands, time_bucket(story_seconds), self, false);
    std::vector<std::string> urls;
    Statement& query = impl_->canonical_url_of;
    ScopedReset guard(query);
    for (const Candidate& candidate : found) {
        if (limit != 0 && urls.size() >= limit) {
            break;
        }
        query.reset();
        query.bind(1, candidate.id);
        if (query.step()) {
            urls.push_back(query.column_text(0));
        }
    }
    return urls;
}

std::vector<StoredArticle> ArticleStore::search(std::string_view query,
                                                std::optional<std::string_view> site,
                                                std::size_t limit) const {
    const std::string match = fts_query(query);
    if (match.empty()) {
        return {};
    }
    impl_->index_pending();
    Statement& rows = impl_->search_rows;
    ScopedReset guard(rows);
    rows.bind(1, match);
    if (site.has_value()) {
        rows.bind(2, *site);
    } else {
        rows.bind_null(2);
    }
    rows.bind(3, sql_limit(limit));
    return impl_->read_rows(rows);
}

std::optional<FetchState> ArticleStore::fetch_state(std::string_view url) const {
    Statement& query = impl_->get_fetch_state;
    ScopedReset guard(query);
    query.bind(1, url);
    if (!query.step()) {
        return std::nullopt;
    }
    return FetchState{.url = std::string(url),
                      .etag = query.column_text(0),
                      .last_modified = query.column_text(1),
                      .fetched_at = from_unix(query.column_int64(2)),
                      .status = static_cast<int>(query.column_int64(3))};
}

void ArticleStore::remember_fetch(const FetchState& state) {
    Statement& stmt = impl_->put_fetch_state;
    ScopedReset guard(stmt);
    stmt.bind(1, state.url);
    stmt.bind(2, state.etag);
    stmt.bind(3, state.last_modified);
    stmt.bind(4, to_unix(state.fetched_at));
    stmt.bind(5, std::int64_t{state.status});
    stmt.run();
}

std::optional<CachedRobots> ArticleStore::robots(std::string_view origin) const {
    Statement& query = impl_->get_robots;
    ScopedReset guard(query);
    query.bind(1, origin);
    if (!query.step()) {
        return std::nullopt;
    }
    return CachedRobots{.host = std::string(origin),
                        .body = query.column_text(0),
                        .status = static_cast<int>(query.column_int64(1)),
                        .fetched_at = from_unix(query.column_int64(2)),
                        .expires = from_unix(query.column_int64(3)),
                        .etag = query.column_text(4),
                        .last_modified = query.column_text(5)};
}

void ArticleStore::save_robots(const CachedRobots& robots) {
    Statement& stmt = impl_->put_robots;
    ScopedReset guard(stmt);
    stmt.bind(1, robots.host);
    stmt.bind(2, robots.body);
    stmt.bind(3, std::int64_t{robots.status});
    stmt.bind(4, to_unix(robots.fetched_at));
    stmt.bind(5, to_unix(robots.expires));
    stmt.bind(6, robots.etag);
    stmt.bind(7, robots.last_modified);
    stmt.run();
}

std::size_t ArticleStore::add_to_frontier(const std::vector<FrontierEntry>& entries) {
    std::size_t added = 0;
    Transaction tx(impl_->db);
    Statement& stmt = impl_->add_frontier;
    ScopedReset guard(stmt);
    for (const FrontierEntry& entry : entries) {
        if (entry.url.empty() || impl_->owner_of_url(entry.url).has_value()) {
            continue;
        }
        stmt.reset();
        stmt.bind(1, entry.url);
        stmt.bind(2, entry.site);
        stmt.bind(3, to_unix(entry.discovered));
        stmt.run();
        added += static_cast<std::size_t>(sqlite3_changes(impl_->db.handle()));
    }
    stmt.reset();
    tx.commit();
    return added;
}

std::vector<FrontierEntry> ArticleStore::frontier(std::string_view site, std::size_t limit) const {
    Statement& rows = impl_->list_frontier;
    ScopedReset guard(rows);
    rows.bind(1, site);
    rows.bind(2, sql_limit(limit));
    std::vector<FrontierEntry> out;
    while (rows.step()) {
        out.push_back(FrontierEntry{.site = rows.column_text(0),
                                    .url = rows.column_text(1),
                                    .discovered = from_unix(rows.column_int64(2))});
    }
    return out;
}

void ArticleStore::remove_from_frontier(std::string_view url) {
    Statement& stmt = impl_->leave_frontier;
    ScopedReset guard(stmt);
    stmt.bind(1, url);
    stmt.run();
}

void ArticleStore::save_raw_pages(const std::vector<RawPage>& pages) {
    for (const RawPage& page : pages) {
        check_raw_page(page);
    }
    std::vector<PreparedRawPage> prepared;
    prepared.reserve(pages.size());
    for (const RawPage& page : pages) {
        prepared.push_back(prepare_raw_page(page));
    }
    save_raw_pages(prepared);
}

PreparedRawPage ArticleStore::prepare_raw_page(RawPage page) {
    PreparedRawPage prepared;
    prepared.size = page.html.size();
    prepared.compressed = compress_frame(page.html, "raw page");
    page.html.clear();
    page.html.shrink_to_fit();
    prepared.page = std::move(page);
    return prepared;
}

PreparedRawPage ArticleStore::prepare_raw_page(RawPage page, RawPageCompressor& compressor) {
    PreparedRawPage prepared;
    prepared.size = page.html.size();
    RawPageCompressor::Compressed compressed = compressor.compress(page.site, page.html);
    prepared.compressed = std::move(compressed.frame);
    prepared.dictionary = std::move(compressed.dictionary);
    page.html.clear();
    page.html.shrink_to_fit();
    prepared.page = std::move(page);
    return prepared;
}

void ArticleStore::save_raw_pages(const std::vector<PreparedRawPage>& pages) {
    for (const PreparedRawPage& prepared : pages) {
        check_raw_page(prepared.page);
    }
    Transaction tx(impl_->db);
    // The dictionaries first (the pages' foreign key), each unless it is stored already. No
    // set of stored ids outlives the call: the transaction (or one it is part of) may still
    // roll back, and prune() or another connection may delete unreferenced dictionaries.
    std::set<std::int64_t> dictionaries;
    for (const PreparedRawPage& prepared : pages) {
        const RawPageDictionary* dictionary = prepared.dictionary.get();
        if (dictionary == nullptr || !dictionaries.insert(dictionary->id).second) {
            continue;
        }
        const std::int64_t created = to_unix(dictionary->created);
        std::optional<std::int64_t> stored_created;
        {
            ScopedReset guard(impl_->raw_dictionary_created);
            impl_->raw_dictionary_created.bind(1, dictionary->id);
            stored_created = impl_->first_id(impl_->raw_dictionary_created);
        }
        if (stored_created.has_value()) {
            // Made again from the same bytes (a page identical to an old dictionary's): it is
            // as new as the run that made it, or the next run would find it too old again.
            if (*stored_created < created) {
                Statement& refresh = impl_->refresh_raw_dictionary;
                ScopedReset guard(refresh);
                refresh.bind(1, dictionary->id);
                refresh.bind(2, created);
                refresh.run();
            }
            continue;
        }
        Statement& insert = impl_->insert_raw_dictionary;
        ScopedReset guard(insert);
        insert.bind(1, dictionary->id);
        insert.bind(2, dictionary->site);
        insert.bind(3, created);
        insert.bind_static_blob(4, as_bytes(dictionary->frame));
        insert.run();
    }
    std::set<std::string> replaced;
    for (const PreparedRawPage& prepared : pages) {
        const RawPage& page = prepared.page;
        if (replaced.insert(page.canonical_url).second) {
            Statement& del = impl_->delete_raw_pages;
            ScopedReset guard(del);
            del.bind(1, page.canonical_url);
            del.run();
        }
        Statement& stmt = impl_->insert_raw_page;
        ScopedReset guard(stmt);
        stmt.bind(1, page.canonical_url);
        stmt.bind(2, std::int64_t{page.page});
        stmt.bind(3, page.site);
        stmt.bind(4, page.url);
        stmt.bind(5, to_unix(page.fetched_at));
        stmt.bind(6, static_cast<std::int64_t>(prepared.size));
        stmt.bind_blob(7, as_bytes(prepared.compressed));
        if (prepared.dictionary != nullptr) {
            stmt.bind(8, prepared.dictionary->id);
        }
        stmt.run();
    }
    tx.commit();
}

ZSTD_DCtx* ArticleStore::Impl::raw_decompression_context() {
    if (raw_dctx == nullptr) {
        raw_dctx.reset(ZSTD_createDCtx());
        if (raw_dctx == nullptr) {
            throw StorageError(
                storage_message(db.path(), "zstd: no decompression context", "raw page"));
        }
    }
    return raw_dctx.get();
}

// The digested dictionary `id`, read for the raw page of `url` (named by the errors).
const ZSTD_DDict* ArticleStore::Impl::raw_dictionary(std::int64_t id, const std::string& url) {
    if (auto cached = raw_ddicts.find(id); cached != raw_ddicts.end()) {
        return cached->second.get();
    }
    std::optional<std::string> content;
    {
        ScopedReset guard(get_raw_dictionary);
        get_raw_dictionary.bind(1, id);
        if (!get_raw_dictionary.step()) {
            raw_page_corrupt(db.path(), url,
                             "its dictionary " + std::to_string(id) + " is missing");
        }
        content = decompress_frame(as_text(get_raw_dictionary.column_blob(0)));
    }
    if (!content.has_value() || raw_dictionary_id(*content) != id) {
        raw_page_corrupt(db.path(), url, "its dictionary " + std::to_string(id) + " is corrupt");
    }
    std::unique_ptr<ZSTD_DDict, DDictFree> ddict(
        ZSTD_createDDict(content->data(), content->size()));
    if (ddict == nullptr) {
        raw_page_corrupt(db.path(), url, "zstd cannot digest its dictionary " + std::to_string(id));
    }
    if (raw_ddicts.size() >= kMaxCachedDictionaries) {
        raw_ddicts.clear();
    }
    return raw_ddicts.emplace(id, std::move(ddict)).first->second.get();
}

std::vector<RawPage> ArticleStore::raw_pages(std::string_view canonical_url) const {
    Statement& rows = impl_->list_raw_pages;
    ScopedReset guard(rows);
    rows.bind(1, canonical_url);
    std::vector<RawPage> out;
    while (rows.step()) {
        RawPage page;
        page.canonical_url = rows.column_text(0);
        page.site = rows.column_text(1);
        page.url = rows.column_text(2);
        page.fetched_at = from_unix(rows.column_int64(3));
        page.page = static_cast<int>(rows.column_int64(4));
        const std::optional<std::int64_t> dictionary = rows.column_optional_int64(7);
        const ZSTD_DDict* ddict =
            dictionary.has_value() ? impl_->raw_dictionary(*dictionary, page.url) : nullptr;
        page.html = decompress_text(rows.column_blob(6), rows.column_int64(5), ddict,
                                    impl_->raw_decompression_context(), impl_->db.path(), page.url);
        out.push_back(std::move(page));
    }
    return out;
}

std::optional<RawDictionary> ArticleStore::latest_raw_dictionary(std::string_view site) const {
    Statement& rows = impl_->latest_dictionary;
    ScopedReset guard(rows);
    rows.bind(1, site);
    if (!rows.step()) {
        return std::nullopt;
    }
    RawDictionary out;
    out.id = rows.column_int64(0);
    out.site = std::string(site);
    out.created = from_unix(rows.column_int64(1));
    std::optional<std::string> content = decompress_frame(as_text(rows.column_blob(2)));
    if (!content.has_value() || raw_dictionary_id(*content) != out.id) {
        throw StorageError(storage_message(impl_->db.path(),
                                           "raw dictionary " + std::to_string(out.id) +
                                               " of site " + std::string(site) + " is corrupt",
                                           "raw page"));
    }
    out.content = std::move(*content);
    return out;
}

std::vector<std::string> ArticleStore::raw_page_articles(
    std::optional<std::string_view> site) const {
    Statement& rows = site.has_value() ? impl_->raw_articles_site : impl_->raw_articles_all;
    ScopedReset guard(rows);
    if (site.has_value()) {
        rows.bind(1, *site);
    }
    std::vector<std::string> out;
    while (rows.step()) {
        out.push_back(rows.column_text(0));
    }
    return out;
}

std::vector<StoredArticle> ArticleStore::due_for_revisit(std::string_view site,
                                                         Timestamp published_after,
                                                         Timestamp checked_before,
                                                         std::size_t limit) const {
    Statement& rows = impl_->due_rows;
    ScopedReset guard(rows);
    rows.bind(1, site);
    rows.bind(2, to_unix(published_after));
    rows.bind(3, to_unix(checked_before));
    rows.bind(4, sql_limit(limit));
    return impl_->read_rows(rows);
}

void ArticleStore::mark_checked(std::string_view canonical_url, Timestamp when) {
    const std::optional<std::int64_t> id = impl_->owner_of_url(canonical_url);
    if (!id.has_value()) {
        return;
    }
    Statement& stmt = impl_->set_checked;
    ScopedReset guard(stmt);
    stmt.bind(1, *id);
    stmt.bind(2, to_unix(when));
    stmt.run();
}

PruneResult ArticleStore::prune(Timestamp articles_before, Timestamp raw_before) {
    Database& db = impl_->db;
    PruneResult result;
    Transaction tx(db);
    auto run = [&db](std::string_view sql, std::int64_t when) {
        Statement stmt = db.prepare(sql);
        stmt.bind(1, when);
        stmt.run();
        return static_cast<std::size_t>(sqlite3_changes64(db.handle()));
    };
    const std::int64_t articles_cut = to_unix(articles_before);
    run("INSERT OR IGNORE INTO tombstones (kind, key) SELECT 'url', u.url FROM article_urls u "
        "JOIN articles a ON a.id = u.article_id WHERE a.first_seen < ?1",
        articles_cut);
    run("INSERT OR IGNORE INTO tombstones (kind, key) SELECT 'url', canonical_url FROM articles "
        "WHERE first_seen < ?1",
        articles_cut);
    run("INSERT OR IGNORE INTO tombstones (kind, key) SELECT 'id', id_key FROM articles "
        "WHERE first_seen < ?1 AND id_key <> ''",
        articles_cut);
    run("DELETE FROM raw_pages WHERE canonical_url IN (SELECT u.url FROM article_urls u "
        "JOIN articles a ON a.id = u.article_id WHERE a.first_seen < ?1)",
        articles_cut);
    run("DELETE FROM frontier WHERE url IN (SELECT u.url FROM article_urls u "
        "JOIN articles a ON a.id = u.article_id WHERE a.first_seen < ?1)",
        articles_cut);
    // story_lsh and the identity keys have no foreign key: the rows of the pruned articles go
    // first, recomputed from their signatures, URLs and site IDs.
    struct SignedRow {
        std::int64_t id;
        std::string signature;
        std::int64_t story_seconds;
    };
    std::vector<SignedRow> signed_rows;
    {
        Statement& rows = impl_->pruned_signatures;
        ScopedReset guard(rows);
        rows.bind(1, articles_cut);
        while (rows.step()) {
            const std::vector<std::byte> blob = rows.column_blob(1);
            signed_rows.push_back(
                SignedRow{rows.column_int64(0),
                          std::string(reinterpret_cast<const char*>(blob.data()), blob.size()),
                          rows.column_int64(2)});
        }
    }
    for (const SignedRow& row : signed_rows) {
        const textkey::Signature signature = textkey::from_bytes(row.signature);
        if (!signature.empty) {
            impl_->delete_lsh_rows(row.id, band_hashes_of(signature),
                                   time_bucket(row.story_seconds));
        }
    }
    std::vector<std::pair<std::uint64_t, std::int64_t>> keys;  // (identity key, article id)
    {
        Statement& rows = impl_->pruned_keys;
        ScopedReset guard(rows);
        rows.bind(1, articles_cut);
        while (rows.step()) {
            const std::string id_key = rows.column_text(1);
            if (!id_key.empty()) {
                keys.emplace_back(id_hash(id_key), rows.column_int64(0));
            }
            keys.emplace_back(url_hash(rows.column_text(2)), rows.column_int64(0));
        }
    }
    {
        Statement& rows = impl_->pruned_urls;
        ScopedReset guard(rows);
        rows.bind(1, articles_cut);
        while (rows.step()) {
            keys.emplace_back(url_hash(rows.column_text(1)), rows.column_int64(0));
        }
    }
    for (const auto& [key, id] : keys) {
        impl_->delete_key(key, id);
    }
    // The search index entries of indexed articles (a contentless index needs their text).
    {
        ScopedReset guard(impl_->get_indexed_upto);
        impl_->indexed_upto = impl_->first_id(impl_->get_indexed_upto).value_or(0);
    }
    {
        Statement unindex = db.prepare(
            "INSERT INTO articles_fts (articles_fts, rowid, title, lead, body) SELECT 'delete', "
            "a.id, " +
            fts_values() +
            " FROM articles a WHERE a.first_seen < ?1 AND a.id <= ?2 AND a.id NOT IN "
            "(SELECT article_id FROM search_pending)");
        unindex.bind(1, articles_cut);
        unindex.bind(2, impl_->indexed_upto);
        unindex.run();
    }
    // Foreign keys cascade to article_urls, article_revisions, story_signatures,
    // unsigned_articles, unkeyed_articles and search_pending.
    result.articles = run("DELETE FROM articles WHERE first_seen < ?1", articles_cut);
    result.raw_pages = run("DELETE FROM raw_pages WHERE fetched_at < ?1", to_unix(raw_before));
    result.raw_dictionaries =
        run("DELETE FROM raw_dictionaries AS d WHERE ?1 = ?1 AND NOT EXISTS (SELECT 1 FROM "
            "raw_pages p WHERE p.dictionary = d.id) AND d.id <> (SELECT n.id FROM "
            "raw_dictionaries n WHERE n.site = d.site ORDER BY n.created DESC, n.id DESC LIMIT 1)",
            0);
    result.fetch_states = run("DELETE FROM fetch_states WHERE fetched_at < ?1", articles_cut);
    // Ids above the largest left are given again: they must count as not indexed.
    run("UPDATE search_state SET indexed_upto = "
        "min(indexed_upto, (SELECT coalesce(max(id), 0) FROM articles)) WHERE ?1 = ?1",
        0);
    impl_->forget_caches();
    tx.commit();
    return result;
}

bool ArticleStore::is_tombstoned(std::string_view url) const {
    Statement& query = impl_->url_tombstoned;
    ScopedReset guard(query);
    query.bind(1, url);
    return query.step();
}

}  // namespace baofeed::storage
