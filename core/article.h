// Plain value types shared by every stage. No behaviour, no I/O.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace baofeed {

using Timestamp = std::chrono::sys_seconds;

struct Image {
    std::string src;      // absolute URL
    std::string caption;  // plain text, NFC; "" when the image has none
    friend bool operator==(const Image&, const Image&) = default;
};

struct Video {
    std::string src;  // absolute URL (iframe src or <video>/<source> src)
    std::string poster;
    std::string caption;
    friend bool operator==(const Video&, const Video&) = default;
};

// One extracted article. Text fields are UTF-8 NFC with whitespace collapsed.
struct Article {
    std::string canonical_url;  // identity of the record
    // The site-declared article ID ("baobackan#67975", from the site's article_id_pattern), the
    // strongest identity when set: two URLs with the same id_key are one record. "" when none.
    std::string id_key;
    std::vector<std::string> urls;  // every URL seen for it (includes canonical_url)
    std::string site;               // config name of the site
    std::string title;
    std::string author;  // "" when the page names none
    std::optional<Timestamp> published;
    std::optional<Timestamp> modified;
    std::string lead;               // as printed, including any lead_prefix
    std::string lead_prefix;        // dateline/source prefix at the start of lead ("BBK - "), or ""
    std::string section;            // display name of the section ("Chính trị"), or ""
    std::vector<std::string> body;  // paragraphs in order
    std::vector<Image> images;      // in document order
    std::vector<Video> videos;
    // The body as sanitized HTML for republishing (parsers/sanitize.h): allow-listed tags and
    // attributes only, absolute URLs, no active content. "" when not produced.
    std::string html;
    friend bool operator==(const Article&, const Article&) = default;
};

// CSS selector rules for one site, as written in the config (see README, [sites.rules]).
// An empty string means "not configured".
struct SiteRules {
    std::string title;
    std::string lead;
    std::string body;  // the body container
    std::string author;
    std::string published;       // element whose datetime/content/text is the publish time
    std::string published_text;  // element whose visible text holds "dd/mm/yyyy hh:mm"
    std::string modified;
    std::string caption;              // caption elements; matched near each image
    std::string next_page;            // links to further pages of a split article
    std::vector<std::string> remove;  // junk inside the body, dropped before taking text
    // Regions no rule reads (menus, comments, related links, footers): emptied before the page
    // is parsed, when that cannot change the rest of the tree (parsers::strip_inert). Selectors
    // of a tag, #id and .class only.
    std::vector<std::string> skip;
    std::vector<std::string> image_src_attrs = {"data-src", "data-original",
                                                "data-photo-original-src", "src"};
};

}  // namespace baofeed
