// Bytes from the network to UTF-8 NFC. Pure function; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace baofeed::charset {

// Decodes `bytes` to UTF-8 NFC. Policy, first match wins:
//  1. a BOM (UTF-8, UTF-16LE/BE);
//  2. UTF-16LE/BE without a BOM, told by the NUL pattern of its ASCII ("<\0?\0x\0m\0l\0");
//  3. bytes that are already valid UTF-8 pass through (labels lie more often than bytes);
//  4. the charset parameter of `content_type` (the HTTP header);
//  5. <meta charset> / <meta http-equiv content="...charset="> in the first 2048 bytes, or the
//     encoding in an <?xml ...?> declaration;
//  6. windows-1252.
// Labels in 4-5 that the bytes disprove are skipped: UTF-16/32 (the bytes failed rule 2) and
// UTF-8 on bytes with fewer well-formed multi-byte sequences than invalid bytes (a windows-1252
// page under <meta charset=utf-8>). UTF-8 with a few stray bytes keeps its label.
// Legacy code pages go through iconv; windows-1258's combining tone marks are composed by NFC.
// Undecodable bytes become U+FFFD; never throws for bad input.
std::string to_utf8(std::string_view bytes, std::string_view content_type);
// to_utf8 of bytes the caller gives up: when they are UTF-8 in NFC already (no BOM), the result
// is `bytes` itself, not a copy.
std::string to_utf8_moved(std::string bytes, std::string_view content_type);

// An XML document (feed, sitemap) to UTF-8 NFC under the same policy, with the encoding of its
// <?xml ...?> declaration rewritten to "UTF-8" (and white space before the declaration dropped),
// so an XML parser does not decode the result a second time by a label that lied. Parse the
// result as UTF-8. Never throws for bad input.
std::string to_utf8_xml(std::string_view bytes, std::string_view content_type = {});

// The charset label found by rules 3-4, lower-cased, or "" when none is declared.
std::string declared_charset(std::string_view bytes, std::string_view content_type);

}  // namespace baofeed::charset
