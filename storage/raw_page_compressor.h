// Raw pages compressed against a per-site dictionary (schema version 7). Pages of one site share
// most of their bytes (template, head, styles, scripts): with another page of the site as a zstd
// raw-content dictionary, a page compresses to less than half the size of zstd level 1 alone, in
// less than half the time.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/article.h"

namespace baofeed::storage {

// A site's dictionary as stored (raw_dictionaries): the bytes of one page of the site.
struct RawDictionary {
    std::int64_t id = 0;  // raw_dictionary_id(content)
    std::string site;
    Timestamp created;
    std::string content;  // the page's UTF-8 HTML
};

// A dictionary in use by a RawPageCompressor, as the writer inserts it: immutable, shared by the
// compressor and every page compressed against it (PreparedRawPage::dictionary).
struct RawPageDictionary {
    std::int64_t id = 0;  // raw_dictionary_id() of its bytes
    std::string site;
    Timestamp created;
    std::string frame;  // its bytes as one plain zstd frame: raw_dictionaries.content
};

// The id of a dictionary: XXH3-64 of its bytes with the top bit cleared (a positive SQLite
// integer). Computed on any thread, so naming a dictionary needs no database round trip.
std::int64_t raw_dictionary_id(std::string_view content);

// True when `html` may serve as a dictionary: kMinDictionarySize to kMaxDictionarySize bytes
// (a short page, an error page say, would help little for as long as it stays the site's
// dictionary; a huge one costs its size in memory for every run), and not starting with zstd's
// dictionary magic number (zstd would read it as a trained dictionary instead of raw content).
bool usable_as_raw_dictionary(std::string_view html);
inline constexpr std::size_t kMinDictionarySize = 4 * 1024;
inline constexpr std::size_t kMaxDictionarySize = 1024 * 1024;

// Compresses raw pages against one dictionary per site. Owned by its caller (the crawl, for one
// run): it lives until the last page compressed with it is compressed (the pages themselves keep
// their dictionary alive through PreparedRawPage::dictionary). Thread-safe: compress() and
// adopt() may run on any number of threads at once (a mutex guards the map of sites; the
// compression itself runs outside it).
//
// A site's dictionary is the first one adopted (the newest stored one, seeded at the start of a
// run by ArticleStore::latest_raw_dictionary, unless it is `max_age` old or older), else the
// first page of the site compressed in this run that is usable_as_raw_dictionary (that page is
// compressed against itself, to a few bytes); whichever comes first stays the site's dictionary
// for the compressor's lifetime. So a site gets a new dictionary at most every `max_age` (the
// crawl uses half the raw-page retention) and when it has none.
//
// Resources: per site one zstd digested dictionary (a copy of the page plus level 1 tables: the
// page's size + ~40 KB) and its zstd frame, until the compressor and the pages compressed against
// it are gone; each compressing thread keeps a zstd context (packed_content.h).
class RawPageCompressor {
  public:
    // `now`: the creation time of the dictionaries it makes, and the clock of `max_age`.
    RawPageCompressor(Timestamp now, std::chrono::seconds max_age);
    ~RawPageCompressor();
    RawPageCompressor(const RawPageCompressor&) = delete;
    RawPageCompressor& operator=(const RawPageCompressor&) = delete;

    // Makes `dictionary` its site's dictionary, unless the site has one already, the dictionary
    // was created `max_age` or longer before `now`, its content is not usable_as_raw_dictionary
    // or does not match its id. Returns whether it was adopted. Throws StorageError if zstd
    // fails.
    bool adopt(const RawDictionary& dictionary);

    struct Compressed {
        std::string frame;                                    // one zstd frame (level 1)
        std::shared_ptr<const RawPageDictionary> dictionary;  // null: compressed without one
    };
    // `html` compressed against `site`'s dictionary (made from `html` itself when the site has
    // none and `html` is usable). Throws StorageError if zstd fails.
    Compressed compress(std::string_view site, std::string_view html);

    // The site's dictionary, null when it has none yet.
    std::shared_ptr<const RawPageDictionary> dictionary(std::string_view site) const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace baofeed::storage
