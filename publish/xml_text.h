// Text helpers for writing XML and HTML by hand. Pure functions; thread-safe.
// Exposed (rather than kept file-local in rss.cpp) so tests can check them directly.
#pragma once

#include <string>
#include <string_view>

namespace baofeed::publish {

// `text` with every code point XML 1.0 forbids removed: C0 controls other than tab, LF and CR,
// U+FFFE and U+FFFF. Invalid UTF-8 (stray bytes, overlong forms, encoded surrogates, truncated
// sequences) becomes U+FFFD, so the result is always valid UTF-8 and valid XML character data.
std::string strip_xml_invalid(std::string_view text);

// strip_xml_invalid, then & < > " ' as &amp; &lt; &gt; &quot; &#39;. The result is safe as XML
// or HTML text and inside a double- or single-quoted attribute value.
std::string escape_text(std::string_view text);

// `content` (already valid XML character data) as one or more CDATA sections whose parsed text
// is exactly `content`: every "]]>" is split as "]]]]><![CDATA[>".
std::string wrap_cdata(std::string_view content);

// True when `url` starts with "http://" or "https://" (scheme compared case-insensitively) and
// has something after the scheme. Anything else (javascript:, data:, relative, " http:") is not.
bool is_http_url(std::string_view url);

}  // namespace baofeed::publish
