// A Bloom filter of identity keys (schema version 11: table identity_filter). Internal to
// storage/. The keys are already uniform 64-bit hashes (XXH3 of URLs and site IDs), so the filter
// uses their bits directly.
//
// Layout: a split-block Bloom filter as Parquet specifies it. Blocks of eight 32-bit words,
// little-endian; a key picks a block with its high 32 bits and sets one bit in each word, chosen
// by its low 32 bits times eight odd constants. One block is half a cache line: a lookup reads 32
// bytes. At kBitsPerKey bits per key (at capacity), about 0.5% of the keys never added are
// reported as maybe present (tests/storage/identity_filter_test.cpp measures it).
// A plain value: copy, move; not synchronized.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace baofeed::storage {

class IdentityFilter {
  public:
    static constexpr std::size_t kBitsPerKey = 12;

    // An empty filter sized for `capacity` keys (at least one block).
    explicit IdentityFilter(std::size_t capacity);

    void add(std::uint64_t key);
    // False: `key` was never added. True: it was, or it is one of the rare false positives.
    bool may_contain(std::uint64_t key) const;

    // Keys added so far (every add() counts, a repeated key too) and the number the filter was
    // sized for: past it the false-positive rate grows, and the owner builds a larger one.
    std::size_t keys() const { return keys_; }
    std::size_t capacity() const { return capacity_; }

    // The blocks as stored in the `bits` column (32 bytes each).
    std::span<const std::byte> bytes() const { return bytes_; }
    // The filter whose bytes() are `bytes`, with its key count and capacity; nullopt when the
    // size of `bytes` does not match the capacity (a corrupt row).
    static std::optional<IdentityFilter> from_bytes(std::span<const std::byte> bytes,
                                                    std::size_t keys, std::size_t capacity);

  private:
    static constexpr std::size_t kBlockBytes = 32;
    static std::size_t blocks_for(std::size_t capacity);
    std::byte* block_of(std::uint64_t key);
    const std::byte* block_of(std::uint64_t key) const;

    std::vector<std::byte> bytes_;
    std::size_t keys_ = 0;
    std::size_t capacity_ = 0;
};

}  // namespace baofeed::storage
