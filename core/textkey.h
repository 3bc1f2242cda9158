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

inline constexpr int kSignatureSize = 128;  // MinHash values
inline constexpr int kBands = 32;           // LSH bands ...
inline constexpr int kRows = 4;             // ... of this many rows (kBands * kRows == size)

struct Signature {
    std::array<std::uint32_t, kSignatureSize> values{};
    bool empty = true;  // too little text to sign (no shingle)
};

// Weighted MinHash over shingles of 4 consecutive syllables of the article's story text: the
// lead without its lead_prefix and the body paragraphs, normalised; a shingle never spans two
// paragraphs. The title is left out (republishers rewrite headlines). A shingle containing a
// number counts 16 times: copies keep their dates and figures, template notices of different
// days differ mainly in them. Reuses per-thread buffers; ~50-100 us for a 1 KB article.
Signature signature(const Article& article);

// One LSH bucket key per band; two signatures that share any key are candidates.
std::vector<std::int64_t> band_keys(const Signature& s);

// Estimated Jaccard similarity of the shingle sets (share of equal MinHash values).
double similarity(const Signature& a, const Signature& b);

// The decision rule: candidates whose similarity reaches this are the same story. Chosen on the
// labelled set (tests/core/cluster_eval_test prints the sweep): at 0.53 no distinct pair joins
// and 9 of 133 same-story pairs are missed pairwise (6 after clustering).
inline constexpr double kSameStoryThreshold = 0.53;

// Signature <-> bytes for storage (little-endian, kSignatureSize * 4 bytes). An empty signature
// is "" both ways; from_bytes throws std::invalid_argument for any other size.
std::string to_bytes(const Signature& s);
Signature from_bytes(std::string_view bytes);

}  // namespace baofeed::textkey
