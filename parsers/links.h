// Link discovery from feeds (libxml2, never Gumbo) and HTML pages (Gumbo). Pure; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/article.h"

namespace baofeed::parsers {

struct FeedItem {
    std::string link;  // absolute
    std::string title;
    std::optional<Timestamp> published;
};

struct FeedParse {
    bool ok = false;
    std::string error;  // libxml2's message, or "not a feed" for XML of another kind
    std::vector<FeedItem> items;
};

// RSS 2.0, RSS 1.0 (RDF) and Atom. `bytes` may be in any encoding the XML declares (or lies
// about: a UTF-8 BOM or valid UTF-8 wins). Links resolve against base_url. Never reads the network
// (XML_PARSE_NONET, no entity expansion).
FeedParse parse_feed(std::string_view bytes, std::string_view base_url);

// Every <a href> in an HTML page, resolved against base_url (or <base href>), http(s) only,
// fragment dropped, deduplicated, in document order. REQUIRES: html is UTF-8.
std::vector<std::string> page_links(std::string_view html, std::string_view base_url);

}  // namespace baofeed::parsers
