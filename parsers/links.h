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
// about): decoded by charset::to_utf8_xml first, so a BOM, UTF-16 told by its NUL pattern, or
// valid UTF-8 wins over the declaration. Links resolve against base_url. Never reads the network
// (XML_PARSE_NONET, no entity expansion).
FeedParse parse_feed(std::string_view bytes, std::string_view base_url);

// Every <a href> in an HTML page, resolved against base_url (or <base href>), http(s) only,
// fragment dropped, deduplicated, in document order. REQUIRES: html is UTF-8.
std::vector<std::string> page_links(std::string_view html, std::string_view base_url);

// Like page_links, restricted to the elements matched by `selector` (an <a href> itself, or any
// <a href> inside a match): listing pagination ("a.next-page", "div.paging a"). Throws
// css::SelectorError for a bad selector (configs are checked at load time).
std::vector<std::string> selected_links(std::string_view html, std::string_view base_url,
                                        std::string_view selector);

// Feeds a page announces: <link rel="alternate" type="application/rss+xml|atom+xml|feed+json"
// href>, resolved, in document order.
std::vector<std::string> discover_feeds(std::string_view html, std::string_view base_url);

// What a listing page links to, from one parse of it: each list is exactly what the function
// named for it would return on the same page.
struct PageLinks {
    std::vector<std::string> links;     // page_links
    std::vector<std::string> selected;  // selected_links(selector); empty when selector is ""
    std::vector<std::string> feeds;     // discover_feeds; empty unless asked for
};

// page_links, selected_links (when `selector` is not "") and discover_feeds (when `feeds`) of
// one page, parsed once. Throws css::SelectorError for a bad selector, before any parsing.
PageLinks read_page_links(std::string_view html, std::string_view base_url,
                          std::string_view selector, bool feeds);

struct SitemapEntry {
    std::string loc;                     // absolute
    std::optional<Timestamp> lastmod;    // an edit time, never a publish time
    std::optional<Timestamp> published;  // news:publication_date, when present
    std::string title;                   // news:title, when present
};

struct SitemapParse {
    bool ok = false;        // the root is <urlset> or <sitemapindex>
    std::string error;      // why not ok; when ok, a warning: entries after a fault or the cap lost
    bool is_index = false;  // <sitemapindex>: entries are further sitemaps
    std::vector<SitemapEntry> entries;  // <url> or <sitemap> entries in document order
};

// Sitemaps (sitemaps.org urlset and sitemapindex, Google News extension), with libxml2 under the
// same rules as parse_feed. Gzipped sitemaps arrive decompressed from the fetcher when served with
// Content-Encoding; a raw .xml.gz body (magic 1f 8b) is gunzipped here. The protocol's limits
// hold: over 50 MiB (decompressed) is refused (ok == false); reading stops after 50,000 entries
// (ok, with a warning in error). A truncated or malformed document keeps the entries read before
// the fault (ok, with libxml2's message in error). Entries without a usable <loc> are skipped.
// Streams the XML: memory does not grow with the number of entries beyond the result itself.
SitemapParse parse_sitemap(std::string_view bytes, std::string_view base_url);

}  // namespace baofeed::parsers
