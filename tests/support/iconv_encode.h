// Test helper: UTF-8 text re-encoded with glibc iconv, to make pages and feeds in legacy
// charsets. For WINDOWS-1258 glibc encodes like Windows: letters the code page lacks become a
// base letter plus a combining tone mark (e.g. "ệ" -> "ê" + 0xF2). A failure is a test failure.
#pragma once

#include <iconv.h>
#include <memory>
#include <string>

#include <gtest/gtest.h>

namespace baofeed::testing {

inline std::string encode(const std::string& utf8, const char* to) {
    struct Closer {
        void operator()(void* cd) const { iconv_close(static_cast<iconv_t>(cd)); }
    };
    iconv_t raw = iconv_open(to, "UTF-8");
    EXPECT_NE(raw, reinterpret_cast<iconv_t>(-1)) << to;
    std::unique_ptr<void, Closer> cd(raw);
    std::string out(utf8.size() * 4 + 16, '\0');
    char* in = const_cast<char*>(utf8.data());
    std::size_t in_left = utf8.size();
    char* o = out.data();
    std::size_t o_left = out.size();
    EXPECT_NE(iconv(raw, &in, &in_left, &o, &o_left), static_cast<std::size_t>(-1)) << to;
    iconv(raw, nullptr, nullptr, &o, &o_left);
    out.resize(out.size() - o_left);
    return out;
}

}  // namespace baofeed::testing
