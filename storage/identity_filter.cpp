#include "storage/identity_filter.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <utility>

namespace baofeed::storage {

namespace {

// The salts of Parquet's split-block Bloom filter.
constexpr std::array<std::uint32_t, 8> kSalt = {0x47b6137bU, 0x44974d91U, 0x8824ad5bU, 0xa2b7289dU,
                                                0x705495c7U, 0x2df1424bU, 0x9efc4947U, 0x5c6bfb31U};

std::uint32_t load_le32(const std::byte* at) {
    std::uint32_t word = 0;
    std::memcpy(&word, at, sizeof word);
    if constexpr (std::endian::native == std::endian::big) {
        word = __builtin_bswap32(word);
    }
    return word;
}

void store_le32(std::byte* at, std::uint32_t word) {
    if constexpr (std::endian::native == std::endian::big) {
        word = __builtin_bswap32(word);
    }
    std::memcpy(at, &word, sizeof word);
}

// The bit the key sets in word `i` of its block.
std::uint32_t bit_of(std::uint32_t low, std::size_t i) {
    return 1U << ((low * kSalt[i]) >> 27U);
}

}  // namespace

std::size_t IdentityFilter::blocks_for(std::size_t capacity) {
    return std::max<std::size_t>(
        1, (capacity * kBitsPerKey + kBlockBytes * 8 - 1) / (kBlockBytes * 8));
}

IdentityFilter::IdentityFilter(std::size_t capacity)
    : bytes_(blocks_for(capacity) * kBlockBytes), capacity_(capacity) {}

const std::byte* IdentityFilter::block_of(std::uint64_t key) const {
    const std::uint64_t blocks = bytes_.size() / kBlockBytes;
    // (high 32 bits x blocks) >> 32: an index below `blocks`, without a division.
    return &bytes_[static_cast<std::size_t>(((key >> 32U) * blocks) >> 32U) * kBlockBytes];
}

std::byte* IdentityFilter::block_of(std::uint64_t key) {
    return const_cast<std::byte*>(std::as_const(*this).block_of(key));
}

void IdentityFilter::add(std::uint64_t key) {
    std::byte* block = block_of(key);
    const auto low = static_cast<std::uint32_t>(key);
    for (std::size_t i = 0; i < kSalt.size(); ++i) {
        store_le32(block + 4 * i, load_le32(block + 4 * i) | bit_of(low, i));
    }
    ++keys_;
}

bool IdentityFilter::may_contain(std::uint64_t key) const {
    const std::byte* block = block_of(key);
    const auto low = static_cast<std::uint32_t>(key);
    bool all = true;
    for (std::size_t i = 0; i < kSalt.size(); ++i) {
        all &= (load_le32(block + 4 * i) & bit_of(low, i)) != 0;
    }
    return all;
}

std::optional<IdentityFilter> IdentityFilter::from_bytes(std::span<const std::byte> bytes,
                                                         std::size_t keys, std::size_t capacity) {
    if (capacity > SIZE_MAX / kBitsPerKey - kBlockBytes * 8 ||
        bytes.size() != blocks_for(capacity) * kBlockBytes) {
        return std::nullopt;
    }
    IdentityFilter filter(capacity);
    std::copy(bytes.begin(), bytes.end(), filter.bytes_.begin());
    filter.keys_ = keys;
    return filter;
}

}  // namespace baofeed::storage
