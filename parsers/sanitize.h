// Allow-list HTML serializer for republishing article bodies. Pure; thread-safe.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <gumbo.h>

namespace baofeed::parsers {

struct SanitizeOptions {
    // Host names (exact, lower-case, or a suffix starting with ".") whose <iframe> embeds are
    // kept; other iframes are dropped.
    std::vector<std::string> iframe_hosts = {"www.youtube.com",          "youtube.com",
                                             "www.youtube-nocookie.com", "player.vimeo.com",
                                             "www.facebook.com",         ".tv.zing.vn"};
};

// Serializes the children of `container` as clean HTML: only allow-listed tags (p, br, h2-h6
// (h1 becomes h2), ul/ol/li, blockquote, pre, code, b/strong/i/em/u/s/sub/sup/small/mark, a, img,
// figure, figcaption, picture/source(dropped, img kept), table/thead/tbody/tfoot/tr/th/td/caption,
// video(src, poster)/source, iframe (allowed hosts only), hr, span/div unwrapped to their content)
// and attributes (a href/title, img src/alt/width/height, td/th colspan/rowspan, iframe src/width/
// height/allowfullscreen plus a fixed sandbox, video src/poster/width/height plus controls,
// source src/type); every URL resolved against base_url and kept only when http(s) (no
// javascript:, data:, vbscript:, even obfuscated by case, spaces or entities; a link without a
// usable href keeps its text); lazy images take data-src/data-original/data-photo-original-src/
// data-lazy-src over src (a data: src never qualifies), srcset only when there is no src, and a
// <noscript> copy of an image already shown is dropped; no script, style, form controls, meta,
// link, base, object/embed, svg/math, comments, on* or style attributes. Text is escaped, so text
// that looked like markup stays text. Elements left empty (whitespace, &nbsp;, <br> only) are
// dropped, except table cells. Loose inline content at the top level is wrapped in <p>, and the
// boundaries of unwrapped blocks (div, section, ...) end those paragraphs. The output is
// well-formed: balanced, never a block inside p/h2-h6/pre, table parts only in their places, so
// an HTML parser reads back the same structure. `skip` (optional) drops whole subtrees (junk
// selectors, the lead, the byline). Iterative (explicit stack): any depth. REQUIRES: the tree's
// document is alive for the call.
std::string sanitize_html(const GumboNode* container, std::string_view base_url,
                          const std::function<bool(const GumboNode*)>& skip = {},
                          const SanitizeOptions& options = {});

}  // namespace baofeed::parsers
