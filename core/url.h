// URL helpers on top of libcurl's URL API (no transfers). Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace baofeed::url {

// Resolves `ref` against the absolute URL `base` (RFC 3986: relative paths, "//host", dot
// segments). Returns nullopt when base is not absolute or the result is not http(s).
std::optional<std::string> resolve(std::string_view base, std::string_view ref);

// The normalised form used as a record key: lower-case scheme and host, no default port,
// no fragment, no tracking parameters (utm_*, fbclid, gclid, zarsrc, ...), remaining query kept
// in order. Returns nullopt for anything that is not an absolute http(s) URL.
std::optional<std::string> canonical(std::string_view url);

// Lower-case host of an absolute URL, "" when there is none.
std::string host(std::string_view url);

}  // namespace baofeed::url
