// RSS 2.0 rendering. Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/article.h"

namespace baofeed::publish {

struct Channel {
    std::string title;
    std::string link;         // the site's home page
    std::string description;
    std::string self_url;     // atom:link rel=self; omitted when empty
    std::string language = "vi";
};

struct FeedEntry {
    Article article;
    Timestamp first_seen;  // pubDate when the article has no published time
};

// RSS 2.0 with content:encoded (full text) and dc:creator. Items in the order given. The output
// depends only on the arguments (no clock): lastBuildDate is the newest item date, so the same
// articles render byte-identical feeds. Text is XML-escaped; characters XML forbids are dropped.
std::string render_rss(const Channel& channel, const std::vector<FeedEntry>& entries);

// The article as HTML for republishing: lead, paragraphs, figures with captions, videos as
// links. Built from plain-text fields and escaped, so it carries no markup from the source page.
std::string render_article_html(const Article& article);

}  // namespace baofeed::publish
