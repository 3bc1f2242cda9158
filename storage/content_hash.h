// The content hash that decides whether a fetched article changed (a new revision) or not:
// `articles.content_hash`. Internal to storage/. Its definition is persisted: changing it makes
// every stored article look changed on its next fetch, so a new definition needs a schema
// migration that rehashes the stored rows (version 8 did, from the JSON-array hash of versions
// 1-7).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace baofeed::storage {

// What content_hashes() reads: the text fields as they are, the list fields as their stored
// JSON (article_store.cpp: the body as a JSON array of strings, images and videos as arrays of
// objects), the times as Unix seconds.
struct HashedFields {
    std::string_view title;
    std::string_view author;
    std::optional<std::int64_t> published;
    std::optional<std::int64_t> modified;
    std::string_view lead;
    std::string_view body_json;
    std::string_view images_json;
    std::string_view videos_json;
    std::string_view lead_prefix;
    std::string_view section;
    std::string_view html;
};

struct ContentHashes {
    std::int64_t hash = 0;
    // The hash without lead_prefix, section and html (fields added in schema version 2):
    // equal to `hash` when those are empty.
    std::int64_t core_hash = 0;
};

// XXH3-64 (seed 0) of the fields in the order of HashedFields, each text as its length (8 bytes,
// little-endian) then its bytes, each time as one byte, 0 (absent) or 1, then the Unix seconds
// (8 bytes, little-endian, two's complement). The core hash stops after videos_json; the hash
// goes on through lead_prefix, section and html when any of them is set, else it is the core
// hash (so a record saved without them can be told from a changed one). Length prefixes keep the
// field boundaries unambiguous without escaping or validating anything. Pure and thread-safe
// (one hash state per thread).
ContentHashes content_hashes(const HashedFields& fields);

}  // namespace baofeed::storage
