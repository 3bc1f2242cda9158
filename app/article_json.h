// The JSON form of an article's extracted fields, shared by `articles`, `search` and `extract`.
#pragma once

#include <nlohmann/json.hpp>

#include "core/article.h"

namespace baofeed::app {

// title, author (null when none), published/modified (ISO 8601 +07:00 or null), lead,
// lead_prefix, section, body, images {src, caption}, videos {src, poster, caption}, html.
// Identity fields (canonical_url, urls, site, ...) are the caller's.
nlohmann::json article_fields_json(const Article& article);

}  // namespace baofeed::app
