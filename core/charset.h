// Bytes from the network to UTF-8 NFC. Pure function; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace baofeed::charset {

// Decodes `bytes` to UTF-8 NFC. Policy, first match wins:
//  1. a BOM (UTF-8, UTF-16LE/BE);
//  2. bytes that are already valid UTF-8 pass through (labels lie more often than bytes);
//  3. the charset parameter of `content_type` (the HTTP header);
//  4. <meta charset> / <meta http-equiv content="...charset="> in the first 2048 bytes, or the
//     encoding in an <?xml ...?> declaration;
//  5. windows-1252.
// Legacy code pages go through iconv; windows-1258's combining tone marks are composed by NFC.
// Undecodable bytes become U+FFFD; never throws for bad input.
std::string to_utf8(std::string_view bytes, std::string_view content_type);

// The charset label found by rules 3-4, lower-cased, or "" when none is declared.
std::string declared_charset(std::string_view bytes, std::string_view content_type);

}  // namespace baofeed::charset
