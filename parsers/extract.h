// Page -> Article, driven by a site's SiteRules. Pure function of its inputs; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/article.h"

namespace baofeed::parsers {

struct Extraction {
    bool ok = false;
    std::string error;  // why not ok: "no title", "no body", ...
    // Filled: title, author (normalised), published, modified, lead, lead_prefix, section, body,
    // images, videos, html. Not filled:
    // canonical_url, urls, site (the caller knows them).
    Article article;
    // rel=canonical, else og:url, resolved against the page URL; "" if the page declares none.
    std::string declared_canonical;
    // Further pages of a split article (rules.next_page), absolute, in order, excluding page_url.
    std::vector<std::string> next_pages;
    // True when the body came from the generic extractor (no body rule, or the rule found
    // nothing usable).
    bool generic = false;
};

// REQUIRES: html is UTF-8. page_url is the final URL the page was fetched from (after redirects);
// relative links resolve against it, or against <base href> when the page has one.
// Fields whose rule is empty fall back to page metadata: title from og:title / <h1> / <title>,
// published and modified from article:*_time meta, JSON-LD NewsArticle, <time datetime>.
// When rules.body is empty, or matches nothing, or yields no text, the generic extractor
// (content scoring, parsers/generic.h) finds the body; so an all-empty SiteRules{} extracts any
// news page. article.html is the sanitized body (parsers/sanitize.h).
Extraction extract_article(std::string_view html, std::string_view page_url,
                           const SiteRules& rules);

// A byline as printed -> the names it gives, joined by ", ": "Theo TTXVN" and "(Theo TTXVN)" ->
// "TTXVN", "Bài, ảnh, video: Ngọc Anh" -> "Ngọc Anh", "Quang Huy - Minh Đức" -> "Quang Huy, Minh
// Đức". "" for "".
std::string normalize_byline(std::string_view raw);

// Appends the body paragraphs, images and videos of a further page to `into` (split articles);
// images and videos already present (same src) are skipped. The page's author fills `into`'s when
// the first page named none (bylines close the last page).
void append_page(Extraction& into, const Extraction& page);

}  // namespace baofeed::parsers
