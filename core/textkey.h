// Text keys for recognising the same story across sites (syndicated wire copy). Pure;
// thread-safe. The parameters are fixed: signatures are persisted, so changing them needs a
// migration that recomputes every stored signature.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/article.h"

namespace baofeed::textkey {

// Matching form of a text: NFC; look-alikes folded (Ð -> Đ, curly quotes, dashes, ellipsis,
// zero-width characters); Vietnamese tone marks moved to the new placement in open syllables
// only and never after "q" (hoà -> hòa, thuỷ -> thủy, but hoàng, quý unchanged); case folded;
// punctuation dropped; words separated by one space.
std::string normalize(std::string_view text);

inline constexpr int kSignatureSize = 128;  // MinHash values (one-permutation bins)
// LSH: the first kBands * kRows values, in kBands bands of kRows. P(candidate) for similarity s
// is 1 - (1 - s^3)^12: 0.86 at the threshold 0.53, 0.99 at 0.7, 0.012 at 0.1. Chosen with
// cluster_eval_test: 12 x 3, 16 x 3 and 20 x 3 score the same there (recall 0.985, no false
// merge), 16 x 4 misses the third TTXVN copy; 12 x 3 writes a quarter fewer index rows per article
// than 16 x 3 (storage schema version 13; 16 x 3 until then) and a lookup probes a quarter fewer
// buckets.
inline constexpr int kBands = 12;
inline constexpr int kRows = 3;

// Version of the signature format. Stored signatures of another version must be recomputed
// (storage does it in a migration). Version 1: 128 MinHash functions h1 + i * h2 per shingle,
// 32 bands of 4. Version 2: one-permutation hashing with optimal densification (banded 16 x 3,
// then 12 x 3: the values are the same, only the index rows differ).
inline constexpr int kSignatureVersion = 2;

struct Signature {
    std::array<std::uint32_t, kSignatureSize> values{};
    bool empty = true;  // too little text to sign (no shingle)
};

// Weighted MinHash (one-permutation hashing: one hash per shingle, 128 bins, empty bins
// densified) over shingles of 4 consecutive syllables of the article's story text: the
// lead without its lead_prefix and the body paragraphs, normalised; a shingle never spans two
// paragraphs. The title is left out (republishers rewrite headlines). A shingle containing a
// number counts 16 times: copies keep their dates and figures, template notices of different
// days differ mainly in them. Text of Latin, Vietnamese and common punctuation (code points below
// U+2070, no combining mark, valid UTF-8) takes a fast path: per-code-point folding tables and
// a per-thread cache of recent tokens (256 KiB a thread); any other text goes through utf8proc
// for the whole article, with the same result either way. The cost is then about one table
// probe per word plus the shingle hashes, with no allocation after a thread's first call.
Signature signature(const Article& article);

// One LSH bucket key per band; two signatures that share any key are candidates.
std::vector<std::int64_t> band_keys(const Signature& s);

// Estimated Jaccard similarity of the shingle sets (share of equal MinHash values).
double similarity(const Signature& a, const Signature& b);

// The decision rule: candidates whose similarity reaches this are the same story. Chosen on the
// labelled set (tests/core/cluster_eval_test prints the sweep): at 0.53 no distinct pair joins
// (the highest distinct pair scores 0.508) and 4 of 133 same-story pairs are missed pairwise (2
// after clustering); at 0.48 three distinct pairs join.
inline constexpr double kSameStoryThreshold = 0.53;

// Signature <-> bytes for storage (little-endian, kSignatureSize * 4 bytes). An empty signature
// is "" both ways; from_bytes throws std::invalid_argument for any other size.
std::string to_bytes(const Signature& s);
Signature from_bytes(std::string_view bytes);

}  // namespace baofeed::textkey
