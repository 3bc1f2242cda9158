#include "storage/identity_filter.h"

#include <cstdint>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace baofeed::storage {
namespace {

std::vector<std::uint64_t> random_keys(std::size_t n, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<std::uint64_t> keys(n);
    for (std::uint64_t& key : keys) {
        key = rng();
    }
    return keys;
}

TEST(IdentityFilter, EveryKeyAddedIsMaybePresent) {
    IdentityFilter filter(100'000);
    const std::vector<std::uint64_t> keys = random_keys(100'000, 1);
    for (const std::uint64_t key : keys) {
        filter.add(key);
    }
    for (const std::uint64_t key : keys) {
        ASSERT_TRUE(filter.may_contain(key)) << key;
    }
    EXPECT_EQ(filter.keys(), 100'000U);
    EXPECT_EQ(filter.capacity(), 100'000U);
}

TEST(IdentityFilter, AtCapacityAboutOneKeyIn200NeverAddedIsMaybePresent) {
    IdentityFilter filter(200'000);
    for (const std::uint64_t key : random_keys(200'000, 2)) {
        filter.add(key);
    }
    std::size_t false_positives = 0;
    const std::vector<std::uint64_t> others = random_keys(1'000'000, 3);
    for (const std::uint64_t key : others) {
        false_positives += filter.may_contain(key) ? 1U : 0U;
    }
    const double rate = static_cast<double>(false_positives) / static_cast<double>(others.size());
    EXPECT_LT(rate, 0.008);
    EXPECT_GT(rate, 0.001);  // a filter that says "no" to everything would pass the bound alone
}

TEST(IdentityFilter, AnEmptyFilterHasNoKey) {
    const IdentityFilter filter(0);
    for (const std::uint64_t key : random_keys(1000, 4)) {
        EXPECT_FALSE(filter.may_contain(key));
    }
    EXPECT_EQ(filter.bytes().size(), 32U);  // one block
}

TEST(IdentityFilter, ItsBytesGiveTheSameFilterBack) {
    IdentityFilter filter(5000);
    const std::vector<std::uint64_t> keys = random_keys(5000, 5);
    for (const std::uint64_t key : keys) {
        filter.add(key);
    }
    const std::optional<IdentityFilter> back =
        IdentityFilter::from_bytes(filter.bytes(), filter.keys(), filter.capacity());
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->keys(), 5000U);
    EXPECT_EQ(back->capacity(), 5000U);
    for (const std::uint64_t key : keys) {
        ASSERT_TRUE(back->may_contain(key));
    }
    for (const std::uint64_t key : random_keys(10'000, 6)) {
        ASSERT_EQ(back->may_contain(key), filter.may_contain(key));
    }
}

TEST(IdentityFilter, TheStoredLayoutIsLittleEndianParquetBlocks) {
    // Key 0: block 0; low word 0, so every word gets bit (0 * salt) >> 27 = 0.
    IdentityFilter filter(20);  // 240 bits: one block
    filter.add(0);
    const auto bytes = filter.bytes();
    ASSERT_EQ(bytes.size(), 32U);
    for (std::size_t word = 0; word < 8; ++word) {
        EXPECT_EQ(bytes[word * 4], std::byte{1}) << word;
        EXPECT_EQ(bytes[word * 4 + 1], std::byte{0}) << word;
    }
    // Low word 1: word i gets bit salt[i] >> 27; salt[0] = 0x47b6137b -> bit 8: byte 1 = 0x01.
    IdentityFilter one(20);
    one.add(1);
    EXPECT_EQ(one.bytes()[0], std::byte{0});
    EXPECT_EQ(one.bytes()[1], std::byte{1});
}

TEST(IdentityFilter, BytesThatDoNotMatchTheCapacityAreRefused) {
    const IdentityFilter filter(1000);
    EXPECT_FALSE(IdentityFilter::from_bytes(filter.bytes(), 0, 100'000).has_value());
    EXPECT_FALSE(
        IdentityFilter::from_bytes(filter.bytes().first(filter.bytes().size() - 1), 0, 1000)
            .has_value());
    EXPECT_FALSE(IdentityFilter::from_bytes(filter.bytes(), 0, SIZE_MAX).has_value());
    EXPECT_TRUE(IdentityFilter::from_bytes(filter.bytes(), 0, 1000).has_value());
}

}  // namespace
}  // namespace baofeed::storage
