// RSS 2.0 rendering. Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/article.h"

namespace baofeed::publish {

struct Channel {
    std::string title;
    std::string link;  // the site's home page
    std::string description;
    std::string self_url;  // atom:link rel=self; omitted when empty
    std::string language = "vi";
};

struct FeedEntry {
    Article article;
    Timestamp first_seen;  // pubDate when the article has no published time
};

// RSS 2.0 with content:encoded (full text) and dc:creator. Items in the order given. The output
// depends only on the arguments (no clock): lastBuildDate is the newest item date, so the same
// articles render byte-identical feeds. Text is XML-escaped; characters XML forbids are dropped.
// Per item: pubDate is `published`, else `first_seen`; dc:creator only when there is an author;
// description is the lead (else the first paragraph; omitted when both are empty); guid is the
// canonical URL (isPermaLink="true"); content:encoded is render_article_html in CDATA.
// With no entries there is no lastBuildDate.
std::string render_rss(const Channel& channel, const std::vector<FeedEntry>& entries);

// The article as HTML for republishing: lead, paragraphs, figures with captions, videos as
// links. Built from plain-text fields and escaped, so it carries no markup from the source page.
// Order: <p class="lead">, one <figure> per image (positions in the body are unknown), one <p>
// per non-empty paragraph, one <p><a href>Video</a></p> per video. Image, poster and video URLs
// other than http(s) are skipped.
std::string render_article_html(const Article& article);

}  // namespace baofeed::publish
