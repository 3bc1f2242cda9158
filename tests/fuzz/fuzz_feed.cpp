// libFuzzer target: feed and sitemap parsing (libxml2 behind parsers/links.h), and link
// discovery in HTML pages. Bad input is a FeedParse/SitemapParse error, never a crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "parsers/links.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    const std::string_view base = "http://fuzz.test/rss/home.rss";
    (void)baofeed::parsers::parse_feed(bytes, base);
    (void)baofeed::parsers::parse_sitemap(bytes, base);
    (void)baofeed::parsers::discover_feeds(bytes, base);
    return 0;
}
