// The generic (rule-less) extractor: page metadata from JSON-LD / OpenGraph / meta tags, and the
// article body found by content scoring on the Gumbo tree (in the spirit of Readability and
// trafilatura). Pure functions of the tree; thread-safe; every walk is iterative.
#pragma once

#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include <gumbo.h>

#include "core/article.h"

namespace baofeed::parsers {

// What the page declares about itself, every field "" / nullopt when absent. Text is cleaned
// (NFC, whitespace collapsed). Sources in order of trust: JSON-LD (NewsArticle and kin, also
// inside @graph and arrays), then OpenGraph / article:* meta, then plain meta tags.
struct PageMetadata {
    std::string title;   // headline / og:title / twitter:title
    std::string author;  // JSON-LD author name(s) joined by ", ", or meta author
    std::optional<Timestamp> published;
    std::optional<Timestamp> modified;
    std::string section;      // articleSection / article:section
    std::string description;  // og:description / description
    std::string site_name;    // og:site_name / publisher name
};

// `all` is descendants(doc.root()) (every element in document order).
PageMetadata read_metadata(const std::vector<const GumboNode*>& all);

// The body found by content scoring.
struct GenericBody {
    // Elements holding the article body, in document order: the best-scoring container and any
    // sibling merged with it. Empty when the page has no scorable text at all.
    std::vector<const GumboNode*> parts;
    // Elements inside `parts` judged boilerplate (share bars, related boxes, comments, ads,
    // link lists, forms, the headline, hidden elements): skip them when taking text and media.
    std::unordered_set<const GumboNode*> junk;
};

// Finds the article body under `body` (the page's <body>, or the root when there is none).
// `title` (may be "") is the known headline: headings repeating it are junk.
GenericBody find_generic_body(const GumboNode* body, const std::string& title);

// Class/id hint of an element: > 0 for content-like names (article, content, body, entry,
// story, post, text, main), < 0 for boilerplate-like names (comment, related, share, footer,
// sidebar, ads, menu, nav, ...), 0 otherwise.
int class_weight(const GumboNode* element);

}  // namespace baofeed::parsers
