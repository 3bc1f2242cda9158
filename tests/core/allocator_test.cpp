#include "core/allocator.h"

#include <string>
#include <string_view>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {

using ::testing::MatchesRegex;
using ::testing::StartsWith;

// BAOFEED_ALLOCATOR_EXPECTED is the build's BAOFEED_ALLOCATOR (tests/core/CMakeLists.txt); this
// test links baofeed_allocator as every program of the build does.
TEST(Allocator, TheProgramsOfABuildRunOnTheAllocatorItWasConfiguredWith) {
    const std::string name = baofeed::allocator_name();
#if defined(BAOFEED_ASAN)
    EXPECT_EQ(name, "AddressSanitizer malloc");
#else
    if (std::string_view(BAOFEED_ALLOCATOR_EXPECTED) == "jemalloc") {
        EXPECT_THAT(name, StartsWith("jemalloc 5."));
    } else {
        EXPECT_THAT(name, MatchesRegex("glibc 2\\.[0-9]+ malloc"));
    }
#endif
}

}  // namespace
